"""Display primitives every view composes: the consoles, styles, symbols, a table, paths, and the
one error boundary that turns a problem into a message and an exit code.

Rich is imported only when something is drawn, so `--help` stays cheap and `check` can import it
while the suite runs (`preload`). Colour goes away by itself when NO_COLOR is set or the output is
not a terminal; TINYGRAD_LEARN_WIDTH fixes the width, which makes output deterministic for tests.
Text that comes from learner code goes through `visible` and into `Text` objects, never markup.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import TinygradLearnError
from .i18n import Translator

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table
    from rich.text import Text

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
WIDTH_ENV = "TINYGRAD_LEARN_WIDTH"
DEBUG_ENV = "TINYGRAD_LEARN_DEBUG"

UNICODE_SYMBOLS = {"passed": "✓", "failed": "✗", "not_started": "·", "stale": "!", "current": "→", "medal": "★"}
ASCII_SYMBOLS = {"passed": "+", "failed": "x", "not_started": ".", "stale": "!", "current": ">", "medal": "*"}

# C0 (but newline and tab, which a block of several lines keeps), DEL, C1 and the bidi controls
# that reorder what follows them: a terminal acts on these instead of showing them.
_CONTROL_IN_BLOCK = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
_CONTROL_IN_LINE = "[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"


def visible(text: object, block: bool = False) -> str:
    """Learner-made text with every control character written out (`\\x1b`), so it cannot paint
    the screen; `block=True` keeps newlines and tabs, for output meant to span lines."""
    return re.sub(_CONTROL_IN_BLOCK if block else _CONTROL_IN_LINE, _escape, str(text))


def visible_values(params: dict[str, Any]) -> dict[str, Any]:
    """Message parameters with every text made `visible`; numbers keep their format."""
    return {name: visible(value) if isinstance(value, str) else value for name, value in params.items()}


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def display_path(path: Path) -> str:
    """A path as the learner typed it: relative to where they are, when it is below."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def preload(module: str) -> None:
    """Import a view (and Rich with it) in the background, while something slow keeps the tool busy."""
    threading.Thread(target=importlib.import_module, args=(module,), daemon=True).start()


def _can_encode(text: str) -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


class Terminal:
    """The two consoles (standard output, standard error) in the learner's language."""

    def __init__(self, language: str) -> None:
        from rich.console import Console

        self.t = Translator(language)
        self.language = language
        width = int(os.environ[WIDTH_ENV]) if os.environ.get(WIDTH_ENV, "").isdigit() else None
        self.out: Console = Console(highlight=False, width=width)
        self.err: Console = Console(stderr=True, highlight=False, width=width)
        self.symbols = UNICODE_SYMBOLS if _can_encode("✓✗→★·…") else ASCII_SYMBOLS

    @property
    def unicode(self) -> bool:
        return self.symbols is UNICODE_SYMBOLS

    def text(self, text: str = "", style: str = "") -> Text:
        from rich.text import Text

        return Text(text, style=style)

    def line(self, text: str = "", style: str = "") -> None:
        self.out.print(self.text(text, style))

    def say(self, key: str, style: str = "", **params: Any) -> None:
        self.line(self.t(key, **params), style)

    def success(self, key: str, **params: Any) -> None:
        self.line(f"{self.symbols['passed']} " + self.t(key, **params), "bold green")

    def failure(self, key: str, **params: Any) -> None:
        self.err.print(self.text(self.t(key, **params), "bold red"))

    def note(self, key: str, **params: Any) -> None:
        self.line(self.t(key, **params), "yellow")

    def error(self, error: TinygradLearnError) -> None:
        # Its details may name a learner's file or repeat what their code said.
        self.failure(error.key, **visible_values(error.params))

    def path_line(self, text: str, style: str = "") -> None:
        """A line that names a file: never wrapped, so a terminal can still open the path."""
        self.out.print(self.text(text, style), soft_wrap=True)

    def moved_aside(self, path: Path | None) -> None:
        if path is not None:
            # Names a file: never wrapped, like `path_line`.
            self.err.print(self.text(self.t("progress.moved_aside", path=str(path)), "yellow"), soft_wrap=True)

    def indented(self, renderable: RenderableType, left: int = 2) -> None:
        from rich.padding import Padding

        self.out.print(Padding(renderable, (0, 0, 0, left), expand=False))

    def table(self, title: str | None = None, columns: tuple[tuple[str, str], ...] = ()) -> Table:
        """A borderless table; `columns` are (heading, justify). Add cells as `Text`, never markup."""
        from rich.table import Table

        table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
        for heading, justify in columns:
            table.add_column(heading, justify=justify)  # type: ignore[arg-type]
        return table

    def progress(self, *fields: str) -> Any:
        """A transient progress bar on standard error; `fields` are extra task fields shown after it."""
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

        extra = [TextColumn(f"{{task.fields[{name}]}}") for name in fields]
        columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), *extra, TimeElapsedColumn())
        return Progress(*columns, console=self.err, transient=True)

    def busy(self, key: str, **params: Any) -> Any:
        """A spinner on a terminal while something runs; nothing at all when the output is captured."""
        return self.err.status(self.text(self.t(key, **params)))

    @property
    def interactive(self) -> bool:
        """Whether there is a person at a terminal to answer a question."""
        try:
            return sys.stdin is not None and sys.stdin.isatty()
        except (AttributeError, ValueError):
            return False


def print_json(data: Any) -> None:
    """JSON on standard output, never wrapped or coloured."""
    import json

    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@contextlib.contextmanager
def error_boundary(language: Callable[[], str], last_line: bool = False) -> Iterator[None]:
    """The one place a problem becomes a message and exit code 2: a learner never sees a traceback.

    Around every command it turns a TinygradLearnError or Ctrl+C into its message; as the last
    line (`last_line`, around the whole program) also an unexpected exception, unless
    TINYGRAD_LEARN_DEBUG is set for whoever works on the tool. Click's own exits pass through.
    `language()` is asked only when there is something to say, once `--lang` has been read.
    """
    try:
        yield
    except TinygradLearnError as error:
        Terminal(language()).error(error)
        raise SystemExit(EXIT_USAGE) from None
    except KeyboardInterrupt:
        Terminal(language()).failure("app.interrupted")
        raise SystemExit(EXIT_USAGE) from None
    except Exception as error:
        import click

        if not last_line or isinstance(error, (click.exceptions.Exit, click.ClickException)):
            raise
        if os.environ.get(DEBUG_ENV):
            raise
        Terminal(language()).failure("app.internal_error", problem=type(error).__name__)
        raise SystemExit(EXIT_USAGE) from None
