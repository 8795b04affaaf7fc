"""The command line: parse, call the core, hand the result to the terminal. Nothing else lives here.

Exit codes: 0 passed (or nothing to judge), 1 checks failed, 2 usage or setup error.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import typer
from typer.core import TyperGroup

from . import __version__
from .errors import TinygradLearnError
from .i18n import LANGUAGES, Translator, resolve_language
from .manifest import Checkpoint, Course, load_course
from .paths import Workspace, course_root, find_workspace

if TYPE_CHECKING:  # terminal imports Rich: commands import these only when they need them
    from .state import Standing
    from .terminal import Terminal

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
DEBUG_ENV = "TINYGRAD_LEARN_DEBUG"


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
            _translate_help(sub, t, ctx, sub_name)


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
    """Turns every TinygradLearnError into its message and exit code 2, wherever it arises."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        t = Translator(_language_from_args(args))
        _translate_help(self, t, ctx)
        # No file name or value can hold a NUL; refused here, before any path is touched.
        for arg in args:
            if "\0" in arg:
                raise click.UsageError(t("integrity.nul_argument", argument=arg.replace("\0", "\\0")), ctx)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TinygradLearnError as error:
            _terminal(ctx).error(error)
            ctx.exit(EXIT_USAGE)
        except KeyboardInterrupt:
            _terminal(ctx).failure_text("app.interrupted")
            ctx.exit(EXIT_USAGE)


app = typer.Typer(
    cls=_Group,
    invoke_without_command=True,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass
class Session:
    """What every command needs, created lazily so `--help` and `init` stay cheap."""

    language: str
    workspace_option: Path | None
    _terminal: Terminal | None = None
    _course: Course | None = None

    @property
    def terminal(self) -> Terminal:
        if self._terminal is None:
            from .terminal import Terminal

            self._terminal = Terminal(self.language)
        return self._terminal

    @property
    def course(self) -> Course:
        if self._course is None:
            self._course = load_course(course_root())
        return self._course

    def workspace(self) -> Workspace:
        return find_workspace(self.workspace_option)

    def checkpoint_or_current(self, spelling: str | None, workspace: Workspace) -> Checkpoint | None:
        if spelling is not None:
            return self.course.get(spelling)
        return self.standing(workspace).current

    def standing(self, workspace: Workspace) -> Standing:
        from .progress import ProgressStore
        from .state import standing

        snapshot = ProgressStore(workspace).read()
        self.terminal.moved_aside(snapshot.moved_aside)
        return standing(self.course, snapshot, workspace.exercises)


def _session(ctx: click.Context) -> Session:
    root = ctx.find_root()
    if not isinstance(root.obj, Session):
        root.obj = Session(resolve_language(None), None)
    return root.obj


def _terminal(ctx: click.Context) -> Terminal:
    return _session(ctx).terminal


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
        session = ctx.obj
        try:
            found = session.workspace()
        except TinygradLearnError:
            session.terminal.no_workspace()
            return
        session.terminal.welcome(session.standing(found), session.language)


def _show_standing(ctx: typer.Context, json_output: bool, render: str) -> None:
    """`list` and `progress`: the same JSON, and in text the terminal view named by `render`."""
    session = _session(ctx)
    standing = session.standing(session.workspace())
    if json_output:
        from .terminal import course_json

        session.terminal.print_json(course_json(session.course, standing, session.language))
    else:
        getattr(session.terminal, render)(standing, session.language)


@app.command("list")
def list_command(ctx: typer.Context, json_output: bool = typer.Option(False, "--json")) -> None:
    _show_standing(ctx, json_output, "checkpoint_list")


@app.command("show")
def show_command(ctx: typer.Context, checkpoint: str | None = typer.Argument(None, metavar="[CHECKPOINT]")) -> None:
    session = _session(ctx)
    chosen = session.checkpoint_or_current(checkpoint, session.workspace())
    if chosen is None:
        session.terminal.note("check.all_passed_already")
        return
    session.terminal.lesson(chosen, session.course.lesson_text(chosen, session.language), session.language)


@app.command("check")
def check_command(
    ctx: typer.Context,
    checkpoint: str | None = typer.Argument(None, metavar="[CHECKPOINT]"),
    check_all: bool = typer.Option(False, "--all"),
    seed: int | None = typer.Option(None, "--seed", min=0),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
    json_output: bool = typer.Option(False, "--json"),
) -> None:
    from .checking import check

    session = _session(ctx)
    workspace = session.workspace()
    # Rendering needs Rich, which is slow to import: let that happen while the suite runs.
    threading.Thread(target=importlib.import_module, args=(".terminal", __package__), daemon=True).start()
    if check_all:
        targets = list(session.course.checkpoints)
    else:
        chosen = session.checkpoint_or_current(checkpoint, workspace)
        if chosen is None:
            session.terminal.note("check.all_passed_already")
            return
        targets = [chosen]
    if len(targets) == 1:
        reports = [check(session.course, workspace, targets[0], seed)]
    else:
        reports = _check_many(session, workspace, targets, seed)
    from .sourcemap import with_backward_locations

    reports = [with_backward_locations(report, workspace.exercises) for report in reports]
    for report in reports:
        session.terminal.moved_aside(report.moved_aside)
    if json_output:
        from .terminal import check_json

        session.terminal.print_json(check_json(reports))
    elif len(reports) == 1:
        session.terminal.check_report(reports[0], session.language, reports[0].next_checkpoint, verbose)
    else:
        session.terminal.check_all(reports, len(targets))
    save_errors = [report.save_error for report in reports if report.save_error is not None]
    if save_errors:
        session.terminal.error(save_errors[0])
        raise typer.Exit(EXIT_USAGE)
    if not all(report.result.passed for report in reports):
        raise typer.Exit(EXIT_FAILED)


def _check_many(session: Session, workspace: Workspace, targets: list[Checkpoint], seed: int | None) -> list[Any]:
    from rich.progress import Progress

    from .checking import check

    reports = []
    t = Translator(session.language)
    with Progress(console=session.terminal.err, transient=True) as bar:
        task = bar.add_task(t("check.running_all"), total=len(targets))
        for target in targets:
            bar.update(task, description=t("check.running", id=target.id))
            reports.append(check(session.course, workspace, target, seed))
            bar.advance(task)
    return reports


@app.command("progress")
def progress_command(ctx: typer.Context, json_output: bool = typer.Option(False, "--json")) -> None:
    _show_standing(ctx, json_output, "progress")


@app.command("hint")
def hint_command(
    ctx: typer.Context,
    checkpoint: str | None = typer.Argument(None, metavar="[CHECKPOINT]"),
    level: int | None = typer.Option(None, "--level", "-l"),
    all_levels: bool = typer.Option(False, "--all"),
) -> None:
    from .hints import reveal

    session = _session(ctx)
    workspace = session.workspace()
    chosen = session.checkpoint_or_current(checkpoint, workspace)
    if chosen is None:
        session.terminal.note("check.all_passed_already")
        return
    session.terminal.hints(reveal(workspace, chosen, level, all_levels), session.language)


@app.command("init")
def init_command(
    ctx: typer.Context,
    directory: Path | None = typer.Argument(None, metavar="[DIR]"),
    carry_from: Path | None = typer.Option(None, "--from", metavar="PATH"),
) -> None:
    from .workspace import open_or_init

    session = _session(ctx)
    made = open_or_init(session.course, directory, carry_from)
    if made.carried:
        session.terminal.note("init.carried", count=made.carried, path=str(carry_from))
    session.terminal.initialized(made.workspace, made.created)


@app.command("watch")
def watch_command(
    ctx: typer.Context,
    checkpoint: str | None = typer.Argument(None, metavar="[CHECKPOINT]"),
    poll: bool = typer.Option(False, "--poll"),
) -> None:
    from .watch import FileWatcher, close_keys, open_keys

    session = _session(ctx)
    workspace = session.workspace()
    chosen = session.checkpoint_or_current(checkpoint, workspace)
    if chosen is None:
        session.terminal.note("watch.all_passed")
        return
    keys = open_keys()
    try:
        _watch(session, workspace, chosen, FileWatcher(contents=poll), keys)
    except KeyboardInterrupt:
        pass
    finally:
        close_keys(keys)
    session.terminal.watch_note("watch.stopped")


def _watch(session: Session, workspace: Workspace, checkpoint: Checkpoint, watcher: Any, keys: Any) -> None:
    """Check on every settled save; keys move on, show a hint or the list, or quit."""
    from .checking import check
    from .hints import reveal
    from .sourcemap import with_backward_locations
    from .watch import FilesChanged, LineKeys, watch_events

    course, terminal, language = session.course, session.terminal, session.language

    def following(current: Checkpoint) -> Checkpoint | None:
        position = course.checkpoints.index(current)
        return course.checkpoints[position + 1] if position + 1 < len(course.checkpoints) else None

    def run_check(changed: tuple[Path, ...] = ()) -> None:
        terminal.watch_screen(checkpoint, language, isinstance(keys, LineKeys))
        if changed:
            terminal.watch_changed(changed, workspace.root)
        with terminal.busy("watch.checking", id=checkpoint.id):
            report = with_backward_locations(check(course, workspace, checkpoint), workspace.exercises)
        terminal.moved_aside(report.moved_aside)
        terminal.watch_verdict(report, language, following(checkpoint))

    watcher.watch([workspace.exercises / name for name in checkpoint.files])
    run_check()
    for event in watch_events(watcher, keys):
        if isinstance(event, FilesChanged):
            run_check(event.paths)
        elif event.key == "q":
            return
        elif event.key == "n":
            upcoming = following(checkpoint)
            if upcoming is None:
                terminal.watch_note("watch.last", id=checkpoint.id)
                continue
            checkpoint = upcoming
            watcher.watch([workspace.exercises / name for name in checkpoint.files])
            run_check()
        elif event.key == "h":
            terminal.hints(reveal(workspace, checkpoint), language)
        elif event.key == "l":
            terminal.checkpoint_list(session.standing(workspace), language)
        else:
            terminal.watch_note("watch.unknown_key", pressed=event.key)


@app.command("bench")
def bench_command(
    ctx: typer.Context,
    up_to: int = typer.Option(100_000, "--up-to", min=100, metavar="N"),
    limit: float = typer.Option(5.0, "--limit", min=0.5, metavar="SECONDS"),
) -> None:
    from .bench import SIZES, run_bench, total_steps

    session = _session(ctx)
    workspace = session.workspace()
    sizes = tuple(n for n in SIZES if n <= up_to)
    bar, advance = session.terminal.task_progress("bench.starting", total_steps(sizes))
    with bar:
        report = run_bench(
            session.course,
            workspace,
            sizes=sizes,
            size_limit=limit,
            on_step=lambda label, steps: advance(session.terminal.bench_step(label), steps),
        )
    session.terminal.bench_report(report)
    if report.not_ready is not None:
        raise typer.Exit(EXIT_FAILED)


@app.command("graph")
def graph_command(
    ctx: typer.Context,
    expression: str = typer.Argument(..., metavar="EXPRESSION"),
    at: str | None = typer.Option(None, "--at", metavar="x=1,y=2"),
    image_format: str | None = typer.Option(None, "--format", metavar="svg|png"),
    output: Path | None = typer.Option(None, "--output", "-o", dir_okay=False),
) -> None:
    from .graphing import draw_graph

    session = _session(ctx)
    workspace = session.workspace()
    report = draw_graph(session.course, workspace, expression, at, dot_path=output, image_format=image_format)
    session.terminal.graph_report(report)
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


@app.command("journal")
def journal_command(ctx: typer.Context, edit: bool = typer.Option(False, "--edit")) -> None:
    from .journal import add_entry, open_in_editor

    session = _session(ctx)
    workspace = session.workspace()
    entry = add_entry(workspace, session.standing(workspace).current, session.language)
    session.terminal.journal_written(entry)
    if edit:
        open_in_editor(entry.path)


@app.command("reset")
def reset_command(
    ctx: typer.Context,
    checkpoint: str = typer.Argument(..., metavar="CHECKPOINT"),
    yes: bool = typer.Option(False, "--yes", "-y"),
) -> None:
    from .workspace import plan_reset, reset_checkpoint

    session = _session(ctx)
    workspace = session.workspace()
    plan = plan_reset(session.course, session.course.get(checkpoint))
    if not yes:
        if not session.terminal.interactive:
            raise TinygradLearnError("reset.needs_yes", id=plan.checkpoint.id)
        if not session.terminal.reset_confirm(plan, workspace.backups_dir):
            session.terminal.note("reset.cancelled")
            return
    session.terminal.reset_done(reset_checkpoint(session.course, workspace, plan))


@app.command("solution")
def solution_command(
    ctx: typer.Context,
    checkpoint: str = typer.Argument(..., metavar="CHECKPOINT"),
    peek: bool = typer.Option(False, "--peek"),
) -> None:
    from .hints import reveal_solution

    session = _session(ctx)
    workspace = session.workspace()
    reply = reveal_solution(session.course, workspace, session.course.get(checkpoint), peek)
    session.terminal.solution(reply, session.language)


@app.command("doctor")
def doctor_command(ctx: typer.Context) -> None:
    from .doctor import examine

    session = _session(ctx)
    report = examine(session.workspace_option)
    session.terminal.doctor(report)
    if not report.healthy:
        raise typer.Exit(EXIT_FAILED)


@app.command("verify")
def verify_command(
    ctx: typer.Context,
    seed: int | None = typer.Option(None, "--seed", min=0),
    json_output: bool = typer.Option(False, "--json"),
) -> None:
    from rich.progress import Progress

    from .verify import verify

    session = _session(ctx)
    workspace = session.workspace()
    t = Translator(session.language)
    with Progress(console=session.terminal.err, transient=True) as bar:
        task = bar.add_task("", total=None)

        def started(checkpoint: Checkpoint, number: int, total: int) -> None:
            description = t("verify.running", id=checkpoint.id, number=number, total=total)
            bar.update(task, description=description, total=total, completed=number - 1)

        report = verify(session.course, workspace, seed, started)
    session.terminal.moved_aside(report.moved_aside)
    if json_output:
        session.terminal.verify_json(report)
    else:
        session.terminal.verify_report(report, session.language)
    if report.regressions:
        raise typer.Exit(EXIT_FAILED)


@app.command("train")
def train_command(
    ctx: typer.Context,
    task_name: str = typer.Argument("xor", metavar="[xor|framework]"),
    steps: int | None = typer.Option(None, "--steps", min=1, max=100_000),
    training_seed: int = typer.Option(0, "--seed", min=0),
) -> None:
    from .training import find_task, run_training

    session = _session(ctx)
    workspace = session.workspace()
    task = find_task(task_name)
    bar, on_record = session.terminal.training_progress(task.name)
    with bar:
        run = run_training(session.course, workspace, task, steps=steps, seed=training_seed, on_record=on_record)
    session.terminal.training_report(run)
    if not run.finished:
        raise typer.Exit(EXIT_FAILED)


def main(argv: Sequence[str] | None = None) -> None:
    """The console-script entry point: no learner ever sees a traceback from the tool itself."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(app)
    try:
        command.main(args=args, prog_name="tinygrad-learn", standalone_mode=True)
    except SystemExit:
        raise
    except Exception as error:  # the last line of defence; everything expected is handled above
        if os.environ.get(DEBUG_ENV):
            raise
        from .terminal import Terminal

        Terminal(_language_from_args(args)).failure_text("app.internal_error", problem=type(error).__name__)
        sys.exit(EXIT_USAGE)
