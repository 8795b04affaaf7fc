"""What `watch` shows: the screen of the checkpoint watched, the verdict of each save, the keys."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import checking_view, course_view, hints_view
from .checking import CheckReport
from .hints import HintReply
from .manifest import Checkpoint
from .state import Standing
from .terminal import Terminal, visible


class WatchScreen:
    def __init__(self, term: Terminal, root: Path) -> None:
        self.term = term
        self.root = root

    @contextlib.contextmanager
    def checking(self, checkpoint: Checkpoint, changed: tuple[Path, ...], keys_are_lines: bool) -> Iterator[None]:
        """The top of every watch screen (clearing a real terminal first), then a spinner."""
        term = self.term
        if term.out.is_terminal:
            term.out.clear()
        files = ", ".join(f"exercises/{name}" for name in checkpoint.files)
        title = checkpoint.title.get(term.language)
        term.say("watch.watching", "bold", files=files, id=checkpoint.id, title=title)
        term.say("watch.keys_lines" if keys_are_lines else "watch.keys", "dim")
        term.line()
        if changed:
            root = self.root
            names = ", ".join(p.relative_to(root).as_posix() if p.is_relative_to(root) else str(p) for p in changed)
            term.say("watch.changed", "dim", files=visible(names))
        with term.busy("watch.checking", id=checkpoint.id):
            yield

    def verdict(self, report: CheckReport, following: Checkpoint | None) -> None:
        """The check's verdict; on a pass, the checkpoint is done and the learner decides when to move on."""
        term = self.term
        term.moved_aside(report.moved_aside)
        checking_view.show_report(term, report)
        if report.result.passed:
            term.line()
            if following is None:
                term.say("watch.done_last", "bold green", id=report.checkpoint.id)
            else:
                term.say("watch.done", "bold green", id=report.checkpoint.id, next=following.id)

    def hints(self, reply: HintReply) -> None:
        hints_view.hints(self.term, reply)

    def checkpoint_list(self, standing: Standing) -> None:
        course_view.checkpoint_list(self.term, standing)

    def note(self, key: str, **params: Any) -> None:
        self.term.line()
        self.term.note(key, **params)
