"""Where in the learner's files to look: the line a failed check points at, or the spot still to
write. `check --open`, `hint --open` and watch's `e` key open the editor there."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .checking import CheckReport
from .manifest import Checkpoint
from .paths import Workspace

_STILL_TO_WRITE = re.compile(r"raise NotImplementedError|TODO")


@dataclass(frozen=True)
class Place:
    path: Path
    line: int | None


def failing_place(workspace: Workspace, report: CheckReport) -> Place:
    """The learner's line the first failed check names (the raising line, or the backward code
    of a wrong gradient); else where the checkpoint's work still is."""
    for test in report.result.failed_tests:
        params: dict[str, Any] = (test.failure or {}).get("params") or {}
        candidates = [params.get("where"), *(params.get("backward_at") or [])]
        for where in candidates:
            place = _in_exercises(workspace, where)
            if place is not None:
                return place
    return work_place(workspace, report.checkpoint)


def work_place(workspace: Workspace, checkpoint: Checkpoint) -> Place:
    """The checkpoint's first file, at its first line still to write (`raise NotImplementedError`
    or a TODO) when there is one."""
    path = workspace.exercises / checkpoint.files[0]
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return Place(path, None)
    marker = f"TODO({checkpoint.id})"
    for wanted in (lambda text: marker in text, lambda text: bool(_STILL_TO_WRITE.search(text))):
        for number, text in enumerate(lines, start=1):
            if wanted(text):
                return Place(path, number)
    return Place(path, None)


def _in_exercises(workspace: Workspace, where: Any) -> Place | None:
    """A reported `{file: exercises/engine.py, line: 12}` as a file of this workspace, if it is one."""
    if not isinstance(where, dict) or not isinstance(where.get("file"), str):
        return None
    name = where["file"].replace("\\", "/").removeprefix("exercises/")
    path = (workspace.exercises / name).resolve()
    if not path.is_relative_to(workspace.exercises.resolve()) or not path.is_file():
        return None
    line = where.get("line")
    return Place(path, line if isinstance(line, int) else None)
