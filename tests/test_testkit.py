"""testkit: what suites use to fail in the learner's terms must never fail itself."""

from __future__ import annotations

import math

import pytest

from tinygrad_learn.grading.testkit import CheckFailed, expect_close, expect_number, expect_type, show


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 1e300, -0.0])
def test_show_survives_any_float(value: float) -> None:
    assert isinstance(show(value), str)


def test_show_survives_a_broken_repr() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert "repr raised RuntimeError" in show(Broken())


def test_an_infinite_answer_fails_cleanly() -> None:
    with pytest.raises(CheckFailed) as raised:
        expect_close(math.inf, 1.0, "c.grad")
    assert raised.value.key == "wrong_value" and raised.value.params["got"] == "inf"


def test_exact_types_refuse_pretenders() -> None:
    class Sneaky(float):
        pass

    class AlwaysEqual:
        def __eq__(self, other: object) -> bool:
            return True

    with pytest.raises(CheckFailed):
        expect_number(Sneaky(1.0), "x")
    with pytest.raises(CheckFailed):
        expect_number(True, "x")
    with pytest.raises(CheckFailed):
        expect_type(AlwaysEqual(), float, "x")
    assert expect_number(3, "x") == 3.0
