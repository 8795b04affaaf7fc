"""The manifest: validated on load, with an error that names the broken key."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tinygrad_learn.errors import TinygradLearnError
from tinygrad_learn.manifest import FORMAT_VERSION, Course, normalize, parse_course

from .conftest import FIXTURE_COURSE


def fixture_data() -> dict[str, Any]:
    return yaml.safe_load((FIXTURE_COURSE / "checkpoints.yaml").read_text(encoding="utf-8"))


def broken(change: Any) -> TinygradLearnError:
    data = copy.deepcopy(fixture_data())
    change(data)
    with pytest.raises(TinygradLearnError) as raised:
        parse_course(data, FIXTURE_COURSE)
    return raised.value


def test_fixture_course_loads(fixture_course: Course) -> None:
    assert [c.id for c in fixture_course.checkpoints] == ["alpha", "beta"]
    assert fixture_course.medals[1].requires == ("alpha", "beta")


@pytest.mark.parametrize("spelling", ["alpha", "Alpha", "ALPHA", "a1", "A-1", "a 1"])
def test_accepted_spellings(fixture_course: Course, spelling: str) -> None:
    assert fixture_course.get(spelling).id == "alpha"


def test_unknown_checkpoint_lists_the_known_ones(fixture_course: Course) -> None:
    with pytest.raises(TinygradLearnError) as raised:
        fixture_course.get("gamma")
    assert raised.value.key == "checkpoint.unknown" and "alpha" in raised.value.params["known"]


def test_normalize() -> None:
    assert normalize("Step 2") == normalize("step-2") == normalize("step2") == "step2"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.pop("checkpoints"), "checkpoints"),
        (lambda d: d["checkpoints"][0].pop("title"), "checkpoints[alpha].title"),
        (lambda d: d["checkpoints"][0]["title"].pop("ko"), "checkpoints[alpha].title.ko"),
        (lambda d: d["checkpoints"][1]["hints"].pop(), "checkpoints[beta].hints"),
        (lambda d: d["checkpoints"][0].update(suite="test_nope.py"), "checkpoints[alpha].suite"),
        (lambda d: d["checkpoints"][0].update(time_limit=-1), "checkpoints[alpha].time_limit"),
        (lambda d: d["checkpoints"][0].update(requires=["beta"]), "checkpoints[alpha].requires"),
        (lambda d: d["checkpoints"][1].update(aliases=["a1"]), "checkpoints[beta].aliases"),
        (lambda d: d["medals"][0].update(requires=["nope"]), "medals[bronze].requires"),
        (lambda d: d["medals"][1].update(includes="gold"), "medals[silver].includes"),
        (lambda d: d.update(format_version="one"), "format_version"),
    ],
)
def test_broken_manifest_names_the_key(change: Any, where: str) -> None:
    error = broken(change)
    assert error.key == "manifest.invalid"
    assert error.params["where"] == where


def test_newer_format_is_refused() -> None:
    error = broken(lambda d: d.update(format_version=FORMAT_VERSION + 1))
    assert error.key == "manifest.too_new" and error.params["found"] == FORMAT_VERSION + 1


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.update(engine={"file": "engine"}), "engine.file"),
        (lambda d: d.update(engine={"file": "engine.py", "value": "no class"}), "engine.value"),
        (
            lambda d: d["checkpoints"][0].update(trains=[{"name": "maze", "steps": 5}]),
            "checkpoints[alpha].trains[0].recipe",
        ),
        (
            lambda d: d["checkpoints"][0].update(trains=[{"name": "xor", "steps": 0}]),
            "checkpoints[alpha].trains[0].steps",
        ),
        (lambda d: d["checkpoints"][0].update(trains={"name": "xor"}), "checkpoints[alpha].trains"),
        (
            lambda d: [c.update(trains=[{"name": "xor", "steps": 5}]) for c in d["checkpoints"]],
            "checkpoints[beta].trains",
        ),
    ],
)
def test_broken_course_knowledge_names_the_key(change: Any, where: str) -> None:
    error = broken(lambda d: (d.update(format_version=FORMAT_VERSION), change(d)))
    assert error.key == "manifest.invalid"
    assert error.params["where"] == where


def test_lesson_and_suite_paths_come_from_the_id_unless_given() -> None:
    data = fixture_data()
    data["format_version"] = FORMAT_VERSION
    for entry in data["checkpoints"]:
        del entry["lesson"], entry["suite"]
    data["checkpoints"][1]["lesson"] = "lessons/alpha"
    course = parse_course(data, FIXTURE_COURSE)
    assert [(c.lesson, c.suite) for c in course.checkpoints] == [
        ("lessons/alpha", "test_alpha.py"),
        ("lessons/alpha", "test_beta.py"),
    ]
    assert course.suites_dir == FIXTURE_COURSE / "suites"


def test_a_course_without_an_engine_or_loops_has_none() -> None:
    data = fixture_data()
    data["format_version"] = FORMAT_VERSION
    course = parse_course(data, FIXTURE_COURSE)
    assert course.engine is None and course.trainings == ()


def test_version_1_reads_as_the_engine_and_loops_v1_tools_assumed(tmp_path: Path) -> None:
    data = fixture_data()
    assert data["format_version"] == 1
    data["checkpoints"][1]["id"] = "week3"
    data["medals"][1]["requires"] = ["week3"]
    course = parse_course(data, FIXTURE_COURSE)
    assert course.format_version == 1 and course.engine is None  # the fixture has no engine.py
    assert [(t.name, t.checkpoint, t.steps) for t in course.trainings] == [("xor", "week3", 300)]

    shutil.copytree(FIXTURE_COURSE, tmp_path / "course")
    (tmp_path / "course" / "exercises" / "engine.py").write_text("class Value: pass\n", encoding="utf-8")
    course = parse_course(data, tmp_path / "course")
    assert course.engine is not None and (course.engine.file, course.engine.value) == ("engine.py", "Value")


def test_the_course_declares_every_loop_the_tool_can_drive(real_course: Course) -> None:
    from tinygrad_learn.manifest import TRAINING_RECIPES
    from tinygrad_learn.training import RECIPE_WORKERS, find_task

    assert set(RECIPE_WORKERS) == TRAINING_RECIPES
    for training in real_course.trainings:
        task = find_task(real_course, training.name.upper())
        assert task.checkpoint == training.checkpoint and real_course.get(task.checkpoint)
    with pytest.raises(TinygradLearnError) as raised:
        find_task(real_course, "maze")
    assert raised.value.key == "train.unknown"


def test_unreadable_manifest(tmp_path: Path) -> None:
    from tinygrad_learn.manifest import load_course

    (tmp_path / "checkpoints.yaml").write_text("checkpoints: [", encoding="utf-8")
    with pytest.raises(TinygradLearnError) as raised:
        load_course(tmp_path)
    assert raised.value.key == "manifest.unreadable"
    with pytest.raises(TinygradLearnError) as raised:
        load_course(tmp_path / "missing")
    assert raised.value.key == "manifest.missing"
