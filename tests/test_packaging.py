"""The wheel carries the whole course: a learner without a clone can `init` and `check`."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# Both tests use one wheel: under pytest-xdist they run in the same worker, which builds it once.
pytestmark = pytest.mark.xdist_group("wheel")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(REPO_ROOT),
        ],
        check=True,
        capture_output=True,
    )
    return next(out.glob("tinygrad_learn-*.whl"))


def test_wheel_ships_manifest_exercises_solutions_lessons_suites_and_locales(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "tinygrad_learn/course/checkpoints.yaml",
        "tinygrad_learn/course/exercises/engine.py",
        "tinygrad_learn/course/solutions/engine.py",
        "tinygrad_learn/course/lessons/step1.en.md",
        "tinygrad_learn/course/lessons/step1.ko.md",
        "tinygrad_learn/suites/test_step1.py",
        "tinygrad_learn/grading/pytest.ini",
        "tinygrad_learn/locales/ko.yaml",
    ):
        assert required in names, required
    assert not any("__pycache__" in name for name in names)


def test_installed_wheel_inits_a_workspace_that_can_be_checked(wheel: Path, tmp_path: Path) -> None:
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINYGRAD_LEARN_")}
    env["PYTHONPATH"] = str(unpacked)

    def tool(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tinygrad_learn", *args], cwd=cwd, env=env, capture_output=True, text=True
        )

    imported = subprocess.run(
        [sys.executable, "-c", "import tinygrad_learn; print(tinygrad_learn.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(imported.stdout.strip()).is_relative_to(unpacked)
    created = tool("init", "my course")
    assert created.returncode == 0, created.stderr
    workspace = tmp_path / "my course"
    failing = tool("check", "step1", cwd=workspace)
    assert failing.returncode == 1 and "Not written yet" in failing.stdout
    solution = unpacked / "tinygrad_learn" / "course" / "solutions" / "engine.py"
    (workspace / "exercises" / "engine.py").write_text(solution.read_text(encoding="utf-8"), encoding="utf-8")
    passing = tool("check", "step1", cwd=workspace)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "step1 passed" in passing.stdout
