"""`dev new ID`: scaffold a checkpoint, every file it needs, for the author to fill in.

Writes the manifest entry (after the last checkpoint, requiring it), the stub, the reference
solution, the suite and both lessons. Everything the author still has to write carries
PLACEHOLDER, so `dev check` refuses the checkpoint until it is filled. Nothing that exists is
overwritten: a stub or solution file that exists gets the new function appended.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import TinygradLearnError
from ..manifest import Course, default_lesson, default_suite, load_course
from ..paths import MANIFEST_NAME
from . import PLACEHOLDER

ID_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class Scaffold:
    checkpoint_id: str
    created: tuple[str, ...]
    """Files written, relative to the course folder (the suite relative to its own folder)."""
    extended: tuple[str, ...]
    """Existing files the new function was appended to."""


def new_checkpoint(root: Path, checkpoint_id: str, file: str | None = None, function: str | None = None) -> Scaffold:
    course = load_course(root)
    if not ID_PATTERN.fullmatch(checkpoint_id):
        raise TinygradLearnError("dev.bad_id", id=checkpoint_id)
    if course.find(checkpoint_id) is not None:
        raise TinygradLearnError("dev.id_taken", id=checkpoint_id)
    name = function or checkpoint_id.replace("-", "_")
    if not name.isidentifier():
        raise TinygradLearnError("dev.bad_function", name=name)
    file = file or f"{name}.py"
    if not file.endswith(".py") or "/" in file or not file[:-3].isidentifier():
        raise TinygradLearnError("dev.bad_file", file=file)
    suite = course.suites_dir / default_suite(checkpoint_id)
    lessons = [root / f"{default_lesson(checkpoint_id)}.{language}.md" for language in ("en", "ko")]
    for path in (suite, *lessons):
        if path.exists():
            raise TinygradLearnError("dev.exists", path=str(path))

    created: list[str] = []
    extended: list[str] = []
    for folder, body in (("exercises", _stub(checkpoint_id, name)), ("solutions", _solution(checkpoint_id, name))):
        target = root / folder / file
        (extended if target.exists() else created).append(f"{folder}/{file}")
        _append(target, body)
    suite.write_text(_suite(checkpoint_id, name, file[:-3]), encoding="utf-8")
    created.append(suite.name)
    for path, text in zip(lessons, _lessons(checkpoint_id), strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        created.append(path.relative_to(root).as_posix())
    _add_to_manifest(root / MANIFEST_NAME, course, _entry(course, checkpoint_id, name, file))
    load_course(root)  # what was written must read back: a scaffold never leaves a broken course
    return Scaffold(checkpoint_id, tuple(created), tuple(extended))


def _append(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    before = path.read_text(encoding="utf-8").rstrip() if path.exists() else ""
    path.write_text(f"{before}\n\n\n{body}" if before else body, encoding="utf-8")


def _stub(checkpoint_id: str, name: str) -> str:
    todo = f"    # TODO({checkpoint_id})\n"
    return f'def {name}(x):\n{todo}    raise NotImplementedError("{checkpoint_id}: write {name}")\n'


def _solution(checkpoint_id: str, name: str) -> str:
    return (
        f"def {name}(x):\n    # {PLACEHOLDER}: the reference solution of {name}, as plainly as a learner"
        f' would write it.\n    raise NotImplementedError("{checkpoint_id}: write {name}")\n'
    )


def _suite(checkpoint_id: str, name: str, module: str) -> str:
    return f'''"""{checkpoint_id}: {PLACEHOLDER}: say what this suite checks."""

from tinygrad_learn.grading.testkit import expect_close, learner, need


def test_{name}(rng):
    {name} = need(learner("{module}"), "{name}")
    x = rng.uniform(-10, 10)
    # {PLACEHOLDER}: compare {name}(x) with what it must return, for random and edge-case inputs.
    expect_close({name}(x), x, "{name}(x)", given={{"x": x}})
'''


def _lessons(checkpoint_id: str) -> tuple[str, str]:
    english = (
        f"# {PLACEHOLDER}: the title of {checkpoint_id}\n\n"
        f"{PLACEHOLDER}: what the learner builds in this checkpoint, why it matters, and how to check it.\n"
    )
    korean = (
        f"# {PLACEHOLDER}: {checkpoint_id}의 제목\n\n"
        f"{PLACEHOLDER}: 이 체크포인트에서 무엇을 만드는지, 왜 중요한지, 어떻게 확인하는지 쓰세요.\n"
    )
    return english, korean


def _entry(course: Course, checkpoint_id: str, name: str, file: str) -> str:
    requires = f"[{course.checkpoints[-1].id}]" if course.checkpoints else "[]"
    levels = (("a nudge", "방향만 알려 주는 실마리"), ("the concept", "개념 설명"), ("nearly the answer", "거의 답"))
    hints = "".join(
        f'      - en: "{PLACEHOLDER}: level {i}, {en}"\n        ko: "{PLACEHOLDER}: {i}단계, {ko}"\n'
        for i, (en, ko) in enumerate(levels, start=1)
    )
    return (
        f"  - id: {checkpoint_id}\n"
        f'    stage: {{en: "{PLACEHOLDER}: stage", ko: "{PLACEHOLDER}: 단계"}}\n'
        f'    title: {{en: "{PLACEHOLDER}: title", ko: "{PLACEHOLDER}: 제목"}}\n'
        f"    files: [{file}]\n"
        f"    tasks: [{name}]\n"
        f"    requires: {requires}\n"
        f"    time_limit: 10\n"
        f"    hints:\n{hints}"
    )


def _add_to_manifest(path: Path, course: Course, entry: str) -> None:
    """Insert the entry after the last checkpoint: before the top-level key that follows the list."""
    text = path.read_text(encoding="utf-8")
    start = re.search(r"^checkpoints:[ \t]*\n", text, re.MULTILINE)
    if start is None:
        raise TinygradLearnError("dev.manifest_layout", path=str(path))
    following = re.search(r"^[A-Za-z_]", text[start.end() :], re.MULTILINE)
    cut = start.end() + following.start() if following else len(text)
    head, tail = text[:cut].rstrip("\n"), text[cut:]
    path.write_text(f"{head}\n\n{entry}" + (f"\n{tail}" if tail else ""), encoding="utf-8")
