"""`journal`: a daily learning-journal page in the workspace, journal/YYYY-MM-DD.md.

The first run of the day makes the page (goals filled in from the checkpoint the learner is on,
key concepts with a code block to fill, questions, a plan for tomorrow) in the learner's
language; later runs only open it. A page is never rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .errors import TinygradLearnError
from .i18n import Translator
from .manifest import Checkpoint
from .paths import Workspace


@dataclass(frozen=True)
class JournalEntry:
    path: Path
    created: bool
    """True when today's page was just made; False when it was there already."""


def section_text(t: Translator, moment: datetime, checkpoint: Checkpoint | None, language: str) -> str:
    lines = [f"## {t('journal.section', time=moment.strftime('%H:%M'))}", ""]
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


def todays_page(
    workspace: Workspace, checkpoint: Checkpoint | None, language: str, moment: datetime | None = None
) -> JournalEntry:
    """Today's page: made from the template the first time today, then left exactly as the learner
    wrote it (a second run opens it, it never adds another empty template)."""
    moment = moment or datetime.now()
    t = Translator(language)
    path = workspace.journal_dir / f"{moment.strftime('%Y-%m-%d')}.md"
    if path.exists():
        return JournalEntry(path, created=False)
    text = f"# {t('journal.title', date=moment.strftime('%Y-%m-%d'))}\n\n" + section_text(
        t, moment, checkpoint, language
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Exclusive creation: a page another run made a moment ago is kept, not replaced.
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        return JournalEntry(path, created=False)
    except OSError as error:
        raise TinygradLearnError("journal.unwritable", path=str(path), problem=str(error)) from None
    return JournalEntry(path, created=True)
