"""Every path the tool uses, each with an environment-variable override.

A course (the packaged one, or a clone's top level) and a workspace (made by `init`) are always
different folders: the course holds checkpoints.yaml and the pristine stubs, the workspace the
learner's exercises and the tool's state. Without an explicit workspace, commands use the nearest
workspace at or above the current folder, else the default one, `~/tinygrad-learn`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import TinygradLearnError

COURSE_ENV = "TINYGRAD_LEARN_COURSE"
WORKSPACE_ENV = "TINYGRAD_LEARN_WORKSPACE"

MANIFEST_NAME = "checkpoints.yaml"
STATE_DIR_NAME = ".tinygrad-learn"
DEFAULT_WORKSPACE_NAME = "tinygrad-learn"
PACKAGE_DIR = Path(__file__).resolve().parent
SUITES_DIR = PACKAGE_DIR / "suites"
PYTEST_INI = PACKAGE_DIR / "grading" / "pytest.ini"
LOCALES_DIR = PACKAGE_DIR / "locales"


def course_root() -> Path:
    """Where checkpoints.yaml, exercises/, solutions/ and lessons/ of the course live.

    An installed wheel carries them inside the package; a clone has them at its top level.
    """
    override = os.environ.get(COURSE_ENV)
    if override:
        return Path(override).expanduser().resolve()
    packaged = PACKAGE_DIR / "course"
    if (packaged / MANIFEST_NAME).is_file():
        return packaged
    return PACKAGE_DIR.parents[1]


@dataclass(frozen=True)
class Workspace:
    """A learner's folder: their exercises, and the tool's own state beside them."""

    root: Path

    @property
    def exercises(self) -> Path:
        return self.root / "exercises"

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR_NAME

    @property
    def progress_file(self) -> Path:
        return self.state_dir / "progress.yaml"

    @property
    def backups_dir(self) -> Path:
        return self.state_dir / "backups"

    @property
    def journal_dir(self) -> Path:
        return self.root / "journal"


def default_workspace() -> Path:
    """Where `init` puts a workspace when given no folder, and where commands look last."""
    return Path.home() / DEFAULT_WORKSPACE_NAME


def is_course_source(folder: Path) -> bool:
    """A course (a clone, or the packaged course) holds its manifest: it is never a workspace."""
    return (folder / MANIFEST_NAME).is_file()


def is_workspace(folder: Path) -> bool:
    """A folder made by `init`: exercises/ and the tool's state beside them, and no course manifest."""
    try:
        return (folder / STATE_DIR_NAME).is_dir() and (folder / "exercises").is_dir() and not is_course_source(folder)
    except OSError:
        return False


def find_workspace(explicit: Path | None = None, start: Path | None = None) -> Workspace:
    """The workspace named on the command line, else in the environment, else the nearest one at or
    above the current folder, else the one at the default location."""
    chosen = explicit or (Path(os.environ[WORKSPACE_ENV]) if os.environ.get(WORKSPACE_ENV) else None)
    if chosen is not None:
        try:
            folder = chosen.expanduser().resolve()
            found = (folder / "exercises").is_dir()
            course = is_course_source(folder)
        except (OSError, ValueError):  # a path the system refuses outright: too long, a NUL byte
            found = course = False
            folder = chosen
        if course:
            raise _in_course(folder)
        if not found:
            raise TinygradLearnError("workspace.not_a_workspace", path=str(folder))
        return Workspace(folder)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if is_workspace(folder):
            return Workspace(folder)
    if is_workspace(default_workspace()):
        return Workspace(default_workspace().resolve())
    inside = next((folder for folder in (here, *here.parents) if is_course_source(folder)), None)
    if inside is not None:
        raise _in_course(inside)
    raise TinygradLearnError("workspace.not_found", path=str(here), default=str(default_workspace()))


def _in_course(course: Path) -> TinygradLearnError:
    """Run inside a course source: say so, and where the workspace is or how to make one."""
    if is_workspace(default_workspace()):
        return TinygradLearnError("workspace.in_course", path=str(course), workspace=str(default_workspace()))
    return TinygradLearnError("workspace.in_course_none", path=str(course), default=str(default_workspace()))
