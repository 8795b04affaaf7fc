"""The learner's language and the catalogue of every learner-facing string, one file per language."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import yaml

from .korean import fill
from .paths import LOCALES_DIR, SUITES_DIR

LANGUAGES = ("en", "ko")
LANG_ENV = "TINYGRAD_LEARN_LANG"


def resolve_language(requested: str | None = None) -> str:
    """`--lang`, else TINYGRAD_LEARN_LANG, else the locale (LANG=ko_KR.UTF-8 gives Korean), else English."""
    for candidate in (requested, os.environ.get(LANG_ENV)):
        if candidate:
            code = candidate.strip().lower()[:2]
            if code in LANGUAGES:
                return code
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(variable, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


@cache
def catalogue(language: str) -> dict[str, str]:
    with open(LOCALES_DIR / f"{language}.yaml", encoding="utf-8") as handle:
        return _flatten(yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


@cache
def _check_titles() -> dict[str, dict[str, str]]:
    with open(SUITES_DIR / "titles.ko.yaml", encoding="utf-8") as handle:
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}


def check_title(suite: str, test: str, language: str) -> str:
    """What the learner reads for a check: its Korean title, or its name in words."""
    if language == "ko":
        title = _check_titles().get(suite, {}).get(test)
        if title:
            return str(title)
    return test.removeprefix("test_").replace("_", " ")


class Translator:
    """Looks up and fills in a message in one language, falling back to English."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, key: str, **params: Any) -> str:
        text = catalogue(self.language).get(key) or catalogue("en").get(key) or key
        return fill(text, params)
