"""Hints: which levels to show, and remembering which ones the learner has seen."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .errors import TinygradLearnError
from .manifest import Checkpoint, Text
from .paths import Workspace
from .progress import Entry, ProgressStore


@dataclass(frozen=True)
class HintReply:
    checkpoint: Checkpoint
    shown: tuple[tuple[int, Text], ...]
    """(level, text) pairs, level counted from 1."""
    last_level: int

    @property
    def exhausted(self) -> bool:
        return self.shown[-1][0] == self.last_level


def reveal(workspace: Workspace, checkpoint: Checkpoint, level: int | None = None, every: bool = False) -> HintReply:
    """Without a level: the next hint not yet seen (the last one again once all are seen)."""
    last = len(checkpoint.hints)
    if level is not None and not 1 <= level <= last:
        raise TinygradLearnError("hint.bad_level", level=level, last=last, id=checkpoint.id)
    chosen: list[int] = []

    def apply(entries: dict[str, Entry]) -> dict[str, Entry]:
        old = entries.get(checkpoint.id, Entry())
        if every:
            chosen.extend(range(1, last + 1))
        elif level is not None:
            chosen.append(level)
        else:
            unseen = [n for n in range(1, last + 1) if n not in old.hints_used]
            chosen.append(unseen[0] if unseen else last)
        entries[checkpoint.id] = replace(old, hints_used=tuple(sorted(set(old.hints_used) | set(chosen))))
        return entries

    ProgressStore(workspace).update(apply)
    return HintReply(checkpoint, tuple((n, checkpoint.hints[n - 1]) for n in chosen), last)
