"""What `graph` and `bench` run comes from the manifest: an engine under another name works."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tinygrad_learn.manifest import load_course
from tinygrad_learn.workspace import init_workspace

from .conftest import run_cli
from .engine_course import REFERENCE_ENGINE, STUB_ENGINE, make_engine_course


def course_with_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine_line: str) -> Path:
    """The engine course with its engine renamed to scalar.py / Scalar, and the manifest saying so."""
    course = make_engine_course(tmp_path / "course")
    for folder, source in (("exercises", STUB_ENGINE), ("solutions", REFERENCE_ENGINE)):
        (course / folder / "engine.py").unlink()
        renamed = source.read_text(encoding="utf-8").replace("Value", "Scalar")
        (course / folder / "scalar.py").write_text(renamed, encoding="utf-8")
    manifest = course / "checkpoints.yaml"
    text = manifest.read_text(encoding="utf-8").replace("format_version: 1\n", f"format_version: 2\n{engine_line}\n")
    manifest.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TINYGRAD_LEARN_COURSE", str(course))
    workspace = init_workspace(load_course(course), tmp_path / "ws")
    (workspace.exercises / "scalar.py").write_text((course / "solutions" / "scalar.py").read_text("utf-8"), "utf-8")
    monkeypatch.chdir(workspace.root)
    return course


def test_graph_builds_with_the_engine_the_manifest_names(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course_with_engine(tmp_path, monkeypatch, "engine: {file: scalar.py, value: Scalar}")
    result = run_cli(cli, "graph", "x*y + x", "--at", "x=2,y=3")
    assert result.exit_code == 0, result.output
    assert "d/dx = 4" in result.output and "d/dy = 2" in result.output


def test_a_course_without_an_engine_has_nothing_to_graph_or_bench(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course_with_engine(tmp_path, monkeypatch, "")
    for command in (["graph", "x*2", "--at", "x=1"], ["bench", "--up-to", "1000"]):
        result = run_cli(cli, *command)
        assert result.exit_code == 2, result.output
