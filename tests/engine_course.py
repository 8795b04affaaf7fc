"""A copy of the fixture course that also has the scalar engine, for the commands that run it
(bench, graph) and for gradient diagnostics: exercises/engine.py is the course's stub, and
solutions/engine.py the course's reference engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tinygrad_learn.manifest import load_course
from tinygrad_learn.paths import Workspace
from tinygrad_learn.workspace import init_workspace

from .conftest import FIXTURE_COURSE, REPO_ROOT

REFERENCE_ENGINE = REPO_ROOT / "solutions" / "engine.py"
STUB_ENGINE = REPO_ROOT / "exercises" / "engine.py"


def make_engine_course(target: Path, extra_manifest: str = "", extra_files: dict[str, str] | None = None) -> Path:
    shutil.copytree(FIXTURE_COURSE, target, ignore=shutil.ignore_patterns("__pycache__"))
    for name, text in (extra_files or {}).items():
        (target / name).write_text(text, encoding="utf-8")
    shutil.copy(STUB_ENGINE, target / "exercises" / "engine.py")
    shutil.copy(REFERENCE_ENGINE, target / "solutions" / "engine.py")
    if extra_manifest:
        manifest = target / "checkpoints.yaml"
        text = manifest.read_text(encoding="utf-8")
        manifest.write_text(text.replace("\nmedals:\n", extra_manifest + "\nmedals:\n"), encoding="utf-8")
    return target


def engine_workspace(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    extra_manifest: str = "",
    extra_files: dict[str, str] | None = None,
) -> Workspace:
    """A fresh workspace of the engine course; the test runs inside it."""
    course = make_engine_course(tmp_path / "engine-course", extra_manifest, extra_files)
    monkeypatch.setenv("TINYGRAD_LEARN_COURSE", str(course))
    workspace = init_workspace(load_course(course), tmp_path / "ws")
    monkeypatch.chdir(workspace.root)
    return workspace


def replace_backward(workspace: Workspace, body: str) -> None:
    """Put the reference engine in the workspace with `backward` swapped for `body` (a whole method)."""
    source = REFERENCE_ENGINE.read_text(encoding="utf-8")
    start = source.index("    def backward(self):")
    end = source.index("    def __neg__")
    changed = source[:start] + body + "\n" + source[end:]
    (workspace.exercises / "engine.py").write_text(changed, encoding="utf-8")
