"""`classroom init`: each platform's wiring is run locally on a sample submission, step by step.

The install steps are the one thing not run (they fetch the published package); the tool under
test is put on PATH instead, exactly where the install would have put it.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import run_cli
from tests.instructor_kit import HALF, SOLVED, check_gradescope, check_junit, claims, fast_course, make_workspace

TOOL_BIN = Path(sys.executable).parent


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = fast_course(tmp_path)
    monkeypatch.setenv("TINYGRAD_LEARN_COURSE", str(folder))
    return folder


def platform_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{TOOL_BIN}{os.pathsep}{os.environ['PATH']}", **extra}


def init(cli: CliRunner, platform: str, folder: Path) -> None:
    result = run_cli(cli, "classroom", "init", "--platform", platform, str(folder))
    assert result.exit_code == 0, result.output


def test_gradescope_autograder_grades_a_submission_into_results_json(
    course: Path, tmp_path: Path, cli: CliRunner
) -> None:
    init(cli, "gradescope", tmp_path / "teacher")
    root = tmp_path / "autograder"
    with zipfile.ZipFile(tmp_path / "teacher" / "tinygrad-learn-autograder.zip") as archive:
        assert sorted(archive.namelist()) == ["run_autograder", "setup.sh"]  # at the root, as Gradescope needs
        archive.extractall(root / "source")
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert all(mode & stat.S_IXUSR for mode in modes.values())
    assert subprocess.run(["bash", "-n", str(root / "source" / "setup.sh")], check=False).returncode == 0
    make_workspace(root / "submission", HALF, claims("alpha", "beta"))
    (root / "run_autograder").write_bytes((root / "source" / "run_autograder").read_bytes())
    done = subprocess.run(
        ["bash", str(root / "run_autograder")],
        cwd=root,
        env=platform_env(AUTOGRADER_ROOT=str(root)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    check_gradescope(results)
    assert results["score"] == 1 and [test["status"] for test in results["tests"]] == ["passed", "failed"]
    assert "beta" in results["output"]  # the forged claim on beta is named


def test_gradescope_autograder_reports_a_submission_it_cannot_grade(
    course: Path, tmp_path: Path, cli: CliRunner
) -> None:
    init(cli, "gradescope", tmp_path / "teacher")
    root = tmp_path / "autograder"
    with zipfile.ZipFile(tmp_path / "teacher" / "tinygrad-learn-autograder.zip") as archive:
        archive.extractall(root)
    (root / "submission").mkdir()
    (root / "submission" / "notes.txt").write_text("no exercises here")
    done = subprocess.run(
        ["bash", str(root / "run_autograder")], cwd=root, env=platform_env(AUTOGRADER_ROOT=str(root)), check=False
    )
    assert done.returncode == 0
    results = json.loads((root / "results" / "results.json").read_text())
    check_gradescope({"tests": [], **results})
    assert results["score"] == 0 and "could not grade" in results["output"]


def _student_repository(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "student-repo", SOLVED, claims("alpha"))


def _run_script(lines: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = "set -eo pipefail\n" + "\n".join(lines) + "\n"
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def test_github_workflow_steps_grade_the_repository(course: Path, tmp_path: Path, cli: CliRunner) -> None:
    repository = _student_repository(tmp_path)
    init(cli, "github", repository)
    workflow = yaml.safe_load((repository / ".github" / "workflows" / "tinygrad-learn.yml").read_text())
    assert workflow[True] == ["push", "workflow_dispatch"]  # YAML 1.1 reads the key `on` as True
    job = workflow["jobs"]["grade"]
    steps = job["steps"]
    assert any(
        step.get("uses", "").startswith("actions/setup-python") and step["with"]["cache"] == "pip" for step in steps
    )
    publishers = [step for step in steps if "junit" in step.get("uses", "")]
    assert publishers and publishers[0]["with"]["report_paths"] == "tinygrad-learn-junit.xml"
    commands = [step["run"] for step in steps if "run" in step and step.get("id") != "install"]
    summary = tmp_path / "step-summary.md"
    done = _run_script(commands, repository, platform_env(**job["env"], GITHUB_STEP_SUMMARY=str(summary)))
    assert done.returncode == 0, done.stderr
    check_junit((repository / "tinygrad-learn-junit.xml").read_text())
    graded = json.loads((repository / "tinygrad-learn-grade.json").read_text())
    assert graded["students"][0]["passed"] == 2
    assert "Silver" in summary.read_text() and "2/2" in summary.read_text()


def test_gitlab_ci_script_grades_the_repository(course: Path, tmp_path: Path, cli: CliRunner) -> None:
    repository = _student_repository(tmp_path)
    (repository / "exercises" / "mathy.py").write_text(HALF)
    init(cli, "gitlab", repository)
    job = yaml.safe_load((repository / ".gitlab-ci.yml").read_text())["tinygrad-learn-grade"]
    assert job["artifacts"]["reports"]["junit"] == "tinygrad-learn-junit.xml"
    assert job["cache"]["paths"] == [".cache/pip"]
    variables = {key: value.replace("$CI_PROJECT_DIR", str(repository)) for key, value in job["variables"].items()}
    done = _run_script(job["script"], repository, platform_env(**variables))
    assert done.returncode == 0, done.stderr
    root = check_junit((repository / job["artifacts"]["reports"]["junit"]).read_text())
    assert int(root.get("failures", "0")) == 1
    assert "alpha" in (repository / "tinygrad-learn-summary.txt").read_text()


def test_classroom_init_never_overwrites(course: Path, tmp_path: Path, cli: CliRunner) -> None:
    init(cli, "gitlab", tmp_path)
    (tmp_path / ".gitlab-ci.yml").write_text("mine")
    again = run_cli(cli, "classroom", "init", "--platform", "gitlab", str(tmp_path))
    assert again.exit_code == 2 and (tmp_path / ".gitlab-ci.yml").read_text() == "mine"
    unknown = run_cli(cli, "classroom", "init", "--platform", "moodle", str(tmp_path))
    assert unknown.exit_code == 2 and "Traceback" not in unknown.output
