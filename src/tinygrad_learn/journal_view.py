"""`journal`: where the entry was written."""

from __future__ import annotations

from .journal import JournalEntry
from .terminal import Terminal, display_path


def written(term: Terminal, entry: JournalEntry) -> None:
    key = "journal.created" if entry.created else "journal.appended"
    term.path_line(term.t(key, path=display_path(entry.path), number=entry.section), "bold green")
