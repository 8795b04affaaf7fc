"""Text from learner code reaches the terminal as text: control characters are written out."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tinygrad_learn.paths import Workspace
from tinygrad_learn.terminal import visible

from .conftest import run_cli
from .engine_course import REFERENCE_ENGINE, engine_workspace

ESC = "\x1b"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[32mok\x1b[0m", "\\x1b[32mok\\x1b[0m"),
        ("wipe\rpaint", "wipe\\x0dpaint"),
        ("bell\x07 del\x7f c1\x9b", "bell\\x07 del\\x7f c1\\x9b"),
        ("abc\u202edcba\u2066", "abc\\u202edcba\\u2066"),
        ("two\nlines\tand a tab", "two\\x0alines\\x09and a tab"),
        ("plain text, 한국어, ✓ and e\u0301", "plain text, 한국어, ✓ and e\u0301"),
    ],
)
def test_visible_writes_control_characters_out(raw: str, shown: str) -> None:
    assert visible(raw) == shown


def test_a_block_keeps_its_lines_and_tabs() -> None:
    assert visible("one\n\ttwo\x1b[2J\r\n", block=True) == "one\n\ttwo\\x1b[2J\\x0d\n"


def test_printed_output_in_verbose_mode_is_shown_as_text(cli: CliRunner, workspace: Workspace) -> None:
    (workspace.exercises / "mathy.py").write_text(
        'def double(x):\n    print("\\x1b[2J\\x1b[32m[bold]all passed[/bold]", flush=True)\n    return 3 * x\n',
        encoding="utf-8",
    )
    result = run_cli(cli, "check", "alpha", "--verbose")
    assert result.exit_code == 1, result.output
    assert ESC not in result.output
    assert "\\x1b[2J\\x1b[32m[bold]all passed[/bold]" in result.output  # no markup read from it either


def test_a_graph_label_from_learner_code_is_shown_as_text(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = engine_workspace(tmp_path, monkeypatch)
    shutil.copy(REFERENCE_ENGINE, workspace.exercises / "engine.py")
    engine = workspace.exercises / "engine.py"
    source = engine.read_text(encoding="utf-8")
    engine.write_text(source.replace("self._op = _op", 'self._op = _op and _op + "\\x1b[8m[red]"'), encoding="utf-8")
    result = run_cli(cli, "graph", "x*y", "--at", "x=2,y=3")
    assert result.exit_code == 0, result.output
    assert ESC not in result.output
    assert "*\\x1b[8m[red]" in result.output


def imports_markdown(*args: str) -> bool:
    """Whether the command, run in a fresh interpreter, imported `rich.markdown`."""
    program = (
        "import sys\nfrom tinygrad_learn.cli import main\n"
        f"try:\n    main({list(args)!r})\nexcept SystemExit as done:\n    assert not done.code, done.code\n"
        "print('rich.markdown' in sys.modules)\n"
    )
    completed = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    return completed.stdout.strip().splitlines()[-1] == "True"


def test_markdown_is_imported_only_to_draw_markdown(workspace: Workspace) -> None:
    assert not imports_markdown("hint", "alpha", "--level", "1")  # "Multiply."
    assert imports_markdown("hint", "alpha", "--level", "2")  # "Doubling is x * 2."
    assert imports_markdown("show", "alpha")
