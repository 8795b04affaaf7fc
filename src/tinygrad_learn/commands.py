"""What each command does: call the core, hand its finished result to the feature's view, and
return the exit code. `cli.py` parses the command line into these calls.

A new command is a core module (returns frozen values, never prints), a `<feature>_view.py`
beside it (draws them with `terminal`'s primitives), a function here, and its options in
`cli.py`. Core and views are imported inside each function, so `--help` stays cheap and `check`
can start the suite before Rich is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .manifest import Checkpoint, Course, load_course
from .paths import Workspace, course_root, find_workspace
from .terminal import EXIT_FAILED, EXIT_PASSED, EXIT_USAGE, Terminal, preload, print_json

if TYPE_CHECKING:
    from .checking import CheckReport
    from .places import Place
    from .state import Standing


@dataclass
class Session:
    """What every command needs, created lazily so `--help` and `init` stay cheap."""

    language: str
    workspace_option: Path | None
    _terminal: Terminal | None = None
    _course: Course | None = None
    _workspace_root: Path | None = None
    """Set once the workspace is found: the terminal links the learner's files into it."""

    @property
    def terminal(self) -> Terminal:
        if self._terminal is None:
            self._terminal = Terminal(self.language)
            self._terminal.workspace_root = self._workspace_root
        return self._terminal

    @property
    def course(self) -> Course:
        if self._course is None:
            self._course = load_course(course_root())
        return self._course

    def workspace(self) -> Workspace:
        found = find_workspace(self.workspace_option)
        self._workspace_root = found.root
        if self._terminal is not None:
            self._terminal.workspace_root = found.root
        return found

    def checkpoint_or_current(self, spelling: str | None, workspace: Workspace) -> Checkpoint | None:
        if spelling is not None:
            return self.course.get(spelling)
        return self.standing(workspace).current

    def standing(self, workspace: Workspace) -> Standing:
        from .progress import ProgressStore
        from .state import standing

        snapshot = ProgressStore(workspace).read()
        if snapshot.moved_aside is not None:
            self.terminal.moved_aside(snapshot.moved_aside)
        return standing(self.course, snapshot)


def welcome(session: Session) -> int:
    from . import course_view
    from .errors import TinygradLearnError

    try:
        found = session.workspace()
    except TinygradLearnError as error:
        course_view.no_workspace(session.terminal, error)
        return EXIT_PASSED
    course_view.welcome(session.terminal, session.standing(found))
    return EXIT_PASSED


def standing(session: Session, json_output: bool, with_medals: bool) -> int:
    """`list` and `progress`: the same JSON; in text, `progress` adds the medals."""
    from . import course_view, report_json

    current = session.standing(session.workspace())
    if json_output:
        print_json(report_json.course_json(session.course, current, session.language))
    elif with_medals:
        course_view.progress(session.terminal, current)
    else:
        course_view.checkpoint_list(session.terminal, current)
    return EXIT_PASSED


def show(session: Session, checkpoint: str | None) -> int:
    from . import course_view

    # A named lesson needs no workspace: it can be read before `init`.
    chosen = session.course.get(checkpoint) if checkpoint else session.checkpoint_or_current(None, session.workspace())
    if chosen is None:
        session.terminal.note("check.all_passed_already")
        return EXIT_PASSED
    course_view.lesson(session.terminal, chosen, session.course.lesson_text(chosen, session.language))
    return EXIT_PASSED


def check(
    session: Session,
    checkpoint: str | None,
    every: bool,
    seed: int | None,
    verbose: bool,
    json_output: bool,
    open_editor: bool = False,
) -> int:
    from . import checking

    preload(f"{__package__}.checking_view")  # Rich loads while the suite runs
    workspace = session.workspace()
    if every:
        targets = list(session.course.checkpoints)
    else:
        chosen = session.checkpoint_or_current(checkpoint, workspace)
        if chosen is None:
            session.terminal.note("check.all_passed_already")
            return EXIT_PASSED
        targets = [chosen]
    _require_exercise_files(workspace, targets)
    if len(targets) > 1:
        from . import checking_view

        with checking_view.running(session.terminal, "check.running", "check.running_all") as started:
            reports = checking.check_many(session.course, workspace, targets, seed, started)
        return _show_checks(session, reports, verbose, json_output)
    report = checking.check(session.course, workspace, targets[0], seed)
    exit_code = _show_checks(session, [report], verbose, json_output)
    if json_output or exit_code == EXIT_USAGE:
        return exit_code
    if open_editor and not report.result.passed:
        from .places import failing_place

        _open_editor(session, failing_place(workspace, report))
    return _recheck_earlier(session, workspace, targets[0], exit_code)


def _open_editor(session: Session, place: Place) -> None:
    """Open the learner's editor at `place`; a missing editor is said, and changes no exit code."""
    from .editor import open_in_editor
    from .errors import TinygradLearnError

    try:
        open_in_editor(place.path, place.line)
    except TinygradLearnError as error:
        session.terminal.error(error)


def _require_exercise_files(workspace: Workspace, targets: list[Checkpoint]) -> None:
    """A deleted exercise file is a setup problem with a fix, not a failed check."""
    from .errors import TinygradLearnError

    for checkpoint in targets:
        for name in checkpoint.files:
            if not (workspace.exercises / name).is_file():
                raise TinygradLearnError("check.missing_file", file=f"exercises/{name}", id=checkpoint.id)


def _recheck_earlier(session: Session, workspace: Workspace, graded: Checkpoint, exit_code: int) -> int:
    """After the verdict is shown: re-check the earlier passes the graded files may have broken,
    so a regression shows in `progress` without a `verify`. Ctrl+C skips the rest."""
    from . import checking, checking_view

    targets = checking.checkpoints_to_recheck(session.course, workspace, graded)
    if not targets:
        return exit_code
    term = session.terminal
    term.line()
    try:
        with term.busy("recheck.running", ids=", ".join(checkpoint.id for checkpoint in targets)):
            reports = checking.recheck_earlier(session.course, workspace, targets)
    except KeyboardInterrupt:
        return exit_code
    checking_view.show_rechecks(term, reports)
    return exit_code if all(report.result.passed for report in reports) else EXIT_FAILED


def _show_checks(session: Session, reports: list[CheckReport], verbose: bool, json_output: bool) -> int:
    from . import checking_view, report_json

    term = session.terminal
    for report in reports:
        term.moved_aside(report.moved_aside)
    save_errors = [report.save_error for report in reports if report.save_error is not None]
    if save_errors and not json_output:
        # First, so a verdict is never read as kept when it was not.
        term.error(save_errors[0])
        term.note("progress.not_kept")
    if json_output:
        print_json(report_json.check_json(reports))
    elif len(reports) == 1:
        checking_view.show_report(term, reports[0], verbose)
    else:
        checking_view.show_summary(term, reports)
    if save_errors:
        if json_output:
            term.error(save_errors[0])
        return EXIT_USAGE
    return EXIT_PASSED if all(report.result.passed for report in reports) else EXIT_FAILED


def hint(session: Session, checkpoint: str | None, level: int | None, every: bool, open_editor: bool = False) -> int:
    from . import hints, hints_view

    workspace = session.workspace()
    chosen = session.checkpoint_or_current(checkpoint, workspace)
    if chosen is None:
        session.terminal.note("check.all_passed_already")
        return EXIT_PASSED
    reply = hints.reveal(workspace, chosen, level, every)
    if reply.save_error is not None:
        session.terminal.error(reply.save_error)
    hints_view.hints(session.terminal, reply)
    if open_editor:
        from .places import work_place

        _open_editor(session, work_place(workspace, chosen))
    return EXIT_PASSED


def solution(session: Session, checkpoint: str, peek: bool) -> int:
    from . import hints, hints_view

    chosen = session.course.get(checkpoint)
    hints_view.solution(session.terminal, hints.reveal_solution(session.course, session.workspace(), chosen, peek))
    return EXIT_PASSED


def init(session: Session, directory: Path | None, carry_from: Path | None) -> int:
    from . import course_view
    from .workspace import open_or_init

    course_view.initialized(session.terminal, open_or_init(session.course, directory, carry_from), carry_from)
    return EXIT_PASSED


def watch(session: Session, checkpoint: str | None, poll_contents: bool) -> int:
    from . import watch, watch_view

    workspace = session.workspace()
    chosen = session.checkpoint_or_current(checkpoint, workspace)
    if chosen is None:
        session.terminal.note("watch.all_passed")
        return EXIT_PASSED
    screen = watch_view.WatchScreen(session.terminal, workspace.root, lambda: session.standing(workspace))
    watch.run_session(
        session.course, workspace, chosen, screen, lambda: session.standing(workspace), poll_contents=poll_contents
    )
    return EXIT_PASSED


def bench(session: Session, up_to: int, limit: float, plot: Path | None) -> int:
    from . import bench, bench_view

    target = _plot_target(plot)
    workspace = session.workspace()
    sizes = tuple(n for n in bench.SIZES if n <= up_to)
    with bench_view.measuring(session.terminal, bench.total_steps(sizes)) as on_step:
        report = bench.run_bench(session.course, workspace, sizes=sizes, size_limit=limit, on_step=on_step)
    bench_view.show(session.terminal, report)
    if target is not None:
        from .pictures import plots, view

        view.chart_written(session.terminal, plots.save(plots.bench_panels(report, session.language), target))
    return EXIT_FAILED if report.not_ready is not None else EXIT_PASSED


def _plot_target(plot: Path | None) -> Path | None:
    """The chart `--plot` asks for, refused before any work when it cannot be drawn here."""
    if plot is None:
        return None
    from .pictures.plots import plot_target

    return plot_target(plot)


def graph(session: Session, expression: str, at: str | None, image_format: str | None, output: Path | None) -> int:
    from . import graph_view, graphing

    workspace = session.workspace()
    report = graphing.draw_graph(session.course, workspace, expression, at, dot_path=output, image_format=image_format)
    graph_view.show(session.terminal, report)
    return EXIT_PASSED if report.ok else EXIT_FAILED


def journal(session: Session, edit: bool) -> int:
    from . import editor, journal, journal_view

    workspace = session.workspace()
    if edit:
        editor.editor_command(workspace.journal_dir)  # no editor: said before anything is written
    entry = journal.todays_page(workspace, session.standing(workspace).current, session.language)
    journal_view.written(session.terminal, entry)
    if edit:
        editor.open_in_editor(entry.path)
    return EXIT_PASSED


def reset(session: Session, checkpoint: str, yes: bool) -> int:
    from . import reset_view
    from .errors import TinygradLearnError
    from .workspace import plan_reset, reset_checkpoint

    workspace = session.workspace()
    plan = plan_reset(session.course, session.course.get(checkpoint))
    if not yes:
        if not session.terminal.interactive:
            raise TinygradLearnError("reset.needs_yes", id=plan.checkpoint.id)
        if not reset_view.confirm(session.terminal, plan, workspace.backups_dir):
            session.terminal.note("reset.cancelled")
            return EXIT_PASSED
    reset_view.done(session.terminal, reset_checkpoint(session.course, workspace, plan))
    return EXIT_PASSED


def doctor(session: Session) -> int:
    from . import doctor, doctor_view

    report = doctor.examine(session.workspace_option)
    doctor_view.show(session.terminal, report)
    # Whatever doctor finds missing is a setup problem, not a failed check.
    return EXIT_PASSED if report.healthy else EXIT_USAGE


def verify(session: Session, seed: int | None, json_output: bool) -> int:
    from . import checking_view, report_json, verify, verify_view

    workspace = session.workspace()
    with checking_view.running(session.terminal, "verify.running") as started:
        report = verify.verify(session.course, workspace, seed, started)
    session.terminal.moved_aside(report.moved_aside)
    if json_output:
        print_json(report_json.verify_json(report))
    else:
        verify_view.show(session.terminal, report)
    return EXIT_FAILED if report.regressions else EXIT_PASSED


def train(session: Session, task_name: str, steps: int | None, seed: int, plot: Path | None) -> int:
    from . import training, training_view

    workspace = session.workspace()
    task = training.find_task(session.course, task_name)
    target = _plot_target(plot)
    with training_view.training(session.terminal, task.name) as on_record:
        run = training.run_training(
            session.course, workspace, task, steps=steps, seed=seed, on_record=on_record, boundary=target is not None
        )
    training_view.show(session.terminal, run)
    if target is not None and run.losses:
        from .pictures import plots, view

        view.chart_written(session.terminal, plots.save(plots.training_panels(run, session.language), target))
    return EXIT_PASSED if run.finished else EXIT_FAILED


def notebook(session: Session, checkpoint: str | None) -> int:
    from .notebook import generate, view

    workspace = session.workspace()
    chosen = session.checkpoint_or_current(checkpoint, workspace)
    if chosen is None:
        session.terminal.note("check.all_passed_already")
        return EXIT_PASSED
    written = generate.write_notebook(session.course, workspace, chosen, session.language)
    view.notebook_written(session.terminal, written)
    return EXIT_PASSED
