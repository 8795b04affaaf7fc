"""The pristine stubs of a course, proven by the course's lock file.

`stubs.lock` (beside checkpoints.yaml) lists the sha256 of every stub in `exercises/`, one
`<sha256>  exercises/<file>` line each, the format `sha256sum -c stubs.lock` checks. `init` and
`reset` copy stubs only through `pristine_stubs`: a stub that differs from its lock (a clone whose
exercises a learner edited before workspaces were separate) is taken from git HEAD when the
course is a git checkout, and refused otherwise, so a learner's answers never become someone's
"fresh" exercises. A course without a lock (a test course) has its files taken as they are.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from .errors import TinygradLearnError
from .manifest import Course

LOCK_NAME = "stubs.lock"


def lock_text(course_root: Path) -> str:
    """The lock of the stubs as they are now in `course_root/exercises` (for course authors)."""
    lines = []
    for path in sorted((course_root / "exercises").rglob("*")):
        relative = path.relative_to(course_root)
        if path.is_file() and "__pycache__" not in relative.parts and path.suffix != ".pyc":
            lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {relative.as_posix()}")
    return "\n".join(lines) + "\n"


def read_lock(course_root: Path) -> dict[str, str] | None:
    """exercises/-relative file name -> sha256, or None when the course has no lock."""
    try:
        text = (course_root / LOCK_NAME).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    locked = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        if name.startswith("exercises/"):
            locked[name.removeprefix("exercises/")] = digest.strip()
    return locked


def pristine_stubs(course: Course) -> dict[str, bytes]:
    """Every stub of the course, exercises/-relative name -> its pristine bytes."""
    locked = read_lock(course.root)
    if locked is None:
        return {
            path.relative_to(course.exercises).as_posix(): path.read_bytes()
            for path in sorted(course.exercises.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        }
    stubs = {}
    for name, digest in locked.items():
        path = course.exercises / name
        data = path.read_bytes() if path.is_file() else None
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            data = _from_git(course.root, f"exercises/{name}")
            if data is None or hashlib.sha256(data).hexdigest() != digest:
                raise TinygradLearnError("init.stub_modified", path=str(path), lock=str(course.root / LOCK_NAME))
        stubs[name] = data
    return stubs


def _from_git(course_root: Path, name: str) -> bytes | None:
    """The file as committed at HEAD, when the course is a git checkout."""
    git = shutil.which("git")
    if git is None or not (course_root / ".git").exists():
        return None
    from .runner import run_program

    result = run_program([git, "-C", str(course_root), "show", f"HEAD:./{name}"], time_limit=30)
    return result.stdout if result.problem is None and result.exit_code == 0 else None
