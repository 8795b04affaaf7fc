"""Korean as a native speaker writes it: particles that fit the word, attached to it, one term per concept."""

from __future__ import annotations

import pytest

from tinygrad_learn.i18n import Translator, _check_titles, check_title
from tinygrad_learn.korean import fill, particle
from tinygrad_learn.korean_lint import findings_in, glossary, lint
from tinygrad_learn.paths import SUITES_DIR, course_root
from tinygrad_learn.runner import expected_tests


@pytest.mark.parametrize(
    ("word", "form", "expected"),
    [
        ("engine.py", "을", "를"),  # 파이
        ("NameError", "이", "가"),  # 에러
        ("'stpe2'", "이라는", "라는"),  # 투
        ("step3", "을", "을"),  # 삼
        ("week1", "으로", "로"),  # 일: after ㄹ, 로
        ("week3", "로", "으로"),  # 삼
        ("week4-rnn", "는", "은"),  # 엔
        ("Neuron", "가", "이"),  # 뉴런
        ("Value", "은", "는"),  # 밸류
        ("model", "와", "과"),  # 모델
        ("MLP", "을", "를"),  # 엠엘피
        ("XOR", "을", "를"),  # 엑스오어
        ("그래디언트", "이", "가"),
        ("노드", "을", "를"),
        ("값", "로", "으로"),
        ("길", "으로", "로"),
        ("2.0", "가", "이"),  # 영
        ("`x + 1`", "은", "은"),  # 일
    ],
)
def test_particle_fits_how_the_word_is_read(word: str, form: str, expected: str) -> None:
    assert particle(word, form) == expected


def test_templates_name_the_particle_and_keep_other_format_specs() -> None:
    assert fill("{path:을} 읽을 수 없습니다", {"path": "engine.py"}) == "engine.py를 읽을 수 없습니다"
    assert fill("{code:`은} 식이 아닙니다", {"code": "x +"}) == "`x +`은 식이 아닙니다"
    assert fill("{name:'이라는} 체크포인트", {"name": "stpe2"}) == "'stpe2'라는 체크포인트"
    assert fill("{seconds:.1f}초, {name!r}", {"seconds": 2.25, "name": "a"}) == "2.2초, 'a'"
    assert fill("{missing}", {}) == "{missing}"


def test_the_translator_picks_particles_for_korean_messages() -> None:
    text = Translator("ko")("manifest.unreadable", path="checkpoints.yaml", problem="x")
    assert "checkpoints.yaml을" in text and "(를)" not in text


def test_the_lint_finds_each_kind_of_mistake() -> None:
    terms = glossary()
    samples = {
        "grad 가 2.0 이 되어야 합니다": "spacing",
        "Neuron 의 가중치": "spacing",
        "입력 Value 들을 담은 set": "spacing",
        "{path}을(를) 읽을 수 없습니다": "paired_particle",
        "'{name}'(이)라는 체크포인트": "paired_particle",
        "모든 기울기를 수치 미분과 비교합니다": "glossary",
        "잎 노드는 넘겨줄 상대가 없습니다": "glossary",
    }
    for text, kind in samples.items():
        assert kind in {finding.kind for finding in findings_in(text, "sample", terms)}, text
    fine = [
        "grad가 2.0이 되어야 합니다. 이 값은 `a + b`의 결과입니다.",
        "leaky_relu는 음수 쪽 기울기 숫자를 하나 더 받습니다.",
        "{path:을} 읽을 수 없습니다",
    ]
    for text in fine:
        assert findings_in(text, "sample", terms) == [], text


def test_every_korean_text_of_the_project_reads_as_native() -> None:
    """Locales, the manifest, lessons, README.ko.md and every suite's messages."""
    found = lint(course_root())
    report = "\n".join(f"{finding.source}: {finding.kind}: {finding.excerpt}" for finding in found[:40])
    assert found == [], f"{len(found)} findings, the first ones:\n{report}"


def test_every_check_has_a_korean_title() -> None:
    titles = _check_titles()
    for suite in sorted(SUITES_DIR.glob("test_*.py")):
        names = set(expected_tests(suite))
        given = set(titles.get(suite.name, {}))
        assert names - given == set(), f"{suite.name}: checks without a Korean title"
        assert given - names == set(), f"{suite.name}: titles of checks that no longer exist"
    assert check_title("test_step2.py", "test_add_backward_accumulates", "ko") == "덧셈의 역전파가 그래디언트를 누적함"
    assert check_title("test_step2.py", "test_add_backward_accumulates", "en") == "add backward accumulates"


def test_click_speaks_korean_when_the_learner_does() -> None:
    from typer.testing import CliRunner

    from tinygrad_learn.cli import app

    runner = CliRunner()
    korean = runner.invoke(app, ["--lang", "ko", "check", "--nope"])
    english = runner.invoke(app, ["check", "--nope"])
    assert korean.exit_code == english.exit_code == 2
    assert "그런 옵션은 없습니다" in korean.output and "No such option" not in korean.output
    assert "No such option" in english.output
    help_text = runner.invoke(app, ["--lang", "ko", "reset", "--help"]).output
    assert "사용법:" in help_text and "Usage:" not in help_text
    missing = runner.invoke(app, ["--lang", "ko", "reset"]).output
    assert "빠진 인자: 'CHECKPOINT'" in missing
    typo = runner.invoke(app, ["--lang", "ko", "chek"]).output
    assert "혹시 'check'?" in typo and "Did you mean" not in typo
    assert runner.invoke(app, ["chek"]).output.count("Did you mean 'check'?") == 1
