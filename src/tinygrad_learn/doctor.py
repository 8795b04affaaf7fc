"""`doctor`: is everything in place? Python, the packages, the course, the workspace, the progress
file, the terminal's encoding and (optionally) Graphviz, each with a fix when something is off.

Read-only: nothing is created, repaired or moved, not even a damaged progress file.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import TinygradLearnError
from .grading import landlock
from .manifest import Course, load_course
from .paths import Workspace, course_root, find_workspace

MIN_PYTHON = (3, 10)
# (distribution, module to import): PyYAML is imported as yaml.
PACKAGES = (
    ("typer", "typer"),
    ("rich", "rich"),
    ("pytest", "pytest"),
    ("pyyaml", "yaml"),
    ("numpy", "numpy"),
)
SYMBOLS = "✓✗→★·…"


@dataclass(frozen=True)
class Finding:
    """One check: `name` and `fix` are message keys (doctor.<name>, doctor.fix_<fix>) filled from params."""

    name: str
    ok: bool
    required: bool
    detail: str
    """A message key describing what was found."""
    fix: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DoctorReport:
    findings: tuple[Finding, ...]

    @property
    def healthy(self) -> bool:
        return all(finding.ok for finding in self.findings if finding.required)


def examine(workspace_option: Path | None = None, stdout: Any = None) -> DoctorReport:
    findings = [_python(), *_packages()]
    course, course_finding = _course()
    findings.append(course_finding)
    workspace, workspace_finding = _workspace(workspace_option)
    findings.append(workspace_finding)
    if workspace is not None:
        findings.append(_graded_files(workspace, course))
        findings.append(_progress(workspace))
    findings.append(_encoding(stdout if stdout is not None else sys.stdout))
    findings.append(_graphviz())
    findings.append(_sandbox())
    return DoctorReport(tuple(findings))


def _python() -> Finding:
    version = ".".join(map(str, sys.version_info[:3]))
    ok = sys.version_info[:2] >= MIN_PYTHON
    return Finding("python", ok, True, "doctor.python_found", None if ok else "python", {"version": version})


def _packages() -> list[Finding]:
    # Slow to import (it brings in email and zipfile): only `doctor` needs it, not every command.
    from importlib import metadata

    findings = []
    for distribution, module in PACKAGES:
        try:
            importlib.import_module(module)
            version = metadata.version(distribution)
        except (ImportError, metadata.PackageNotFoundError) as error:
            findings.append(
                Finding(
                    "package",
                    False,
                    True,
                    "doctor.package_missing",
                    "package",
                    {"package": distribution, "problem": type(error).__name__},
                )
            )
            continue
        findings.append(
            Finding("package", True, True, "doctor.package_found", None, {"package": distribution, "version": version})
        )
    return findings


def _course() -> tuple[Course | None, Finding]:
    root = course_root()
    try:
        course = load_course(root)
    except TinygradLearnError as error:
        return None, Finding("course", False, True, error.key, "course", {**error.params, "path": str(root)})
    return course, Finding(
        "course", True, True, "doctor.course_found", None, {"count": len(course.checkpoints), "path": str(root)}
    )


def _workspace(option: Path | None) -> tuple[Workspace | None, Finding]:
    try:
        workspace = find_workspace(option)
    except TinygradLearnError as error:
        return None, Finding("workspace", False, True, error.key, "workspace", dict(error.params))
    found = Finding("workspace", True, True, "doctor.workspace_found", None, {"path": str(workspace.root)})
    return workspace, found


def graded_files(course: Course) -> tuple[str, ...]:
    """Every file some checkpoint grades, in course order, each once."""
    names: list[str] = []
    for checkpoint in course.checkpoints:
        names += [name for name in checkpoint.files if name not in names]
    return tuple(names)


def _graded_files(workspace: Workspace, course: Course | None) -> Finding:
    if course is None:
        return Finding("files", False, True, "doctor.files_unknown", "course")
    missing = [name for name in graded_files(course) if not (workspace.exercises / name).is_file()]
    if missing:
        owners = [c.id for c in course.checkpoints if any(name in c.files for name in missing)]
        return Finding(
            "files",
            False,
            True,
            "doctor.files_missing",
            "files",
            {"files": ", ".join(f"exercises/{name}" for name in missing), "id": owners[0]},
        )
    return Finding("files", True, True, "doctor.files_found", None, {"count": len(graded_files(course))})


def _progress(workspace: Workspace) -> Finding:
    from .progress import SCHEMA_VERSION, ProgressStore

    path = workspace.progress_file
    if not path.exists():
        return Finding("progress", True, True, "doctor.progress_absent", None, {"path": str(path)})
    try:
        snapshot = ProgressStore(workspace).inspect()
    except TinygradLearnError as error:
        return Finding(
            "progress",
            False,
            True,
            error.key,
            "progress_newer" if "too_new" in error.key else "progress",
            {**error.params, "path": str(path)},
        )
    except ValueError:
        return Finding("progress", False, True, "doctor.progress_damaged", "progress", {"path": str(path)})
    return Finding(
        "progress",
        True,
        True,
        "doctor.progress_found",
        None,
        {"path": str(path), "schema": SCHEMA_VERSION, "count": len(snapshot.entries)},
    )


def _encoding(stream: Any) -> Finding:
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        SYMBOLS.encode(encoding)
        ok = True
    except (UnicodeEncodeError, LookupError):
        ok = False
    return Finding(
        "encoding",
        ok,
        False,
        "doctor.encoding_utf8" if ok else "doctor.encoding_ascii",
        None if ok else "encoding",
        {"encoding": encoding},
    )


def _graphviz() -> Finding:
    found = shutil.which("dot")
    if found is None:
        return Finding("graphviz", False, False, "doctor.graphviz_missing", "graphviz")
    return Finding("graphviz", True, False, "doctor.graphviz_found", None, {"path": found})


def _sandbox() -> Finding:
    """Which guards confine learner code: the audit hook always, Landlock where the kernel has it."""
    found = landlock.status()
    if found.available:
        return Finding("sandbox", True, False, "doctor.sandbox_landlock", None, {"abi": found.abi})
    return Finding("sandbox", False, False, "doctor.sandbox_fallback", "sandbox", {"reason": found.reason})
