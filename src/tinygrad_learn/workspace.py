"""Creating a workspace (pristine exercises, an empty progress file, never over existing work), and
resetting a checkpoint's files to the pristine exercises after backing up the learner's versions.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .errors import TinygradLearnError
from .manifest import Checkpoint, Course
from .paths import STATE_DIR_NAME, Workspace
from .progress import ProgressStore


def init_workspace(course: Course, target: Path) -> Workspace:
    try:
        folder = target.expanduser().resolve()
        if folder.exists() and not folder.is_dir():
            raise TinygradLearnError("init.not_a_folder", path=str(folder))
        for existing in ("exercises", STATE_DIR_NAME):
            if (folder / existing).exists() or (folder / existing).is_symlink():
                raise TinygradLearnError("init.exists", path=str(folder / existing))
    except (OSError, ValueError) as error:  # a path the system refuses: too long, a NUL byte...
        raise TinygradLearnError("init.failed", path=str(target), problem=str(error)) from None
    placed = False
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Copied beside the target first, so an interrupted copy never looks like a workspace.
        staging = Path(tempfile.mkdtemp(prefix=".exercises-", dir=folder))
        try:
            shutil.copytree(
                course.exercises, staging / "exercises", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
            os.rename(staging / "exercises", folder / "exercises")
            placed = True
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        workspace = Workspace(folder)
        ProgressStore(workspace).update(lambda entries: entries)
    except (OSError, TinygradLearnError) as error:
        # Only what this call made goes: both folders were checked to be absent above.
        if placed:
            shutil.rmtree(folder / "exercises", ignore_errors=True)
        shutil.rmtree(folder / STATE_DIR_NAME, ignore_errors=True)
        problem = str(error.params.get("problem", error.key)) if isinstance(error, TinygradLearnError) else str(error)
        raise TinygradLearnError("init.failed", path=str(folder), problem=problem) from None
    return workspace


@dataclass(frozen=True)
class ResetPlan:
    """What `reset` would do: the files it restores, and the other checkpoints that grade each one."""

    checkpoint: Checkpoint
    files: tuple[str, ...]
    shared_with: tuple[str, ...]
    """Other checkpoints that grade at least one of these files: their work in it is reset too."""


@dataclass(frozen=True)
class ResetResult:
    plan: ResetPlan
    backup_dir: Path | None
    """Where the learner's versions were saved; None when there was nothing to save."""
    backed_up: tuple[str, ...]


def plan_reset(course: Course, checkpoint: Checkpoint) -> ResetPlan:
    files = tuple(name for name in checkpoint.files if (course.exercises / name).is_file())
    if not files:
        raise TinygradLearnError("reset.nothing", id=checkpoint.id)
    shared = tuple(
        other.id for other in course.checkpoints if other.id != checkpoint.id and set(other.files) & set(files)
    )
    return ResetPlan(checkpoint, files, shared)


def reset_checkpoint(
    course: Course, workspace: Workspace, plan: ResetPlan, moment: datetime | None = None
) -> ResetResult:
    """Back up the learner's versions of the files, then put the pristine exercises back."""
    stamp = (moment or datetime.now()).strftime("%Y%m%d-%H%M%S")
    backup_dir = workspace.backups_dir / stamp
    counter = 1
    while backup_dir.exists():
        counter += 1
        backup_dir = workspace.backups_dir / f"{stamp}-{counter}"
    backed_up = []
    try:
        for name in plan.files:
            current = workspace.exercises / name
            if current.is_file():
                target = backup_dir / "exercises" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(current, target)
                backed_up.append(name)
        for name in plan.files:
            # Written to a temporary file first, so an interrupted reset never leaves half a file.
            target = workspace.exercises / name
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.reset-tmp")
            shutil.copyfile(course.exercises / name, temporary)
            os.replace(temporary, target)
    except OSError as error:
        raise TinygradLearnError("reset.failed", problem=str(error), backup=str(backup_dir)) from None
    return ResetResult(plan, backup_dir if backed_up else None, tuple(backed_up))
