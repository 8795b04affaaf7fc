"""tools/mutate.py reads the course as the CLI does: every checkpoint, its suite, its survivors."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from tinygrad_learn.manifest import load_course
from tinygrad_learn.paths import course_root

TOOL = Path(__file__).resolve().parent.parent / "tools" / "mutate.py"


def mutate_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutate_tool", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def test_the_tool_finds_every_checkpoint_and_the_suite_the_course_grades_it_with() -> None:
    tool = mutate_tool()
    course = load_course(course_root())
    found = {checkpoint.id: checkpoint for checkpoint in tool.load_checkpoints()}
    assert sorted(found) == sorted(checkpoint.id for checkpoint in course.checkpoints)
    for checkpoint in course.checkpoints:
        assert tool.SUITES / found[checkpoint.id].suite == checkpoint.suite_path, checkpoint.id


def test_every_listed_survivor_names_a_checkpoint_and_a_file_it_grades() -> None:
    tool = mutate_tool()
    files = {checkpoint.id: set(checkpoint.files) for checkpoint in tool.load_checkpoints()}
    for survivor in tool.load_equivalents(tool.SURVIVORS_FILE):
        assert survivor.file in files.get(survivor.checkpoint, set()), survivor
        assert survivor.reason.strip() and survivor.before != survivor.after, survivor
