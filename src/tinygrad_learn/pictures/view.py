"""What the picture commands print: where a chart was written."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..terminal import Terminal


def chart_written(terminal: Terminal, path: Path) -> None:
    from rich.text import Text

    terminal.out.print(Text(terminal.t("pictures.written", path=str(path)), style="cyan"), soft_wrap=True)
