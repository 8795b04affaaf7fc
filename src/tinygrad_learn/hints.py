"""Hints and solutions: which hint levels to show, the reference code once a checkpoint has passed
(or when the learner peeks), and remembering what the learner has seen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .errors import TinygradLearnError
from .manifest import Checkpoint, Course, Text
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


@dataclass(frozen=True)
class SolutionPart:
    """A piece of a reference file: one definition a task names, or the whole file."""

    file: str
    code: str
    start_line: int
    name: str
    """The definition shown (`Value.__add__`), or "" for the whole file."""


@dataclass(frozen=True)
class SolutionReply:
    checkpoint: Checkpoint
    parts: tuple[SolutionPart, ...]
    peeked: bool
    """Shown before the checkpoint passed: recorded in the progress file."""


def reveal_solution(course: Course, workspace: Workspace, checkpoint: Checkpoint, peek: bool) -> SolutionReply:
    """A checkpoint's reference code once it has passed; before that only by peeking, which is recorded."""
    if not course.solutions.is_dir():
        # A student build of the course is handed out without solutions/: there is nothing to reveal.
        raise TinygradLearnError("instructor.solutions_withheld", id=checkpoint.id)
    store = ProgressStore(workspace)
    passed = store.read().entry(checkpoint.id).passed
    if not passed and not peek:
        raise TinygradLearnError("solution.locked", id=checkpoint.id)
    parts = solution_parts(course, checkpoint)
    if not parts:
        raise TinygradLearnError("solution.missing", id=checkpoint.id)
    if not passed:

        def apply(entries: dict[str, Entry]) -> dict[str, Entry]:
            entries[checkpoint.id] = replace(entries.get(checkpoint.id, Entry()), peeked=True)
            return entries

        store.update(apply)
    return SolutionReply(checkpoint, parts, not passed)


def solution_parts(course: Course, checkpoint: Checkpoint) -> tuple[SolutionPart, ...]:
    """Per file, the definitions its tasks name (found with ast), or the whole file when none is found."""
    from .sourcemap import definitions, find

    parts: list[SolutionPart] = []
    for name in checkpoint.files:
        path = course.solutions / name
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        label = f"solutions/{name}"
        defs = definitions(source) if name.endswith(".py") and name not in checkpoint.tasks else None
        named = [] if defs is None else [find(defs, task) for task in checkpoint.tasks]
        found = [definition for definition in named if definition is not None]
        if not found:
            parts.append(SolutionPart(label, source.rstrip("\n"), 1, ""))
            continue
        lines = source.splitlines()
        for definition in sorted(set(found), key=lambda d: d.start):
            code = "\n".join(lines[definition.start - 1 : definition.end])
            parts.append(SolutionPart(label, code, definition.start, definition.qualname))
    return tuple(parts)
