"""Creating a workspace (pristine exercises, an empty progress file, never over existing work, never
in the course itself), and resetting a checkpoint's files to the pristine exercises after backing
up the learner's versions. The pristine bytes always come from `stubs.pristine_stubs`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .errors import TinygradLearnError
from .learnerfiles import copy_exercises, read_learner_file
from .manifest import Checkpoint, Course
from .paths import STATE_DIR_NAME, Workspace, default_workspace, is_course_source, is_workspace
from .progress import ProgressStore
from .stubs import pristine_stubs


@dataclass(frozen=True)
class InitResult:
    workspace: Workspace
    created: bool
    """False when the folder already was a workspace: nothing was changed."""
    carried: int = 0
    """How many of the learner's files `--from` carried over."""


def open_or_init(course: Course, target: Path | None = None, carry_from: Path | None = None) -> InitResult:
    """What `init [DIR] [--from PATH]` does: create a workspace in `target` (the default location
    when None), or say that it already is one."""
    return _create(course, target, carry_from, reopen=True)


def init_workspace(course: Course, target: Path, carry_from: Path | None = None) -> Workspace:
    """Create a workspace in `target` from the pristine stubs; refused over an existing one.
    `carry_from` (an old workspace, or a clone worked in) lays its exercise files and progress
    over the stubs, so no line of earlier work is lost."""
    return _create(course, target, carry_from, reopen=False).workspace


def _create(course: Course, target: Path | None, carry_from: Path | None, reopen: bool) -> InitResult:
    try:
        folder = (target if target is not None else default_workspace()).expanduser().resolve()
        if folder.exists() and not folder.is_dir():
            raise TinygradLearnError("init.not_a_folder", path=str(folder))
        if is_course_source(folder) or folder == course.root.resolve():
            raise TinygradLearnError("init.is_course", path=str(folder), default=str(default_workspace()))
        if reopen and is_workspace(folder) and carry_from is None:
            return InitResult(Workspace(folder), created=False)
        for existing in ("exercises", STATE_DIR_NAME):
            if (folder / existing).exists() or (folder / existing).is_symlink():
                raise TinygradLearnError("init.exists", path=str(folder / existing))
        source = carry_from.expanduser().resolve() if carry_from is not None else None
        if source is not None and not (source / "exercises").is_dir():
            raise TinygradLearnError("init.from_missing", path=str(source))
    except (OSError, ValueError) as error:  # a path the system refuses: too long, a NUL byte...
        raise TinygradLearnError("init.failed", path=str(target), problem=str(error)) from None
    stubs = pristine_stubs(course)
    placed = False
    carried = 0
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Made beside the target first, so an interrupted init never looks like a workspace.
        staging = Path(tempfile.mkdtemp(prefix=".exercises-", dir=folder))
        try:
            for name, data in stubs.items():
                (staging / "exercises" / name).parent.mkdir(parents=True, exist_ok=True)
                (staging / "exercises" / name).write_bytes(data)
            if source is not None:
                carried = copy_exercises(source / "exercises", staging / "exercises")
            os.rename(staging / "exercises", folder / "exercises")
            placed = True
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        workspace = Workspace(folder)
        if source is not None:
            _carry_progress(Workspace(source), workspace)
        ProgressStore(workspace).update(lambda entries: entries)
    except (OSError, TinygradLearnError) as error:
        # Only what this call made goes: both folders were checked to be absent above.
        if placed:
            shutil.rmtree(folder / "exercises", ignore_errors=True)
        shutil.rmtree(folder / STATE_DIR_NAME, ignore_errors=True)
        problem = error.key if isinstance(error, TinygradLearnError) else str(error)
        if isinstance(error, TinygradLearnError) and error.key.startswith(("files.", "progress.")):
            raise
        raise TinygradLearnError("init.failed", path=str(folder), problem=problem) from None
    return InitResult(workspace, created=True, carried=carried)


def _carry_progress(old: Workspace, new: Workspace) -> None:
    """The old progress file, as it is: the store reads (and if need be repairs) it later."""
    data = read_learner_file(old.progress_file, old.root)
    if data is not None:
        new.state_dir.mkdir(parents=True, exist_ok=True)
        new.progress_file.write_bytes(data)


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
    stubs = pristine_stubs(course)
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
            temporary.write_bytes(stubs[name])
            os.replace(temporary, target)
    except OSError as error:
        raise TinygradLearnError("reset.failed", problem=str(error), backup=str(backup_dir)) from None
    return ResetResult(plan, backup_dir if backed_up else None, tuple(backed_up))
