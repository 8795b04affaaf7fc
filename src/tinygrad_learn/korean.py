"""Korean particles chosen from the word they follow, so a template never says `{path}을(를)`.

A Korean particle has two forms, one after a final consonant (받침) and one after a vowel:
`engine.py를` (파이, no final consonant), `step3을` (삼), `NameError가` (에러). Templates name the
particle as a format spec, `{path:을}`, and `Word.__format__` picks the form that fits the value.
For words that are not Hangul the choice follows how a Korean reader says them: digits by their
Korean reading, short upper-case acronyms letter by letter, other Latin words by their ending.
"""

from __future__ import annotations

import re
from typing import Any

# Each particle as (after a final consonant, after a vowel). Either form may be written in a template.
PAIRS = (
    ("을", "를"),
    ("이", "가"),
    ("은", "는"),
    ("과", "와"),
    ("으로", "로"),
    ("이라는", "라는"),
    ("이라고", "라고"),
    ("이나", "나"),
    ("이다", "다"),
    ("이에요", "예요"),
    ("이며", "며"),
    ("이고", "고"),
    ("이면", "면"),
)
FORMS = {form: pair for pair in PAIRS for form in pair}

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_RIEUL = 8  # the index of ㄹ among the final consonants
# How each digit is read: True when its reading ends in a final consonant; ㄹ for 1, 7 and 8.
_DIGIT_FINAL = {"0": "ㅇ", "1": "ㄹ", "2": "", "3": "ㅁ", "4": "", "5": "", "6": "ㄱ", "7": "ㄹ", "8": "ㄹ", "9": ""}
# Letters read one by one (an acronym): only L, M, N and R end in a consonant (엘, 엠, 엔, 알).
_LETTER_FINAL = {"l": "ㄹ", "m": "ㅁ", "n": "ㄴ", "r": "ㄹ"}
# Latin words whose Korean reading is not what their ending suggests.
_SPOKEN = {"xor": "", "step": "ㅂ", "stack": "ㄱ", "back": "ㄱ", "block": "ㄱ", "init": "ㅅ", "dot": "ㅅ"}
_TRAILING = re.compile(r"[\s`'\"()\[\]{}<>.,:;!?*_-]+$")


def final_consonant(word: str) -> str | None:
    """The final consonant of how `word` is read ("" for a vowel), or None when it cannot be told."""
    text = _TRAILING.sub("", word)
    if not text:
        return None
    last = text[-1]
    code = ord(last)
    if _HANGUL_FIRST <= code <= _HANGUL_LAST:
        index = (code - _HANGUL_FIRST) % 28
        return "" if index == 0 else ("ㄹ" if index == _RIEUL else "ㄱ")
    if last.isdigit():
        return _DIGIT_FINAL.get(last, "")
    match = re.search(r"[A-Za-z]+$", text)
    if match is None:
        return None
    latin = match.group()
    lower = latin.lower()
    if lower in _SPOKEN:
        return _SPOKEN[lower]
    if latin.isupper() and len(latin) <= 4:
        return _LETTER_FINAL.get(lower[-1], "")
    if lower.endswith("ng"):
        return "ㅇ"
    if lower.endswith(("m", "n")):
        return "ㄴ"
    if lower.endswith("l") and not lower.endswith("le"):
        return "ㄹ"
    return ""


def particle(word: str, form: str) -> str:
    """The form of the particle `form` (either of its two forms) that fits after `word`."""
    pair = FORMS.get(form)
    if pair is None:
        return form
    after_consonant, after_vowel = pair
    final = final_consonant(word)
    if final is None:
        final = "ㄱ"  # unknown: the consonant form reads acceptably after most symbols
    if after_consonant == "으로":
        return "로" if final in ("", "ㄹ") else "으로"
    return after_vowel if final == "" else after_consonant


QUOTES = "`'\""


class Word:
    """A value put into a template: `{name:을}` adds the fitting particle (`{name:'을}` quotes the
    value first); `{name:.3f}`, `{name!r}`,
    `{name[0]}` and `{name.attr}` behave as they would on the value itself."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        # `{code:`은}` quotes the value first: "`x + 1`은", so a quoted name still gets its particle.
        quote = spec[0] if spec[:1] in QUOTES and spec[1:] in FORMS else ""
        if spec[len(quote) :] in FORMS:
            text = str(self.value)
            return f"{quote}{text}{quote}{particle(text, spec[len(quote) :])}"
        return format(self.value, spec)

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return repr(self.value)

    def __getitem__(self, key: Any) -> Any:
        return self.value[key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.value, name)


def fill(template: str, params: dict[str, Any]) -> str:
    """`template.format(**params)` with Korean particle specs understood; a bad template is left as is."""
    try:
        return template.format(**{name: Word(value) for name, value in params.items()})
    except (KeyError, IndexError, ValueError, AttributeError, TypeError):
        return template
