"""`hint` and `solution`: hint panels, and the reference code with its line numbers."""

from __future__ import annotations

import re

from rich.console import RenderableType
from rich.panel import Panel
from rich.text import Text

from .hints import HintReply, SolutionReply
from .terminal import Terminal

# What makes a text Markdown rather than prose: code, emphasis, headings, links, quotes, lists, tables.
_MARKDOWN = re.compile(r"[`*_#\[>|]|^\s*([-+]|\d+\.)\s", re.MULTILINE)


def hints(term: Terminal, reply: HintReply) -> None:
    checkpoint = reply.checkpoint
    for level, text in reply.shown:
        title = term.t("hint.title", level=level, last=reply.last_level, id=checkpoint.id)
        kind = term.t(f"hint.levels.{min(level, 3)}")
        body = _markdown_or_text(text.get(term.language))
        term.out.print(Panel(body, title=Text(f"{title} · {kind}"), title_align="left"))
    term.say("hint.last" if reply.exhausted else "hint.more", "cyan", id=checkpoint.id)


def solution(term: Terminal, reply: SolutionReply) -> None:
    from rich.syntax import Syntax

    checkpoint = reply.checkpoint
    term.say("solution.title", "bold", id=checkpoint.id, title=checkpoint.title.get(term.language))
    if reply.peeked:
        term.note("solution.peeked", id=checkpoint.id)
    for part in reply.parts:
        term.line()
        term.line(f"{part.file}:{part.start_line} · {part.name}" if part.name else part.file, "cyan")
        term.out.print(
            Syntax(
                part.code, "python", line_numbers=True, start_line=part.start_line, theme="ansi_dark", word_wrap=True
            )
        )


def _markdown_or_text(text: str) -> RenderableType:
    """Markdown only when the text uses it: `rich.markdown` is slow to import. (A line break
    counts: Markdown joins the lines of a paragraph.)"""
    if "\n" not in text.strip() and not _MARKDOWN.search(text):
        return Text(text.strip())
    from rich.markdown import Markdown

    return Markdown(text)
