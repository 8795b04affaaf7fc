"""English and Korean are both first-class: the same keys, and every key the code uses exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tinygrad_learn.i18n import LANGUAGES, Translator, catalogue, resolve_language
from tinygrad_learn.manifest import Course

SOURCE = Path(__file__).resolve().parents[1] / "src" / "tinygrad_learn"
KEY_METHODS = {"t", "note", "failure_text"}


def keys_used_in_code() -> set[str]:
    keys = set()
    for path in SOURCE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            value = node.args[0].value
            if name in KEY_METHODS and isinstance(value, str) and re.fullmatch(r"[a-z_]+(\.[a-z_0-9]+)+", value):
                keys.add(value)
            if name == "TinygradLearnError" and isinstance(value, str):
                keys.add(value)
    return keys


def test_both_languages_have_the_same_keys() -> None:
    assert set(catalogue("en")) == set(catalogue("ko"))


def test_every_key_used_in_the_code_exists() -> None:
    used = keys_used_in_code()
    assert len(used) > 30
    missing = sorted(key for key in used if key not in catalogue("en"))
    assert missing == []


def test_placeholders_match_between_languages() -> None:
    def fields(text: str) -> set[str]:
        return set(re.findall(r"\{(\w+)", text))

    english, korean = catalogue("en"), catalogue("ko")
    mismatched = [key for key in english if fields(english[key]) != fields(korean[key])]
    assert mismatched == []


def test_korean_texts_are_korean() -> None:
    korean = catalogue("ko")
    hangul = re.compile(r"[\uac00-\ud7a3]")
    language_neutral = {"failure.raised"}
    untranslated = [
        key
        for key, text in korean.items()
        if len(text) > 12 and not hangul.search(text) and key not in language_neutral
    ]
    assert untranslated == []


def test_language_resolution(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert resolve_language(None) == "en"
    assert resolve_language("ko") == "ko" and resolve_language("KO") == "ko"
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    assert resolve_language(None) == "ko"
    monkeypatch.setenv("TINYGRAD_LEARN_LANG", "en")
    assert resolve_language(None) == "en"
    assert resolve_language("ko") == "ko"


def test_missing_field_never_crashes() -> None:
    assert Translator("en")("check.passed") == catalogue("en")["check.passed"]


def test_course_text_exists_in_both_languages(real_course: Course) -> None:
    for checkpoint in real_course.checkpoints:
        for language in LANGUAGES:
            path = real_course.root / f"{checkpoint.lesson}.{language}.md"
            assert path.is_file(), path
            assert len(path.read_text(encoding="utf-8").splitlines()) >= 20, path
            assert checkpoint.title.get(language).strip()
            assert all(hint.get(language).strip() for hint in checkpoint.hints)
        assert all("TODO" not in hint.en and "TODO" not in hint.ko for hint in checkpoint.hints), checkpoint.id


def test_hint_code_survives_markdown(real_course: Course) -> None:
    """Hints are rendered as Markdown: a bare __init__ or a**b would turn into bold text."""
    for checkpoint in real_course.checkpoints:
        for level, hint in enumerate(checkpoint.hints, start=1):
            for language in LANGUAGES:
                prose = re.sub(r"`[^`]*`", "", hint.get(language))
                assert not re.search(r"__\w+__|\*\*", prose), (checkpoint.id, level, language)
