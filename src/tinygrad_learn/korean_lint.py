"""Reads every Korean text of a course and the tool, and finds what a native reader would stumble on.

Three kinds of finding: a space between a word and its particle (`grad 가`, `Value 들을`), a
particle left to the reader (`을(를)`, `(이)라는`: templates pick the form with `{name:을}`), and a
word the glossary (locales/glossary.yaml) replaced with another. Code is skipped: Markdown code
blocks and spans in lessons, backtick spans in messages.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .paths import LOCALES_DIR, PACKAGE_DIR

HANGUL = re.compile(r"[\uac00-\ud7a3]")
PARTICLES = (
    "은|는|이|가|을|를|의|에|에서|에게|으로|로|와|과|도|만|까지|부터|보다|처럼|이나|나|이라는|라는|이라고|라고"
    "|이며|이고|이면|이거나|이란|란|이든|든|이에요|예요|입니다|이다"
)
# A particle standing alone after a space, following something that is not Hangul: `Value 는`, `{id} 을`.
# After Hangul, `이 값` and `그 노드` are ordinary words, so only the Latin/code side is checked there.
_SPACED = re.compile(rf"(?<=[A-Za-z0-9_`'\")\]}}>])[ \t]+(?:들)?({PARTICLES})(?=[\s.,!?:;)\]]|$)")
_SPACED_PLURAL = re.compile(r"(?<=[A-Za-z0-9_`'\")\]}>])[ \t]+들(?:을|이|은|의|에|과|로|도|만)?(?=[\s.,!?:;)\]]|$)")
_PAIRED = re.compile(
    r"을\(를\)|를\(을\)|이\(가\)|가\(이\)|은\(는\)|는\(은\)|과\(와\)|와\(과\)|\(으\)로|\(이\)라는|\(이\)라고|\(이\)나|\(이\)며"
)
# A particle written after a placeholder fits one value only: `{path}가` is wrong for `engine.py`.
_FIXED = re.compile(
    r"\{\w+(?:![rsa])?\}(?:이라는|라는|이라고|라고|으로|을|를|이|가|은|는|과|와|로)(?=[\s.,!?:;)\]\"']|$)"
)
_CODE_SPAN = re.compile(r"`[^`\n]*`")


@dataclass(frozen=True)
class Finding:
    source: str
    """Where the text lives: a file, with a key or line."""
    kind: str
    """spacing, paired_particle, fixed_particle or glossary."""
    excerpt: str


@dataclass(frozen=True)
class Term:
    ko: str
    avoid: tuple[str, ...]
    unless: re.Pattern[str] | None


def glossary() -> tuple[Term, ...]:
    data = yaml.safe_load((LOCALES_DIR / "glossary.yaml").read_text(encoding="utf-8"))
    return tuple(
        Term(
            str(term["ko"]),
            tuple(str(word) for word in term.get("avoid") or ()),
            re.compile(term["unless"]) if term.get("unless") else None,
        )
        for term in data["terms"]
    )


def findings_in(text: str, source: str, terms: tuple[Term, ...]) -> list[Finding]:
    """What is wrong in one Korean text (code spans already count as words, not as Korean)."""
    found: list[Finding] = []
    if not HANGUL.search(text):
        return found
    prose = _CODE_SPAN.sub("`code`", text)
    for pattern in (_SPACED, _SPACED_PLURAL):
        for match in pattern.finditer(prose):
            found.append(Finding(source, "spacing", _excerpt(prose, match.start(), match.end())))
    for match in _PAIRED.finditer(text):
        found.append(Finding(source, "paired_particle", _excerpt(text, match.start(), match.end())))
    for match in _FIXED.finditer(text):
        found.append(Finding(source, "fixed_particle", _excerpt(text, match.start(), match.end())))
    for term in terms:
        for word in term.avoid:
            for match in re.finditer(re.escape(word), prose):
                window = prose[max(0, match.start() - 30) : match.end() + 30]
                if term.unless is not None and term.unless.search(window):
                    continue
                excerpt = _excerpt(prose, match.start(), match.end())
                found.append(Finding(source, "glossary", f"{word} -> {term.ko}: {excerpt}"))
    return found


def _excerpt(text: str, start: int, end: int) -> str:
    return text[max(0, start - 20) : end + 12].replace("\n", " ")


def korean_texts(course_root: Path) -> Iterator[tuple[str, str]]:
    """Every Korean text of the tool and of the course at `course_root`, with where it lives."""
    for key, text in _flatten(yaml.safe_load((LOCALES_DIR / "ko.yaml").read_text(encoding="utf-8"))):
        yield f"locales/ko.yaml:{key}", text
    manifest = course_root / "checkpoints.yaml"
    if manifest.is_file():
        for key, text in _ko_values(yaml.safe_load(manifest.read_text(encoding="utf-8")), "checkpoints.yaml"):
            yield key, text
    for lesson in sorted((course_root / "lessons").glob("*.ko.md")):
        yield from _markdown(lesson, f"lessons/{lesson.name}")
    readme = course_root / "README.ko.md"
    if readme.is_file():
        yield from _markdown(readme, "README.ko.md")
    titles = PACKAGE_DIR / "suites" / "titles.ko.yaml"
    for key, text in _flatten(yaml.safe_load(titles.read_text(encoding="utf-8"))):
        yield f"suites/titles.ko.yaml:{key}", text
    suites = sorted({*(PACKAGE_DIR / "suites").glob("test_*.py"), *(PACKAGE_DIR / "grading").glob("*.py")})
    for path in suites:
        yield from _python_korean(path, f"{path.parent.name}/{path.name}")


def _flatten(tree: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _flatten(value, f"{prefix}{key}.")
    elif isinstance(tree, str):
        yield prefix.rstrip("."), tree


def _ko_values(tree: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key == "ko" and isinstance(value, str):
                yield where, value
            else:
                yield from _ko_values(value, f"{where}.{key}")
    elif isinstance(tree, list):
        for index, item in enumerate(tree):
            label = item.get("id", index) if isinstance(item, dict) else index
            yield from _ko_values(item, f"{where}[{label}]")


def _markdown(path: Path, label: str) -> Iterator[tuple[str, str]]:
    in_code = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if not in_code:
            yield f"{label}:{number}", line


def _python_korean(path: Path, label: str) -> Iterator[tuple[str, str]]:
    """String constants of a module that carry Hangul: `Msg(ko=...)`, `{"ko": ...}` and the like."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, RecursionError, MemoryError):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and HANGUL.search(node.value):
            yield f"{label}:{node.lineno}", node.value


def lint(course_root: Path) -> list[Finding]:
    terms = glossary()
    return [finding for source, text in korean_texts(course_root) for finding in findings_in(text, source, terms)]


def main() -> None:
    """`python -m tinygrad_learn.korean_lint [COURSE]`: every finding, then a count per kind."""
    import sys
    from collections import Counter

    from .paths import course_root

    root = Path(sys.argv[1]) if len(sys.argv) > 1 else course_root()
    found = lint(root)
    for finding in found:
        print(f"{finding.source}: {finding.kind}: {finding.excerpt}")
    counts = Counter(finding.kind for finding in found)
    print(", ".join(f"{kind} {count}" for kind, count in sorted(counts.items())) or "no findings")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
