"""What the picture options print: where a chart was written."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..terminal import Terminal


def chart_written(term: Terminal, path: Path) -> None:
    term.path_line(term.t("pictures.written", path=str(path)), "cyan")
