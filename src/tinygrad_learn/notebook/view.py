"""What `tinygrad-learn notebook` prints: where the notebook is, the backup of the old one, how to open it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..terminal import Terminal
    from .generate import NotebookWritten


def notebook_written(terminal: Terminal, written: NotebookWritten) -> None:
    from rich.text import Text

    def line(key: str, style: str, **params: str) -> None:
        terminal.out.print(Text(terminal.t(key, **params), style=style), soft_wrap=True)

    line("notebook.written", "bold green", path=str(written.path))
    if written.backup is not None:
        line("notebook.backup", "yellow", path=str(written.backup))
    line("notebook.open_with", "cyan", path=str(written.path))
