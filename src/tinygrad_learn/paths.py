"""Every path the tool uses, each with an environment-variable override."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import TinygradLearnError

COURSE_ENV = "TINYGRAD_LEARN_COURSE"
WORKSPACE_ENV = "TINYGRAD_LEARN_WORKSPACE"

MANIFEST_NAME = "checkpoints.yaml"
STATE_DIR_NAME = ".tinygrad-learn"
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


def _is_workspace(folder: Path) -> bool:
    has_marker = (folder / STATE_DIR_NAME).is_dir() or (folder / MANIFEST_NAME).is_file()
    return has_marker and (folder / "exercises").is_dir()


def find_workspace(explicit: Path | None = None, start: Path | None = None) -> Workspace:
    """The workspace named on the command line or in the environment, else the nearest one above."""
    chosen = explicit or (Path(os.environ[WORKSPACE_ENV]) if os.environ.get(WORKSPACE_ENV) else None)
    if chosen is not None:
        try:
            folder = chosen.expanduser().resolve()
            found = (folder / "exercises").is_dir()
        except (OSError, ValueError):  # a path the system refuses outright: too long, a NUL byte
            found = False
            folder = chosen
        if not found:
            raise TinygradLearnError("workspace.not_a_workspace", path=str(folder))
        return Workspace(folder)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_workspace(folder):
            return Workspace(folder)
    raise TinygradLearnError("workspace.not_found", path=str(here))
