"""The command line: parse the arguments into a call of `commands`, whose exit code it returns.

Exit codes: 0 passed (or nothing to judge), 1 checks failed, 2 usage or setup error. Errors
become messages in one place, `terminal.error_boundary`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import typer
from typer.core import TyperGroup

from . import __version__, click_korean, commands
from .commands import Session
from .i18n import LANGUAGES, Translator, resolve_language
from .terminal import error_boundary


def _language_from_args(args: Sequence[str]) -> str:
    """The language asked for anywhere on the command line, before click has parsed it."""
    requested = None
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            requested = args[i + 1]
        elif arg.startswith("--lang="):
            requested = arg.split("=", 1)[1]
    return resolve_language(requested)


def _translate_help(command: click.Command, t: Translator, ctx: click.Context, name: str = "app") -> None:
    """Help texts come from the locale files, so `--lang ko --help` is Korean too."""
    command.help = t(f"help.{name}")
    command.short_help = None
    for param in command.params:
        key = f"help.{_HELP_KEYS.get(param.name or '', param.name)}"
        if isinstance(param, click.Option) or isinstance(param, click.Argument) and hasattr(param, "help"):
            param.help = t(key)
    # click makes -h/--help itself, with an English text of its own.
    help_option = command.get_help_option(ctx)
    if help_option is not None:
        help_option.help = t("help.help")
    if isinstance(command, click.Group):
        for sub_name, sub in command.commands.items():
            _translate_help(sub, t, ctx, sub_name if name == "app" else f"{name}_{sub_name}")


# Parameters whose help key differs from their name.
_HELP_KEYS = {
    "check_all": "all",
    "all_levels": "all_hints",
    "json_output": "json",
    "checkpoint": "arg_checkpoint",
    "directory": "arg_dir",
    "carry_from": "init_from",
    "task_name": "arg_task",
    "steps": "train_steps",
    "training_seed": "train_seed",
}


class _Group(TyperGroup):
    """Translates the help, and runs every command inside the error boundary."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        language = _language_from_args(args)
        click_korean.install(language)
        t = Translator(language)
        _translate_help(self, t, ctx)
        # No file name or value can hold a NUL; refused here, before any path is touched.
        for arg in args:
            if "\0" in arg:
                raise click.UsageError(t("integrity.nul_argument", argument=arg.replace("\0", "\\0")), ctx)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        with error_boundary(lambda: _session(ctx).language):
            return super().invoke(ctx)


app = typer.Typer(
    cls=_Group,
    invoke_without_command=True,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    # Click 8.4 suggests the nearest command itself, through its translatable texts; Typer's own
    # suggestion would repeat it in English.
    suggest_commands=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _session(ctx: click.Context) -> Session:
    root = ctx.find_root()
    if not isinstance(root.obj, Session):
        root.obj = Session(resolve_language(None), None)
    return root.obj


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tinygrad-learn {__version__}")
        raise typer.Exit()


def _check_language(value: str | None) -> str | None:
    if value is not None and value.lower() not in LANGUAGES:
        raise typer.BadParameter(f"{value!r}: en | ko")
    return value


@app.callback()
def main_callback(
    ctx: typer.Context,
    lang: str | None = typer.Option(None, "--lang", callback=_check_language, metavar="en|ko"),
    workspace: Path | None = typer.Option(None, "--workspace", "-w", file_okay=False),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True),
) -> None:
    ctx.obj = Session(resolve_language(lang), workspace)
    if ctx.invoked_subcommand is None:
        _done(commands.welcome(ctx.obj))


def _done(exit_code: int) -> None:
    if exit_code:
        raise typer.Exit(exit_code)


@app.command("list")
def list_command(ctx: typer.Context, json_output: bool = typer.Option(False, "--json")) -> None:
    _done(commands.standing(_session(ctx), json_output, with_medals=False))


@app.command("show")
def show_command(ctx: typer.Context, checkpoint: str | None = typer.Argument(None, metavar="[CHECKPOINT]")) -> None:
    _done(commands.show(_session(ctx), checkpoint))


@app.command("check")
def check_command(
    ctx: typer.Context,
    checkpoint: str | None = typer.Argument(None, metavar="[CHECKPOINT]"),
    check_all: bool = typer.Option(False, "--all"),
    seed: int | None = typer.Option(None, "--seed", min=0),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
    json_output: bool = typer.Option(False, "--json"),
) -> None:
    _done(commands.check(_session(ctx), checkpoint, check_all, seed, verbose, json_output))


@app.command("progress")
def progress_command(ctx: typer.Context, json_output: bool = typer.Option(False, "--json")) -> None:
    _done(commands.standing(_session(ctx), json_output, with_medals=True))


@app.command("hint")
def hint_command(
    ctx: typer.Context,
    checkpoint: str | None = typer.Argument(None, metavar="[CHECKPOINT]"),
    level: int | None = typer.Option(None, "--level", "-l"),
    all_levels: bool = typer.Option(False, "--all"),
) -> None:
    _done(commands.hint(_session(ctx), checkpoint, level, all_levels))


@app.command("init")
def init_command(
    ctx: typer.Context,
    directory: Path | None = typer.Argument(None, metavar="[DIR]"),
    carry_from: Path | None = typer.Option(None, "--from", metavar="PATH"),
) -> None:
    _done(commands.init(_session(ctx), directory, carry_from))


@app.command("watch")
def watch_command(
    ctx: typer.Context,
    checkpoint: str | None = typer.Argument(None, metavar="[CHECKPOINT]"),
    poll: bool = typer.Option(False, "--poll"),
) -> None:
    _done(commands.watch(_session(ctx), checkpoint, poll))


@app.command("bench")
def bench_command(
    ctx: typer.Context,
    up_to: int = typer.Option(100_000, "--up-to", min=100, metavar="N"),
    limit: float = typer.Option(5.0, "--limit", min=0.5, metavar="SECONDS"),
) -> None:
    _done(commands.bench(_session(ctx), up_to, limit))


@app.command("graph")
def graph_command(
    ctx: typer.Context,
    expression: str = typer.Argument(..., metavar="EXPRESSION"),
    at: str | None = typer.Option(None, "--at", metavar="x=1,y=2"),
    image_format: str | None = typer.Option(None, "--format", metavar="svg|png"),
    output: Path | None = typer.Option(None, "--output", "-o", dir_okay=False),
) -> None:
    _done(commands.graph(_session(ctx), expression, at, image_format, output))


@app.command("journal")
def journal_command(ctx: typer.Context, edit: bool = typer.Option(False, "--edit")) -> None:
    _done(commands.journal(_session(ctx), edit))


@app.command("reset")
def reset_command(
    ctx: typer.Context,
    checkpoint: str = typer.Argument(..., metavar="CHECKPOINT"),
    yes: bool = typer.Option(False, "--yes", "-y"),
) -> None:
    _done(commands.reset(_session(ctx), checkpoint, yes))


@app.command("solution")
def solution_command(
    ctx: typer.Context,
    checkpoint: str = typer.Argument(..., metavar="CHECKPOINT"),
    peek: bool = typer.Option(False, "--peek"),
) -> None:
    _done(commands.solution(_session(ctx), checkpoint, peek))


@app.command("doctor")
def doctor_command(ctx: typer.Context) -> None:
    _done(commands.doctor(_session(ctx)))


@app.command("verify")
def verify_command(
    ctx: typer.Context,
    seed: int | None = typer.Option(None, "--seed", min=0),
    json_output: bool = typer.Option(False, "--json"),
) -> None:
    _done(commands.verify(_session(ctx), seed, json_output))


@app.command("train")
def train_command(
    ctx: typer.Context,
    task_name: str = typer.Argument("xor", metavar="[xor|framework]"),
    steps: int | None = typer.Option(None, "--steps", min=1, max=100_000),
    training_seed: int = typer.Option(0, "--seed", min=0),
) -> None:
    _done(commands.train(_session(ctx), task_name, steps, training_seed))


def main(argv: Sequence[str] | None = None) -> None:
    """The console-script entry point: no learner ever sees a traceback from the tool itself."""
    args = list(sys.argv[1:] if argv is None else argv)
    with error_boundary(lambda: _language_from_args(args), last_line=True):
        typer.main.get_command(app).main(args=args, prog_name="tinygrad-learn", standalone_mode=True)


# The author's kit (`dev check`, `dev new`): a command group of its own, beside its core.
from .dev.commands import dev_app  # noqa: E402

app.add_typer(dev_app, name="dev")


def _register_instructor_commands() -> None:
    from .instructor.commands import register

    register(app)


_register_instructor_commands()
