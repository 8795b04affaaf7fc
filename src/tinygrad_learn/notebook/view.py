"""The notebook's view: what `tinygrad-learn notebook` prints, and the magics' output, which is
the terminal's own rendering recorded and exported as HTML.

A notebook verdict reads exactly like the terminal's (the same words, colours, tables, gradient
table and medals) because the same feature views draw it, into a recording console.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING

from ..terminal import Terminal

if TYPE_CHECKING:
    from .generate import NotebookWritten

WIDTH = 100
PRE = (
    '<pre class="tinygrad-learn" style="font-family: Menlo, Consolas, \'DejaVu Sans Mono\', monospace; '
    'line-height: 1.3; white-space: pre-wrap; background: transparent">{code}</pre>'
)
ERROR_COLOUR = "#c0392b"
NOTE_COLOUR = "#2471a3"


def notebook_written(term: Terminal, written: NotebookWritten) -> None:
    term.path_line(term.t("notebook.written", path=str(written.path)), "bold green")
    if written.backup is not None:
        term.path_line(term.t("notebook.backup", path=str(written.backup)), "yellow")
    term.path_line(term.t("notebook.open_with", path=str(written.path)), "cyan")


def render(language: str, draw: Callable[[Terminal], None]) -> str:
    """What `draw` prints through a Terminal (standard output and error alike), as HTML with inline styles."""
    from rich.console import Console

    term = Terminal(language)
    console = Console(
        record=True, file=io.StringIO(), force_terminal=True, force_jupyter=False, color_system="truecolor", width=WIDTH
    )
    term.out = term.err = console
    draw(term)
    return console.export_html(inline_styles=True, code_format=PRE)


def message(text: str, colour: str = ERROR_COLOUR) -> str:
    return f'<pre class="tinygrad-learn" style="color: {colour}; white-space: pre-wrap">{escape(text)}</pre>'
