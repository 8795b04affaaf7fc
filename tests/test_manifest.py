"""The manifest: validated on load, with an error that names the broken key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tinygrad_learn.errors import TinygradLearnError
from tinygrad_learn.manifest import Course, normalize, parse_course

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
    error = broken(lambda d: d.update(format_version=2))
    assert error.key == "manifest.too_new" and error.params["found"] == 2


def test_unreadable_manifest(tmp_path: Path) -> None:
    from tinygrad_learn.manifest import load_course

    (tmp_path / "checkpoints.yaml").write_text("checkpoints: [", encoding="utf-8")
    with pytest.raises(TinygradLearnError) as raised:
        load_course(tmp_path)
    assert raised.value.key == "manifest.unreadable"
    with pytest.raises(TinygradLearnError) as raised:
        load_course(tmp_path / "missing")
    assert raised.value.key == "manifest.missing"
