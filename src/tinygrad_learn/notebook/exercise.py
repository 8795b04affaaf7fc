"""`%%exercise`: a notebook cell written into the learner's exercise file, which stays the single
source of truth that `check` grades.

`%%exercise engine.py` replaces the whole file; `%%exercise Value.__add__` (or a function name)
replaces only that definition, found with `ast` by its line range, re-indented to where it sits,
keeping every other line of the file as it is. Nothing is written unless the file still parses
afterwards, and the previous text is kept in `.tinygrad-learn/backups/notebook/` first.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import TinygradLearnError
from ..paths import Workspace
from ..sourcemap import definitions, find

BACKUP_FOLDER = "notebook"


@dataclass(frozen=True)
class Written:
    path: Path
    name: str
    """The definition replaced (`Value.__add__`), or "" for the whole file."""
    backup: Path | None
    """The file as it was before, or None when nothing changed."""


def write_exercise(workspace: Workspace, target: str, cell: str, files: tuple[str, ...]) -> Written:
    """Write `cell` as `target`: a file of exercises/, or a definition in one of `files` (else any file)."""
    target = target.strip()
    if target.endswith(".py"):
        path = _exercise_file(workspace, target)
        _parse_or_refuse(cell, target)
        return _replace_text(workspace, path, "", cell if cell.endswith("\n") else cell + "\n")
    path, start, end = _locate(workspace, target, files)
    cell_tree = _parse_or_refuse(cell, target)
    name = target.rsplit(".", 1)[-1]
    defined = [
        node.name for node in cell_tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]
    if defined != [name]:
        raise TinygradLearnError("notebook.exercise_one_definition", target=target, name=name)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    first = lines[start - 1]
    indent = first[: len(first) - len(first.lstrip())]
    body = textwrap.indent(textwrap.dedent(cell).strip("\n") + "\n", indent, lambda line: bool(line.strip()))
    text = "".join(lines[: start - 1]) + body + "".join(lines[end:])
    _parse_or_refuse(text, path.name)
    return _replace_text(workspace, path, target, text)


def _exercise_file(workspace: Workspace, name: str) -> Path:
    path = (workspace.exercises / name).resolve()
    if path.parent != workspace.exercises.resolve() or not path.is_file():
        raise TinygradLearnError("notebook.exercise_no_file", file=name)
    return path


def _locate(workspace: Workspace, target: str, files: tuple[str, ...]) -> tuple[Path, int, int]:
    """The file and line range of `target`: the checkpoint's files first, then every exercise file."""
    others = sorted(path.name for path in workspace.exercises.glob("*.py") if path.name not in files)
    for name in (*files, *others):
        path = workspace.exercises / name
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        defs = definitions(source)
        if defs is None:
            raise TinygradLearnError("notebook.exercise_file_broken", file=name, target=target)
        found = find(defs, target)
        if found is not None:
            return path, found.start, found.end
    raise TinygradLearnError("notebook.exercise_not_found", target=target, files=", ".join(files))


def _parse_or_refuse(text: str, where: str) -> ast.Module:
    try:
        return ast.parse(textwrap.dedent(text))
    except SyntaxError as error:
        raise TinygradLearnError(
            "notebook.exercise_syntax", target=where, line=error.lineno or 0, problem=error.msg
        ) from None


def _replace_text(workspace: Workspace, path: Path, name: str, text: str) -> Written:
    old = path.read_text(encoding="utf-8")
    if old == text:
        return Written(path, name, None)
    backups = workspace.backups_dir / BACKUP_FOLDER
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    backup = backups / f"{path.name}.{stamp}"
    try:
        backups.mkdir(parents=True, exist_ok=True)
        backup.write_text(old, encoding="utf-8")
        scratch = path.with_name(f".{path.name}.writing")
        scratch.write_text(text, encoding="utf-8")
        scratch.replace(path)
    except OSError as error:
        raise TinygradLearnError("notebook.unwritable", path=str(path), problem=str(error)) from None
    return Written(path, name, backup)
