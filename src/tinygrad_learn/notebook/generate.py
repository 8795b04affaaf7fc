"""`tinygrad-learn notebook [ID]`: a notebook per lesson, written into the workspace.

The notebook holds the lesson in the learner's language, loads the magics, gives each task an
`%%exercise` cell holding that definition as it is in the learner's file now (the stub at first),
a "try it" cell and a final `%check`. Running it top to bottom reproduces the CLI's verdict, since
every cell grades the files. Written as plain nbformat 4 JSON, so this needs no extra package; a
notebook already there is copied to `.tinygrad-learn/backups/notebooks/` before it is replaced.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import TinygradLearnError
from ..i18n import Translator
from ..manifest import Checkpoint, Course
from ..paths import Workspace
from ..sourcemap import definitions, find

NOTEBOOKS_FOLDER = "notebooks"
BACKUP_FOLDER = "notebooks"


@dataclass(frozen=True)
class NotebookWritten:
    path: Path
    backup: Path | None
    """The notebook that was there before, when it differed."""
    checkpoint: Checkpoint


def notebook_path(workspace: Workspace, checkpoint: Checkpoint) -> Path:
    return workspace.root / NOTEBOOKS_FOLDER / f"{checkpoint.id}.ipynb"


def write_notebook(course: Course, workspace: Workspace, checkpoint: Checkpoint, language: str) -> NotebookWritten:
    path = notebook_path(workspace, checkpoint)
    text = json.dumps(build_notebook(course, workspace, checkpoint, language), ensure_ascii=False, indent=1) + "\n"
    backup = None
    try:
        if path.is_file():
            old = path.read_text(encoding="utf-8", errors="replace")
            if old == text:
                return NotebookWritten(path, None, checkpoint)
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
            backup = workspace.backups_dir / BACKUP_FOLDER / f"{checkpoint.id}.{stamp}.ipynb"
            backup.parent.mkdir(parents=True, exist_ok=True)
            backup.write_bytes(path.read_bytes())
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.writing")
        scratch.write_text(text, encoding="utf-8")
        scratch.replace(path)
    except OSError as error:
        raise TinygradLearnError("notebook.unwritable", path=str(path), problem=str(error)) from None
    return NotebookWritten(path, backup, checkpoint)


def build_notebook(course: Course, workspace: Workspace, checkpoint: Checkpoint, language: str) -> dict[str, Any]:
    t = Translator(language)
    cells: list[dict[str, Any]] = []

    def add(kind: str, source: str, tags: tuple[str, ...] = ()) -> None:
        cell: dict[str, Any] = {"cell_type": kind, "id": f"{checkpoint.id}-{len(cells)}", "metadata": {}}
        cell["source"] = source.strip("\n")
        if tags:
            cell["metadata"]["tags"] = list(tags)
        if kind == "code":
            cell["execution_count"] = None
            cell["outputs"] = []
        cells.append(cell)

    title = checkpoint.title.get(language)
    add("markdown", f"# {checkpoint.id} · {title}\n\n{t('notebook.intro', id=checkpoint.id)}")
    setup = "%load_ext tinygrad_learn"
    if language != "en":
        setup += f"\n%tinygrad_learn lang {language}"
    add("code", setup)
    add("markdown", course.lesson_text(checkpoint, language))
    for target, code in task_cells(workspace, checkpoint):
        add("markdown", t("notebook.task", target=target, id=checkpoint.id))
        add("code", f"%%exercise {target} {checkpoint.id}\n{code}")
    add("markdown", t("notebook.try_heading"))
    first = checkpoint.files[0].removesuffix(".py")
    try_it = (
        "from tinygrad_learn.notebook.playground import load_exercise\n\n"
        f'{first} = load_exercise("{first}")\n# {t("notebook.try_comment")}\n'
    )
    if first == "engine":
        try_it += "a, b = engine.Value(2.0), engine.Value(-3.0)\na + b\n"
    add("code", try_it, tags=("raises-exception",))
    add("markdown", t("notebook.check_heading", id=checkpoint.id))
    add("code", f"%check {checkpoint.id}")
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "tinygrad_learn": {"checkpoint": checkpoint.id, "language": language},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def task_cells(workspace: Workspace, checkpoint: Checkpoint) -> list[tuple[str, str]]:
    """(target, code) per task as the learner's file holds it now; a whole file where no task is found.

    A file that has cells for some of its definitions never gets a whole-file cell as well: running
    that cell after the others would undo them.
    """
    cells: list[tuple[str, str]] = []
    files_with_cells: set[str] = set()
    for task in checkpoint.tasks:
        for name in checkpoint.files:
            try:
                source = (workspace.exercises / name).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            defs = definitions(source)
            found = find(defs, task) if defs is not None else None
            if found is not None:
                lines = source.splitlines()[found.start - 1 : found.end]
                cells.append((found.qualname, textwrap.dedent("\n".join(lines))))
                files_with_cells.add(name)
                break
    for name in checkpoint.files:
        path = workspace.exercises / name
        if name not in files_with_cells and name.endswith(".py") and path.is_file():
            cells.append((name, path.read_text(encoding="utf-8", errors="replace")))
    return cells
