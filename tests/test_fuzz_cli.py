"""No tracebacks: every command, fed random and malformed arguments, answers with a clean message.

The commands and their parameters are read from the Typer app, so a new command is fuzzed with no
change here. Each random vector is malformed by construction (it ends with a token the parser
must refuse: an unknown option, a value of the wrong type or out of range, a missing value, a
value given to a flag, an extra argument, a NUL byte), so no command body runs and the answer
must be exit code 2 with a message. Odd but valid inputs (paths with spaces and Hangul, huge
seeds, aliases, both languages) must give 0 or 1. A broken manifest and a missing workspace give
2. A few go through a real `python -m tinygrad_learn` process, since CliRunner catches
exceptions itself.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from tinygrad_learn.cli import app
from tinygrad_learn.paths import Workspace

from .conftest import FIXTURE_COURSE, run_cli

SEED = 20240611
VECTORS_PER_COMMAND = 30
# Root options that would change the shell set-up of whoever runs the tests.
NEVER_FUZZED = {"install_completion", "show_completion", "version"}
JUNK = [
    "",
    " ",
    "학습 폴더",
    "a b",
    "..",
    "/",
    "~",
    "é",
    "'\"",
    "{0}{}%s",
    "$(echo hi)",
    "\u202e",
    "9" * 40,
    "1e309",
    "nan",
    "x" * 3000,
    "\t\n",
    "../../etc/passwd",
    "step 2",
    "C:\\Users",
    "-",
    "🙂",
]
NOT_NUMBERS = ["abc", "", "1,5", "0x10", "½", "--", "1e5e5"]
INTERNAL_ERROR = "Something went wrong inside"

ROOT = typer.main.get_command(app)
assert isinstance(ROOT, click.Group)
COMMANDS = dict(sorted(ROOT.commands.items()))


def is_number_type(param: click.Parameter) -> bool:
    return isinstance(param.type, (click.types.IntParamType, click.types.FloatParamType))


def value_for(param: click.Option, chance: random.Random) -> str:
    if is_number_type(param) and chance.random() < 0.5:
        return str(chance.choice([0, 1, 7, 10**30, 2**63, 1000, 3]))
    return chance.choice(JUNK)


def refused_ending(command: click.Command, positionals_given: int, chance: random.Random) -> list[str]:
    """A last token (or two) that this command's parser has to refuse."""
    options = [p for p in command.params if isinstance(p, click.Option) and p.name not in NEVER_FUZZED]
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    endings: list[list[str]] = [["--no-such-option"], ["-Q"], ["--=x"], ["nul\0byte"]]
    for option in options:
        if option.is_flag:
            endings.append([f"{option.opts[0]}=yes"])
        else:
            endings.append([option.opts[0]])  # its value is missing
        if is_number_type(option):
            endings.append([option.opts[0], chance.choice(NOT_NUMBERS)])
            minimum = getattr(option.type, "min", None)
            if minimum is not None:
                endings.append([option.opts[0], str(int(minimum) - 1)])
    if not any(argument.nargs == -1 for argument in arguments):
        endings.append(["extra"] * (len(arguments) - positionals_given + 1))
    return chance.choice(endings)


def malformed_vector(name: str, command: click.Command, chance: random.Random) -> list[str]:
    args: list[str] = []
    if chance.random() < 0.4:
        args += ["--lang", chance.choice(["en", "ko"])]
    if chance.random() < 0.2:
        args += ["--workspace", chance.choice(JUNK[1:])]
    args.append(name)
    options = [p for p in command.params if isinstance(p, click.Option)]
    for option in chance.sample(options, k=chance.randint(0, len(options))):
        args += [option.opts[0]] if option.is_flag else [option.opts[-1], value_for(option, chance)]
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    given = chance.randint(0, len(arguments))
    args += [chance.choice([j for j in JUNK if not j.startswith("-")]) for _ in range(given)]
    return args + refused_ending(command, given, chance)


def assert_clean(result: click.testing.Result, args: list[str], codes: tuple[int, ...] = (2,)) -> None:
    context = f"{args!r}\n{result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), context
    assert result.exit_code in codes, context
    assert "Traceback" not in result.output, context
    assert INTERNAL_ERROR not in result.output, context
    assert result.output.strip(), context


def test_every_command_is_fuzzed() -> None:
    assert {"check", "init", "list", "progress", "verify"} <= set(COMMANDS)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_malformed_arguments_are_refused_cleanly(name: str, cli: CliRunner, workspace: Workspace) -> None:
    chance = random.Random(f"{SEED}-{name}")
    for _ in range(VECTORS_PER_COMMAND):
        args = malformed_vector(name, COMMANDS[name], chance)
        assert_clean(run_cli(cli, *args), args)


def test_malformed_root_options_are_refused_cleanly(cli: CliRunner, workspace: Workspace) -> None:
    for args in (
        ["--lang", "xx", "list"],
        ["--lang"],
        ["--lang", "", "list"],
        ["--workspace"],
        ["--no-such-option"],
        ["no-such-command"],
        ["--workspace", "x" * 5000, "list"],
        ["--workspace", "/" + "y" * 300 + "/z", "list"],
        ["--workspace", "nul\0", "list"],
        ["--workspace", str(workspace.exercises / "mathy.py"), "list"],
        ["-w", "/nonexistent/학습 폴더", "progress"],
    ):
        assert_clean(run_cli(cli, *args), args)


def test_every_command_explains_a_missing_workspace(
    cli: CliRunner, fixture_course: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "빈 폴더"
    empty.mkdir()
    monkeypatch.chdir(empty)
    # init makes the missing workspace (at the default location): tests/test_workspace_location.py.
    for name in (command for command in COMMANDS if command != "init"):
        args = [name]
        result = run_cli(cli, *args)
        # doctor reports the missing workspace as one of its findings.
        assert_clean(result, args, codes=(1, 2) if name == "doctor" else (2,))
    assert list(empty.iterdir()) == []


@pytest.mark.parametrize(
    "damage",
    [
        b"{{{ not yaml",
        b"format_version: 99\ncheckpoints: []\nmedals: []\n",
        b"\xff\xfe broken",
        b"- a list\n",
        None,
        b"format_version: 1\ncheckpoints:\n  - id: alpha\n    title: {en: x, ko: y}\nmedals: []\n",
    ],
)
def test_a_broken_manifest_is_a_clean_usage_error(
    damage: bytes | None, cli: CliRunner, workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = tmp_path / "broken course"
    shutil.copytree(FIXTURE_COURSE, course, ignore=shutil.ignore_patterns("__pycache__"))
    if damage is None:
        (course / "checkpoints.yaml").unlink()
    else:
        (course / "checkpoints.yaml").write_bytes(damage)
    monkeypatch.setenv("TINYGRAD_LEARN_COURSE", str(course))
    for name in COMMANDS:
        args = [name] + (["ws2"] if name == "init" else [])
        result = run_cli(cli, *args)
        assert_clean(result, args, codes=(0, 1, 2))
        if name in {"list", "check", "progress", "hint", "show", "verify", "init"}:
            assert result.exit_code == 2 and "course file" in result.output, (name, result.output)


def test_odd_but_valid_input_works(
    cli: CliRunner, fixture_course: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "학습 폴더 with spaces"
    home.mkdir()
    monkeypatch.chdir(home)
    assert_clean(run_cli(cli, "init", "내 작업 공간"), ["init"], codes=(0,))
    root = home / "내 작업 공간"
    monkeypatch.chdir(root)
    for args, code in (
        (["list"], 0),
        (["--lang", "ko", "progress"], 0),
        (["--lang=ko", "show", "A1"], 0),
        (["check", "ALPHA", "--seed", "9" * 30], 1),
        (["check", "a-1", "--json"], 1),
        (["hint", "alpha", "--level", "2"], 0),
        (["verify"], 0),
    ):
        assert_clean(run_cli(cli, *args), args, codes=(code,))
    monkeypatch.chdir(tmp_path)
    assert_clean(run_cli(cli, "--workspace", str(root), "list", "--json"), ["--workspace"], codes=(0,))


def run_module(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tinygrad_learn", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_a_real_process_never_shows_a_traceback(workspace: Workspace, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "checkpoints.yaml").write_text("{{{", encoding="utf-8")
    elsewhere = tmp_path / "아무 데나"
    elsewhere.mkdir()
    for args, cwd, extra, code in (
        (["check", "--seed", "abc"], workspace.root, {}, 2),
        (["no-such-command"], workspace.root, {}, 2),
        (["--workspace", "/nonexistent/학습 폴더", "list"], workspace.root, {}, 2),
        (["check"], elsewhere, {}, 2),
        (["list"], workspace.root, {"TINYGRAD_LEARN_COURSE": str(broken)}, 2),
        (["hint", "--level", "9" * 40], workspace.root, {}, 2),
        (["check", "alpha"], workspace.root, {}, 1),
    ):
        done = run_module(*args, cwd=cwd, env={**env, **extra})
        context = f"{args}: {done.stdout}{done.stderr}"
        assert done.returncode == code, context
        assert "Traceback" not in done.stdout + done.stderr, context
        assert (done.stdout + done.stderr).strip(), context
