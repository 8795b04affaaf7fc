"""Creating a workspace: pristine exercises and an empty progress file, never over existing work."""

from __future__ import annotations

import shutil
from pathlib import Path

from .errors import TinygradLearnError
from .manifest import Course
from .paths import STATE_DIR_NAME, Workspace
from .progress import ProgressStore


def init_workspace(course: Course, target: Path) -> Workspace:
    folder = target.expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise TinygradLearnError("init.not_a_folder", path=str(folder))
    for existing in ("exercises", STATE_DIR_NAME):
        if (folder / existing).exists():
            raise TinygradLearnError("init.exists", path=str(folder / existing))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(
            course.exercises, folder / "exercises", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        workspace = Workspace(folder)
        ProgressStore(workspace).update(lambda entries: entries)
    except OSError as error:
        raise TinygradLearnError("init.failed", path=str(folder), problem=str(error)) from None
    return workspace
