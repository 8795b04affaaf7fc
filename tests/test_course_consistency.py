"""The whole course: every checkpoint passes with solutions/ and fails with the untouched stubs.

Run through the real CLI on a workspace made by `init`, exactly as a learner would.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from typer.testing import CliRunner

from tinygrad_learn.manifest import Course
from tinygrad_learn.runner import available_cores, warm_graders
from tinygrad_learn.sandbox_warm import WarmGrader
from tinygrad_learn.workspace import init_workspace

from .conftest import run_cli, says


@pytest.fixture
def course_workspace(real_course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    workspace = init_workspace(real_course, tmp_path / "learner")
    monkeypatch.chdir(workspace.root)
    return workspace.root


def test_exercises_and_solutions_mirror_each_other(real_course: Course) -> None:
    def files(folder: Path) -> set[str]:
        return {str(p.relative_to(folder)) for p in folder.rglob("*.py") if "__pycache__" not in p.parts}

    assert files(real_course.exercises) == files(real_course.solutions)
    for checkpoint in real_course.checkpoints:
        for name in checkpoint.files:
            assert (real_course.exercises / name).is_file(), (checkpoint.id, name)


@pytest.mark.long
def test_every_checkpoint_fails_on_the_stubs_saying_what_to_do(
    real_course: Course, course_workspace: Path, cli: CliRunner
) -> None:
    result = run_cli(cli, "check", "--all", "--json", "--seed", "11")
    assert result.exit_code == 1
    reports = {item["id"]: item for item in json.loads(result.stdout)["results"]}
    assert list(reports) == [c.id for c in real_course.checkpoints]
    for checkpoint_id, report in reports.items():
        assert report["passed"] is False, checkpoint_id
        assert report["problem"] is None, (checkpoint_id, report["problem"])
        messages = [
            test["failure"]["params"].get("message", "")
            for test in report["tests"]
            if test["failure"]
            and test["failure"]["key"] == "exception"
            and test["failure"]["params"]["type"] == "NotImplementedError"
        ]
        assert messages, f"{checkpoint_id}: no failure points at a stub to write"
        assert all(": write " in message for message in messages), checkpoint_id


def check_in(workspace: Path, checkpoint_id: str) -> dict[str, Any]:
    """`tinygrad-learn check <id> --json` in its own process, as a learner's terminal runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_learn", "check", checkpoint_id, "--json"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode in (0, 1), (checkpoint_id, done.returncode, done.stderr[-2000:])
    (report,) = json.loads(done.stdout)["results"]
    return dict(report)


@pytest.mark.long
def test_every_checkpoint_passes_with_the_solutions_and_every_medal_is_earned(
    real_course: Course, course_workspace: Path, cli: CliRunner
) -> None:
    shutil.copytree(real_course.solutions, course_workspace / "exercises", dirs_exist_ok=True)
    # Every checkpoint is graded by the real CLI in a process of its own, as many at a time as
    # there are cores; the progress store takes their results in whatever order they finish.
    ids = [checkpoint.id for checkpoint in real_course.checkpoints]
    with ThreadPoolExecutor(available_cores()) as pool:
        reports = list(pool.map(lambda checkpoint_id: check_in(course_workspace, checkpoint_id), ids))
    assert [report["id"] for report in reports] == ids
    failing = {r["id"]: [t for t in r["tests"] if t["outcome"] != "passed"] for r in reports if not r["passed"]}
    assert failing == {}
    # Every time limit is CPU time with at least 5x head-room over what grading the solution took
    # (the runner's own account of the run, which a busy machine barely changes).
    limits = {checkpoint.id: checkpoint.time_limit for checkpoint in real_course.checkpoints}
    head_room = {r["id"]: (limits[r["id"]], r["cpu_seconds"]) for r in reports}
    assert all(cpu > 0 for _, cpu in head_room.values()), head_room
    assert {name: f for name, f in head_room.items() if f[0] < 5 * f[1]} == {}, head_room
    progress = json.loads(run_cli(cli, "progress", "--json").stdout)
    assert all(medal["earned"] for medal in progress["medals"])
    assert [medal["id"] for medal in progress["medals"]] == [medal.id for medal in real_course.medals]


@dataclass(frozen=True)
class StyleVariant:
    """A correct solution in another style: tests/variants/<name>/ (see its README)."""

    name: str
    folder: Path
    checkpoints: tuple[str, ...]


VARIANTS_FOLDER = Path(__file__).parent / "variants"


def style_variants() -> list[StyleVariant]:
    variants = []
    for folder in sorted(path for path in VARIANTS_FOLDER.iterdir() if (path / "variant.yaml").is_file()):
        manifest = yaml.safe_load((folder / "variant.yaml").read_text(encoding="utf-8"))
        variants.append(StyleVariant(folder.name, folder, tuple(manifest["checkpoints"])))
    return variants


def exercises_of(variant: StyleVariant | None, course: Course, into: Path) -> Path:
    """solutions/ with the variant's files laid over it (or solutions/ itself)."""
    if variant is None:
        return course.solutions
    folder = into / variant.name
    if not folder.exists():
        shutil.copytree(course.solutions, folder, ignore=shutil.ignore_patterns("__pycache__"))
        for source in variant.folder.glob("*.py"):
            shutil.copyfile(source, folder / source.name)
    return folder


def grade(
    course: Course, exercises: Path, checkpoint_id: str, seed: int, warm: WarmGrader | None = None
) -> list[tuple[str, Any]]:
    """The failed tests (name and failure) of one real grading run; empty when it passed."""
    from tinygrad_learn.runner import run_suite

    checkpoint = course.get(checkpoint_id)
    limit = max(checkpoint.time_limit, 60.0)
    result = run_suite(
        checkpoint.suite_path,
        exercises,
        course.solutions,
        seed=seed,
        time_limit=limit,
        policy=course.allowed_imports,
        warm=warm,
    )
    return [] if result.passed else [(test.name, test.failure) for test in result.failed_tests] or [result.problem]


Run = TypeVar("Run")
Found = TypeVar("Found")


def graded_side_by_side(
    course: Course, runs: list[Run], grade_one: Callable[[Run, WarmGrader | None], Found]
) -> list[Found]:
    """`grade_one` over the runs on every core, each thread forking its runs from a warm grading
    process of its own, as `check --all` does (the same verdicts as a cold run: tests/test_warm.py),
    so the many runs here do not each start Python, pytest and numpy."""
    workers = max(1, min(len(runs), available_cores()))
    with (
        warm_graders(course.exercises, course.solutions, len(runs), workers) as warm,
        ThreadPoolExecutor(workers) as pool,
    ):
        return list(pool.map(lambda run: grade_one(run, warm()), runs))


def test_the_variants_cover_every_style_the_lessons_allow(real_course: Course) -> None:
    variants = {variant.name: variant for variant in style_variants()}
    engines = {"set_prev", "micrograd", "method_backward", "int_grads", "tensor_set_prev"}
    initialisations_and_losses = {"gauss_init", "he_init", "normal_init", "mean_loss"}
    assert engines | initialisations_and_losses <= set(variants)
    ids = {checkpoint.id for checkpoint in real_course.checkpoints}
    for variant in variants.values():
        assert variant.checkpoints and set(variant.checkpoints) <= ids, variant.name
        for source in variant.folder.glob("*.py"):
            assert (real_course.solutions / source.name).is_file(), (variant.name, source.name)
            assert source.read_text(encoding="utf-8") != (real_course.solutions / source.name).read_text(
                encoding="utf-8"
            ), (variant.name, source.name)


@pytest.mark.long
def test_every_style_variant_passes_every_checkpoint_it_covers(real_course: Course, tmp_path: Path) -> None:
    runs = [(variant, checkpoint_id) for variant in style_variants() for checkpoint_id in variant.checkpoints]
    folders = {variant.name: exercises_of(variant, real_course, tmp_path) for variant, _ in runs}

    def refusals(run: tuple[StyleVariant, str], warm: WarmGrader | None) -> tuple[str, str, list[tuple[str, Any]]]:
        variant, checkpoint_id = run
        return variant.name, checkpoint_id, grade(real_course, folders[variant.name], checkpoint_id, 11, warm)

    refused = [found for found in graded_side_by_side(real_course, runs, refusals) if found[2]]
    assert refused == []


# Seeds once seen to refuse a correct engine, each kept so the refusal can never come back:
# (variant or None for solutions/, checkpoint, seed).
REFUSED_BEFORE: list[tuple[str | None, str, int]] = [
    (None, "project2", 222),  # f2 at x = 0, y = -1: both true gradients are 0
    ("set_prev", "week3", 1000),  # two seeded runs summed gradients in another order
    ("gauss_init", "week3", 1000),  # a Xavier-scaled weight outside [-1, 1]
    ("mean_loss", "week3", 1000),  # a late loss near 0 matched the summed and the mean error alike
    ("mean_loss", "week3", 1001),
]


def test_seeds_that_once_refused_a_correct_engine(real_course: Course, tmp_path: Path) -> None:
    variants = {variant.name: variant for variant in style_variants()}

    def refusals(
        case: tuple[str | None, str, int], warm: WarmGrader | None
    ) -> tuple[str | None, str, int, list[tuple[str, Any]]]:
        name, checkpoint_id, seed = case
        exercises = exercises_of(variants[name] if name else None, real_course, tmp_path)
        return name, checkpoint_id, seed, grade(real_course, exercises, checkpoint_id, seed, warm)

    for name, _, _ in REFUSED_BEFORE:
        if name is not None:
            exercises_of(variants[name], real_course, tmp_path)
    refused = [found for found in graded_side_by_side(real_course, REFUSED_BEFORE, refusals) if found[3]]
    assert refused == []


def test_the_course_passes_dev_check(real_course: Course, cli: CliRunner) -> None:
    """Everything `dev check` demands of a course (see tinygrad_learn.dev.check), on the course itself.

    Its grading findings are demanded above through the real CLI, as strictly: every stub fails
    (test_every_checkpoint_fails_on_the_stubs_saying_what_to_do), every solution passes with 5x
    head-room over its CPU time (test_every_checkpoint_passes_with_the_solutions_and_every_medal_is_earned).
    Grading the whole course a second time here would prove nothing more, so this runs the rest."""
    result = run_cli(cli, "dev", "check", "--no-grading")
    checked = f"Checked the course in {real_course.root} without grading its suites: {len(real_course.checkpoints)}"
    assert says(result.output, checked), result.output
    assert result.exit_code == 0, result.output
