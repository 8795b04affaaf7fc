"""The one error type the core raises; the CLI turns it into a message and exit code 2."""

from __future__ import annotations

from typing import Any


class TinygradLearnError(Exception):
    """A problem the learner can fix: `key` names the message in the locale files."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(f"{key} {params}")
