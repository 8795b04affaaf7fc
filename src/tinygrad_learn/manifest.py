"""The course manifest (checkpoints.yaml): read, validated and turned into plain frozen records."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import TinygradLearnError
from .grading.allowlist import DEFAULT_MODULES, TEST_FILE_MODULES, ImportPolicy
from .paths import MANIFEST_NAME, SUITES_DIR

FORMAT_VERSION = 2
"""Version 2 derives lesson and suite paths from the id and says which engine and loops the tool runs."""
DEFAULT_TIME_LIMIT = 10.0
MIN_HINT_LEVELS = 3
TRAINING_RECIPES = frozenset({"xor", "framework"})
"""The training loops the tool knows how to drive (`train_xor` of train.py, `fit` of framework.py)."""


@dataclass(frozen=True)
class Text:
    """One piece of course text in every language."""

    en: str
    ko: str

    def get(self, language: str) -> str:
        return self.ko if language == "ko" else self.en


@dataclass(frozen=True)
class Engine:
    """Where the course's scalar engine lives: `bench` and `graph` build graphs with it."""

    file: str
    value: str
    """The class of one number in the graph."""

    @property
    def module(self) -> str:
        return self.file.removesuffix(".py")


@dataclass(frozen=True)
class Training:
    """A loop `train` can run once its checkpoint is written: `train <name>`."""

    name: str
    recipe: str
    steps: int
    checkpoint: str


@dataclass(frozen=True)
class Checkpoint:
    id: str
    aliases: tuple[str, ...]
    stage: Text
    title: Text
    lesson: str
    files: tuple[str, ...]
    tasks: tuple[str, ...]
    suite: str
    requires: tuple[str, ...]
    time_limit: float
    hints: tuple[Text, ...]
    suite_path: Path
    trains: tuple[Training, ...] = ()


@dataclass(frozen=True)
class Medal:
    id: str
    name: Text
    description: Text
    requires: tuple[str, ...]
    """Every checkpoint the medal needs, those of the medal it includes among them."""


@dataclass(frozen=True)
class Course:
    root: Path
    format_version: int
    checkpoints: tuple[Checkpoint, ...]
    medals: tuple[Medal, ...]
    suites_dir: Path = SUITES_DIR
    engine: Engine | None = None
    """None when the course has no scalar engine: then `bench` and `graph` have nothing to run."""
    allowed_imports: ImportPolicy = ImportPolicy.of()
    """What learner code may import (checkpoints.yaml `allowed_imports`), checked before it runs."""

    @property
    def trainings(self) -> tuple[Training, ...]:
        return tuple(training for checkpoint in self.checkpoints for training in checkpoint.trains)

    def find(self, spelling: str) -> Checkpoint | None:
        """The checkpoint for `step2`, `Step 2`, `step-2` or any declared alias."""
        wanted = normalize(spelling)
        for checkpoint in self.checkpoints:
            if wanted in {normalize(checkpoint.id), *map(normalize, checkpoint.aliases)}:
                return checkpoint
        return None

    def get(self, spelling: str) -> Checkpoint:
        checkpoint = self.find(spelling)
        if checkpoint is None:
            known = ", ".join(c.id for c in self.checkpoints)
            nearest = self.nearest(spelling)
            if nearest is not None:
                raise TinygradLearnError("checkpoint.unknown_near", name=spelling, nearest=nearest.id, known=known)
            raise TinygradLearnError("checkpoint.unknown", name=spelling, known=known)
        return checkpoint

    def nearest(self, spelling: str) -> Checkpoint | None:
        """The checkpoint a typo most likely meant (`stpe2` for step2), if one is close enough."""
        import difflib

        names = {
            normalize(name): checkpoint
            for checkpoint in self.checkpoints
            for name in (checkpoint.id, *checkpoint.aliases)
        }
        close = difflib.get_close_matches(normalize(spelling), list(names), n=1, cutoff=0.6)
        return names[close[0]] if close else None

    def lesson_text(self, checkpoint: Checkpoint, language: str) -> str:
        for candidate in (language, "en"):
            path = self.root / f"{checkpoint.lesson}.{candidate}.md"
            if path.is_file():
                return path.read_text(encoding="utf-8")
        raise TinygradLearnError("manifest.missing_lesson", path=f"{checkpoint.lesson}.{language}.md")

    @property
    def exercises(self) -> Path:
        return self.root / "exercises"

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"


def normalize(spelling: str) -> str:
    return re.sub(r"[^0-9a-z]", "", spelling.lower())


class _Reader:
    """Pulls typed fields out of the parsed YAML, naming the exact key when one is wrong."""

    def __init__(self, node: Any, where: str) -> None:
        if not isinstance(node, dict):
            raise _invalid(where, "expected a mapping")
        self.node = node
        self.where = where

    def field(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def raw(self, key: str, default: Any = ...) -> Any:
        if key not in self.node:
            if default is ...:
                raise _invalid(self.field(key), "is missing")
            return default
        return self.node[key]

    def string(self, key: str, default: Any = ...) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str) or not value.strip():
            raise _invalid(self.field(key), "should be non-empty text")
        return value

    def strings(self, key: str, default: Any = ...) -> tuple[str, ...]:
        value = self.raw(key, default)
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise _invalid(self.field(key), "should be a list of names")
        return tuple(value)

    def number(self, key: str, default: float) -> float:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise _invalid(self.field(key), "should be a positive number of seconds")
        return float(value)

    def text(self, key: str) -> Text:
        return _text(self.raw(key), self.field(key))


def _text(node: Any, where: str) -> Text:
    reader = _Reader(node, where)
    return Text(en=reader.string("en"), ko=reader.string("ko"))


def _invalid(where: str, problem: str) -> TinygradLearnError:
    return TinygradLearnError("manifest.invalid", where=where, problem=problem)


# What version 1 left implicit, written out: the engine every v1 tool assumed, and its two loops.
V1_ENGINE = {"file": "engine.py", "value": "Value"}
V1_TRAININGS = {"week3": {"name": "xor", "steps": 300}, "week4-framework": {"name": "framework", "steps": 40}}


def _migrate(data: dict[str, Any], root: Path) -> dict[str, Any]:
    """A version 1 manifest is a version 2 one with the engine and loops the v1 tool assumed."""
    if data.get("format_version") != 1:
        return data
    data = {**data, "format_version": 2}
    if (root / "exercises" / V1_ENGINE["file"]).is_file():
        data.setdefault("engine", V1_ENGINE)
    entries = data.get("checkpoints")
    if isinstance(entries, list):
        data["checkpoints"] = [
            {**entry, "trains": [V1_TRAININGS[entry["id"]]]}
            if isinstance(entry, dict) and entry.get("id") in V1_TRAININGS and "trains" not in entry
            else entry
            for entry in entries
        ]
    return data


def load_course(root: Path) -> Course:
    path = root / MANIFEST_NAME
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise TinygradLearnError("manifest.missing", path=str(path)) from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise TinygradLearnError("manifest.unreadable", path=str(path), problem=str(error)) from None
    return parse_course(data, root)


def parse_course(data: Any, root: Path) -> Course:
    top = _Reader(data, "")
    version = top.raw("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise _invalid("format_version", "should be a whole number")
    if version > FORMAT_VERSION:
        raise TinygradLearnError("manifest.too_new", found=version, supported=FORMAT_VERSION)
    data = _migrate(data, root)
    top = _Reader(data, "")
    entries = top.raw("checkpoints")
    if not isinstance(entries, list) or not entries:
        raise _invalid("checkpoints", "should be a non-empty list")
    # A course of its own (an instructor's, or the tests' fixture) may ship its suites beside it.
    suites_dir = root / top.string("suites_dir") if "suites_dir" in data else SUITES_DIR
    checkpoints = tuple(_checkpoint(entry, f"checkpoints[{i}]", suites_dir) for i, entry in enumerate(entries))
    _check_references(checkpoints)
    _check_trainings(checkpoints)
    medal_entries = top.raw("medals")
    if not isinstance(medal_entries, list):
        raise _invalid("medals", "should be a list")
    medals = _medals(medal_entries, {c.id for c in checkpoints})
    engine = _engine(top.raw("engine")) if "engine" in data else None
    allowed = _allowed_imports(top.raw("allowed_imports", {}))
    return Course(
        root=root,
        format_version=version,
        checkpoints=checkpoints,
        medals=medals,
        suites_dir=suites_dir,
        engine=engine,
        allowed_imports=allowed,
    )


def _allowed_imports(node: Any) -> ImportPolicy:
    """`allowed_imports: {modules: [...], in_test_files: [...]}`; either list defaults to the built-in one."""
    if not isinstance(node, dict) or set(node) - {"modules", "in_test_files"}:
        raise _invalid("allowed_imports", "should be a mapping with the lists modules and in_test_files")
    lists = []
    for key, default in (("modules", DEFAULT_MODULES), ("in_test_files", TEST_FILE_MODULES)):
        names = node.get(key, list(default))
        if not isinstance(names, list) or not all(isinstance(name, str) and name.isidentifier() for name in names):
            raise _invalid(f"allowed_imports.{key}", "should be a list of top-level module names")
        lists.append(names)
    return ImportPolicy.of(lists[0], lists[1])


def _engine(node: Any) -> Engine:
    reader = _Reader(node, "engine")
    file = reader.string("file")
    if not file.endswith(".py") or "/" in file:
        raise _invalid("engine.file", "should name a .py file of exercises/")
    value = reader.string("value")
    if not value.isidentifier():
        raise _invalid("engine.value", "should name a class")
    return Engine(file=file, value=value)


def _trainings(node: Any, where: str, checkpoint_id: str) -> tuple[Training, ...]:
    if not isinstance(node, list):
        raise _invalid(where, "should be a list")
    trainings = []
    for i, entry in enumerate(node):
        reader = _Reader(entry, f"{where}[{i}]")
        recipe = reader.string("recipe", reader.string("name"))
        if recipe not in TRAINING_RECIPES:
            known = ", ".join(sorted(TRAINING_RECIPES))
            raise _invalid(reader.field("recipe"), f"'{recipe}' is not a loop the tool can run ({known})")
        steps = reader.raw("steps")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0:
            raise _invalid(reader.field("steps"), "should be a positive whole number")
        trainings.append(Training(reader.string("name"), recipe, steps, checkpoint_id))
    return tuple(trainings)


def default_suite(checkpoint_id: str) -> str:
    return f"test_{checkpoint_id.replace('-', '_')}.py"


def default_lesson(checkpoint_id: str) -> str:
    return f"lessons/{checkpoint_id}"


def _checkpoint(node: Any, where: str, suites_dir: Path) -> Checkpoint:
    reader = _Reader(node, where)
    checkpoint_id = reader.string("id")
    where = f"checkpoints[{checkpoint_id}]"
    reader.where = where
    hints_node = reader.raw("hints")
    if not isinstance(hints_node, list) or len(hints_node) < MIN_HINT_LEVELS:
        raise _invalid(f"{where}.hints", f"needs at least {MIN_HINT_LEVELS} levels")
    suite = reader.string("suite", default_suite(checkpoint_id))
    if not (suites_dir / suite).is_file():
        raise _invalid(f"{where}.suite", f"names {suite}, which the package does not have")
    return Checkpoint(
        id=checkpoint_id,
        aliases=reader.strings("aliases", []),
        stage=reader.text("stage"),
        title=reader.text("title"),
        lesson=reader.string("lesson", default_lesson(checkpoint_id)),
        files=reader.strings("files"),
        tasks=reader.strings("tasks", []),
        suite=suite,
        requires=reader.strings("requires", []),
        time_limit=reader.number("time_limit", DEFAULT_TIME_LIMIT),
        hints=tuple(_text(hint, f"{where}.hints[{i}]") for i, hint in enumerate(hints_node)),
        suite_path=suites_dir / suite,
        trains=_trainings(reader.raw("trains", []), f"{where}.trains", checkpoint_id),
    )


def _check_references(checkpoints: tuple[Checkpoint, ...]) -> None:
    seen: dict[str, str] = {}
    for checkpoint in checkpoints:
        for spelling in (checkpoint.id, *checkpoint.aliases):
            key = normalize(spelling)
            if key in seen and seen[key] != checkpoint.id:
                raise _invalid(f"checkpoints[{checkpoint.id}].aliases", f"'{spelling}' also names {seen[key]}")
            seen[key] = checkpoint.id
    earlier: set[str] = set()
    for checkpoint in checkpoints:
        for required in checkpoint.requires:
            if required not in earlier:
                raise _invalid(f"checkpoints[{checkpoint.id}].requires", f"'{required}' is not an earlier checkpoint")
        earlier.add(checkpoint.id)


def _check_trainings(checkpoints: tuple[Checkpoint, ...]) -> None:
    named: set[str] = set()
    for checkpoint in checkpoints:
        for training in checkpoint.trains:
            if training.name in named:
                raise _invalid(f"checkpoints[{checkpoint.id}].trains", f"'{training.name}' is trained twice")
            named.add(training.name)


def _medals(entries: list[Any], known: set[str]) -> tuple[Medal, ...]:
    medals: dict[str, Medal] = {}
    for i, entry in enumerate(entries):
        reader = _Reader(entry, f"medals[{i}]")
        medal_id = reader.string("id")
        reader.where = f"medals[{medal_id}]"
        own = reader.strings("requires")
        for name in own:
            if name not in known:
                raise _invalid(reader.field("requires"), f"'{name}' is not a checkpoint")
        included = reader.raw("includes", None)
        inherited: tuple[str, ...] = ()
        if included is not None:
            if included not in medals:
                raise _invalid(reader.field("includes"), f"'{included}' is not an earlier medal")
            inherited = medals[included].requires
        medals[medal_id] = Medal(
            id=medal_id,
            name=reader.text("name"),
            description=reader.text("description"),
            requires=inherited + tuple(name for name in own if name not in inherited),
        )
    return tuple(medals.values())
