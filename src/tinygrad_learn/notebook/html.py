"""The notebook view: the terminal's own rendering, recorded and exported as HTML.

A notebook verdict reads exactly like the terminal's (the same words, colours, tables, gradient
table and medals) because it is drawn by the same code into a recording console.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..terminal import Terminal

WIDTH = 100
PRE = (
    '<pre class="tinygrad-learn" style="font-family: Menlo, Consolas, \'DejaVu Sans Mono\', monospace; '
    'line-height: 1.3; white-space: pre-wrap; background: transparent">{code}</pre>'
)


def render(language: str, draw: Callable[[Terminal], None]) -> str:
    """What `draw` prints through a Terminal, as HTML with inline styles."""
    from rich.console import Console

    from ..terminal import Terminal

    terminal = Terminal(language)
    console = Console(
        record=True, file=io.StringIO(), force_terminal=True, force_jupyter=False, color_system="truecolor", width=WIDTH
    )
    terminal.out = terminal.err = console
    draw(terminal)
    return console.export_html(inline_styles=True, code_format=PRE)


def message(text: str, colour: str = "#c0392b") -> str:
    return f'<pre class="tinygrad-learn" style="color: {colour}; white-space: pre-wrap">{escape(text)}</pre>'
