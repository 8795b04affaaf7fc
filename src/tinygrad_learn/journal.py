"""`journal`: a daily learning-journal page in the workspace, journal/YYYY-MM-DD.md.

Each run adds a section (goals filled in from the checkpoint the learner is on, key concepts with
a code block to fill, questions, a plan for tomorrow) in the learner's language. A page is only
ever appended to, never rewritten.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .errors import TinygradLearnError
from .i18n import Translator
from .manifest import Checkpoint
from .paths import Workspace

EDITOR_VARIABLES = ("EDITOR", "VISUAL")


@dataclass(frozen=True)
class JournalEntry:
    path: Path
    created: bool
    """True when today's page is new; False when a section was added to it."""
    section: int
    """Which section of today's page this is, counted from 1."""


def section_text(t: Translator, moment: datetime, checkpoint: Checkpoint | None, language: str, number: int) -> str:
    lines = [f"## {t('journal.section', number=number, time=moment.strftime('%H:%M'))}", ""]
    lines += [f"**{t('journal.date')}**: {moment.strftime('%Y-%m-%d')}", ""]
    lines += [f"### {t('journal.goals')}", ""]
    if checkpoint is None:
        lines.append(f"- [ ] {t('journal.goal_done')}")
    else:
        title = checkpoint.title.get(language)
        lines.append(f"- [ ] {t('journal.goal_lesson', id=checkpoint.id, title=title)}")
        lines += [f"- [ ] `{task}`" for task in checkpoint.tasks]
        lines.append(f"- [ ] {t('journal.goal_check', id=checkpoint.id)}")
    lines += ["", f"### {t('journal.concepts')}", ""]
    lines += ["```python", f"# {t('journal.code_placeholder')}", "```"]
    lines += ["", f"### {t('journal.questions')}", "", "1. ", "2. "]
    lines += ["", f"### {t('journal.tomorrow')}", "", "- ", ""]
    return "\n".join(lines)


def add_entry(
    workspace: Workspace, checkpoint: Checkpoint | None, language: str, moment: datetime | None = None
) -> JournalEntry:
    """Append today's section, creating the page (with its title) when it is the first today."""
    moment = moment or datetime.now()
    t = Translator(language)
    path = workspace.journal_dir / f"{moment.strftime('%Y-%m-%d')}.md"
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else None
    except (OSError, UnicodeDecodeError) as error:
        raise TinygradLearnError("journal.unwritable", path=str(path), problem=str(error)) from None
    number = 1 if existing is None else existing.count("\n## ") + int(existing.startswith("## ")) + 1
    text = section_text(t, moment, checkpoint, language, number)
    if existing is None:
        text = f"# {t('journal.title', date=moment.strftime('%Y-%m-%d'))}\n\n" + text
    elif not existing.endswith("\n\n"):
        text = ("\n" if existing.endswith("\n") else "\n\n") + text
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Append mode: whatever the learner wrote today stays exactly as it is.
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        raise TinygradLearnError("journal.unwritable", path=str(path), problem=str(error)) from None
    return JournalEntry(path, existing is None, number)


def editor_command(path: Path) -> list[str]:
    """The learner's editor ($EDITOR, else $VISUAL) with the page to open; an error when neither is set."""
    for variable in EDITOR_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value:
            try:
                parts = shlex.split(value, posix=os.name != "nt")
            except ValueError:
                parts = [value]
            return [*parts, str(path)]
    raise TinygradLearnError("journal.no_editor", path=str(path))


def open_in_editor(path: Path) -> None:
    from .runner import run_program

    command = editor_command(path)
    result = run_program(command, interactive=True)
    if result.problem is not None:
        raise TinygradLearnError("journal.editor_missing", editor=command[0], path=str(path))
    if result.exit_code not in (0, None):
        raise TinygradLearnError("journal.editor_failed", editor=command[0], code=result.exit_code, path=str(path))
