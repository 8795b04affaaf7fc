"""Shared fixtures: every test gets its own workspace, its own HOME and a clean environment."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import click.testing
import pytest
import typer
from typer.testing import CliRunner

from tinygrad_learn import sandbox
from tinygrad_learn.cli import app
from tinygrad_learn.manifest import Course, load_course
from tinygrad_learn.paths import Workspace, course_root
from tinygrad_learn.runner import available_cores
from tinygrad_learn.sandbox_warm import WarmGrader
from tinygrad_learn.workspace import init_workspace

FIXTURE_COURSE = Path(__file__).parent / "fixture_course"

# The fixture course's suites are course material, run only through the runner.
collect_ignore = ["fixture_course"]
REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: pytest runs without it too
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (pyproject's addopts): one worker more than the cores this process may use. Many
    tests spend seconds waiting (on a wall-clock guard, a lingering thread, a kernel starting) with
    their core idle; the extra worker computes meanwhile. PYTEST_XDIST_AUTO_NUM_WORKERS still wins."""
    import os

    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return available_cores() + 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `long` start first: pytest-xdist hands tests out in this order, and one of them
    handed out last would keep its worker busy while the others sit idle."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No setting of the developer's machine leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("TINYGRAD_LEARN_") or name in {
            "LANG",
            "LC_ALL",
            "LC_MESSAGES",
            "LANGUAGE",
            "NO_COLOR",
            "VISUAL",
            "EDITOR",
        }:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("TINYGRAD_LEARN_WIDTH", "100")
    # The default workspace (~/tinygrad-learn) of a test lies in its own temporary folder.
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def fixture_course(monkeypatch: pytest.MonkeyPatch) -> Course:
    monkeypatch.setenv("TINYGRAD_LEARN_COURSE", str(FIXTURE_COURSE))
    return load_course(FIXTURE_COURSE)


@pytest.fixture
def workspace(fixture_course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A fresh workspace of the fixture course; the tests run inside it."""
    created = init_workspace(fixture_course, tmp_path / "ws")
    monkeypatch.chdir(created.root)
    return created


@pytest.fixture
def solved(workspace: Workspace) -> Workspace:
    shutil.copy(FIXTURE_COURSE / "solutions" / "mathy.py", workspace.exercises / "mathy.py")
    return workspace


@pytest.fixture
def real_course() -> Course:
    return load_course(course_root())


@pytest.fixture
def warm_processes(monkeypatch: pytest.MonkeyPatch) -> list[WarmGrader | None]:
    """Every warm grading process the test starts (None for one that could not start)."""
    started: list[WarmGrader | None] = []
    real_start = sandbox.start_warm

    def recording_start(*args: Any, **kwargs: Any) -> WarmGrader | None:
        started.append(real_start(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(sandbox, "start_warm", recording_start)
    return started


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


def says(output: str, *phrases: str) -> bool:
    """Whether the output holds every phrase, wherever the terminal folded it: a long temporary
    path (longer under pytest-xdist) can push a fold into the middle of a word."""
    unfolded = "".join(output.split())
    return all("".join(phrase.split()) in unfolded for phrase in phrases)


@functools.cache
def _command() -> click.Command:
    """The click command typer builds from the app: built once per test process, as once per
    `tinygrad-learn` process (building it costs more than most commands do)."""
    return typer.main.get_command(app)


def run_cli(runner: CliRunner, *args: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return click.testing.CliRunner.invoke(runner, _command(), list(args), **kwargs)
