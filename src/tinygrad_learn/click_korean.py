"""Click's and Typer's own texts ("Usage:", "Missing argument", "No such option") in Korean.

Click looks its texts up through gettext's module-level `_` and `ngettext`, bound in each of its
modules at import; swapping those bindings is how a program gives Click another language without
installing a gettext catalogue. Placeholders stay as Click fills them, so no particle follows one.
"""

from __future__ import annotations

import gettext
import importlib
from collections.abc import Callable

KOREAN = {
    "Usage:": "사용법:",
    "Options": "옵션",
    "Commands": "명령",
    "Arguments": "인자",
    "Error: {message}": "오류: {message}",
    "Try '{command} {option}' for help.": "도움말 보기: '{command} {option}'",
    # Click adds " 'NAME'." after these: "빠진 인자: 'CHECKPOINT'."
    "Missing argument": "빠진 인자:",
    "Missing option": "빠진 옵션:",
    "Missing parameter": "빠진 값:",
    "Missing {param_type}": "빠진 값:",
    "Missing parameter: {param_name}": "값이 빠졌습니다: {param_name}",
    "Missing command.": "명령이 빠졌습니다.",
    "No such command {name!r}.": "{name!r}: 그런 명령은 없습니다.",
    "No such option {name!r}.": "{name!r}: 그런 옵션은 없습니다.",
    "No such option: {name}": "{name}: 그런 옵션은 없습니다",
    "Did you mean {possibility}?": "혹시 {possibility}?",
    "(Did you mean one of: {possibilities}?)": "(혹시 이 가운데 하나: {possibilities}?)",
    "Option {name!r} does not take a value.": "{name!r} 옵션은 값을 받지 않습니다.",
    "Option {name!r} requires an argument.": "{name!r} 옵션에는 값이 하나 필요합니다.",
    "Option {name!r} requires {nargs} arguments.": "{name!r} 옵션에는 값이 {nargs}개 필요합니다.",
    "Got unexpected extra argument ({args})": "예상하지 못한 인자가 더 있습니다 ({args})",
    "Got unexpected extra arguments ({args})": "예상하지 못한 인자가 더 있습니다 ({args})",
    "Invalid value for {param_hint}: {message}": "{param_hint}의 값이 올바르지 않습니다: {message}",
    "Invalid value: {message}": "올바르지 않은 값: {message}",
    "{value!r} is not a valid {number_type}.": "올바른 {number_type} 값이 아닙니다: {value!r}.",
    "{value} is not in the range {range}.": "{range} 범위를 벗어났습니다: {value}.",
    "{value!r} is not {choice}.": "{choice} 값이어야 합니다: {value!r}.",
    "{value!r} is not one of {choices}.": "{choices} 중 하나여야 합니다: {value!r}.",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "참이나 거짓이 아닙니다: {value!r}. 쓸 수 있는 값: {states}"
    ),
    "{name} {filename!r} does not exist.": "{name} {filename!r}: 없습니다.",
    "{name} {filename!r} is a file.": "{name} {filename!r}: 폴더가 아니라 파일입니다.",
    "{name} {filename!r} is a directory.": "{name} {filename!r}: 파일이 아니라 폴더입니다.",
    "{name} {filename!r} is not readable.": "{name} {filename!r}: 읽을 수 없습니다.",
    "{name} {filename!r} is not writable.": "{name} {filename!r}: 쓸 수 없습니다.",
    "file": "파일",
    "directory": "폴더",
    "path": "경로",
    "Show this message and exit.": "이 도움말을 보여 주고 끝냅니다.",
    "Show the version and exit.": "버전을 보여 주고 끝냅니다.",
    "Aborted!": "중단했습니다.",
    "default: {default}": "기본값: {default}",
    "required": "필수",
    "env var: {var}": "환경 변수: {var}",
    "Choose from:\n\t{choices}": "다음 중에서 고르세요:\n\t{choices}",
}

MODULES = (
    "click.core",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.types",
    "click.decorators",
    "typer.core",
)


def _korean(message: str) -> str:
    return KOREAN.get(message, message)


def _korean_plural(singular: str, plural: str, count: int) -> str:
    return _korean(singular if count == 1 else plural)


def install(language: str) -> None:
    """Make Click and Typer speak `language` (Korean, or their own English) from now on."""
    korean = language == "ko"
    text: Callable[[str], str] = _korean if korean else gettext.gettext
    plural: Callable[[str, str, int], str] = _korean_plural if korean else gettext.ngettext
    for name in MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            module._ = text  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = plural  # type: ignore[attr-defined]
