"""The learner's editor: which one ($VISUAL, else $EDITOR), and the command that opens a file at a
line in the form that editor understands. Opening it goes through `runner.run_program`.

The forms come from each editor's own manual: `+LINE FILE` (vi, vim, nvim, nano, emacs, gedit,
kak), `FILE +LINE` (micro), `-g FILE:LINE` (VS Code and the editors built on it), `FILE:LINE`
(Sublime Text, Zed, Helix), `--line LINE FILE` (Kate and the JetBrains launchers). An editor not
in the list gets the file alone: opened at its top rather than not at all.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from .errors import TinygradLearnError

EDITOR_VARIABLES = ("VISUAL", "EDITOR")

_PLUS_LINE_FIRST = {"vi", "vim", "nvim", "gvim", "mvim", "view", "nano", "pico", "emacs", "emacsclient", "gedit", "kak"}
_PLUS_LINE_AFTER = {"micro"}
_GOTO_FLAG = {"code", "code-insiders", "codium", "vscodium", "cursor", "windsurf"}
_FILE_COLON_LINE = {"subl", "sublime_text", "zed", "zeditor", "hx", "helix"}
_LINE_OPTION = {"kate", "idea", "pycharm", "charm", "webstorm", "clion", "goland"}


@dataclass(frozen=True)
class EditorCommand:
    argv: tuple[str, ...]
    variable: str
    """The environment variable it came from, for the message when it cannot be started."""


def editor_program() -> tuple[list[str], str] | None:
    """The editor's command words and the variable that named it; None when neither is set."""
    for variable in EDITOR_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value:
            try:
                return shlex.split(value, posix=os.name != "nt"), variable
            except ValueError:
                return [value], variable
    return None


def editor_command(path: Path, line: int | None = None) -> EditorCommand:
    """The command that opens `path` (at `line` when given); `editor.none` when no editor is set."""
    found = editor_program()
    if found is None:
        raise TinygradLearnError("editor.none", path=str(path))
    words, variable = found
    return EditorCommand(tuple(words + at_line(words[0], path, line)), variable)


def at_line(program: str, path: Path, line: int | None) -> list[str]:
    """The arguments that make `program` open `path` at `line`."""
    file = str(path)
    if line is None or line < 1:
        return [file]
    name = Path(program).name.lower().removesuffix(".exe").removesuffix(".cmd")
    if name in _PLUS_LINE_FIRST:
        return [f"+{line}", file]
    if name in _PLUS_LINE_AFTER:
        return [file, f"+{line}"]
    if name in _GOTO_FLAG:
        return ["-g", f"{file}:{line}"]
    if name in _FILE_COLON_LINE:
        return [f"{file}:{line}"]
    if name in _LINE_OPTION:
        return ["--line", str(line), file]
    return [file]


def open_in_editor(path: Path, line: int | None = None) -> None:
    """Open `path` in the learner's editor on their terminal, and wait until it is closed."""
    from .runner import run_program

    command = editor_command(path, line)
    result = run_program(list(command.argv), interactive=True)
    if result.problem is not None:
        raise TinygradLearnError("editor.missing", editor=command.argv[0], variable=command.variable, path=str(path))
    if result.exit_code not in (0, None):
        raise TinygradLearnError("editor.failed", editor=command.argv[0], code=result.exit_code, path=str(path))
