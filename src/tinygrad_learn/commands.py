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
    from .state import Standing


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
        if snapshot.moved_aside is not None:
            self.terminal.moved_aside(snapshot.moved_aside)
        return standing(self.course, snapshot, workspace.exercises)


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

    chosen = session.checkpoint_or_current(checkpoint, session.workspace())
    if chosen is None:
        session.terminal.note("check.all_passed_already")
        return EXIT_PASSED
    course_view.lesson(session.terminal, chosen, session.course.lesson_text(chosen, session.language))
    return EXIT_PASSED


def check(
    session: Session, checkpoint: str | None, every: bool, seed: int | None, verbose: bool, json_output: bool
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
    if len(targets) == 1:
        reports = [checking.check(session.course, workspace, targets[0], seed)]
    else:
        from . import checking_view

        with checking_view.running(session.terminal, "check.running", "check.running_all") as started:
            reports = checking.check_many(session.course, workspace, targets, seed, started)
    return _show_checks(session, reports, verbose, json_output)


def _show_checks(session: Session, reports: list[CheckReport], verbose: bool, json_output: bool) -> int:
    from . import checking_view, report_json

    term = session.terminal
    for report in reports:
        term.moved_aside(report.moved_aside)
    if json_output:
        print_json(report_json.check_json(reports))
    elif len(reports) == 1:
        checking_view.show_report(term, reports[0], verbose)
    else:
        checking_view.show_summary(term, reports)
    save_errors = [report.save_error for report in reports if report.save_error is not None]
    if save_errors:
        term.error(save_errors[0])
        return EXIT_USAGE
    return EXIT_PASSED if all(report.result.passed for report in reports) else EXIT_FAILED


def hint(session: Session, checkpoint: str | None, level: int | None, every: bool) -> int:
    from . import hints, hints_view

    workspace = session.workspace()
    chosen = session.checkpoint_or_current(checkpoint, workspace)
    if chosen is None:
        session.terminal.note("check.all_passed_already")
        return EXIT_PASSED
    hints_view.hints(session.terminal, hints.reveal(workspace, chosen, level, every))
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
    screen = watch_view.WatchScreen(session.terminal, workspace.root)
    watch.run_session(
        session.course, workspace, chosen, screen, lambda: session.standing(workspace), poll_contents=poll_contents
    )
    return EXIT_PASSED


def bench(session: Session, up_to: int, limit: float) -> int:
    from . import bench, bench_view

    workspace = session.workspace()
    sizes = tuple(n for n in bench.SIZES if n <= up_to)
    with bench_view.measuring(session.terminal, bench.total_steps(sizes)) as on_step:
        report = bench.run_bench(session.course, workspace, sizes=sizes, size_limit=limit, on_step=on_step)
    bench_view.show(session.terminal, report)
    return EXIT_FAILED if report.not_ready is not None else EXIT_PASSED


def graph(session: Session, expression: str, at: str | None, image_format: str | None, output: Path | None) -> int:
    from . import graph_view, graphing

    workspace = session.workspace()
    report = graphing.draw_graph(session.course, workspace, expression, at, dot_path=output, image_format=image_format)
    graph_view.show(session.terminal, report)
    return EXIT_PASSED if report.ok else EXIT_FAILED


def journal(session: Session, edit: bool) -> int:
    from . import journal, journal_view

    workspace = session.workspace()
    entry = journal.add_entry(workspace, session.standing(workspace).current, session.language)
    journal_view.written(session.terminal, entry)
    if edit:
        journal.open_in_editor(entry.path)
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
    return EXIT_PASSED if report.healthy else EXIT_FAILED


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


def train(session: Session, task_name: str, steps: int | None, seed: int) -> int:
    from . import training, training_view

    workspace = session.workspace()
    task = training.find_task(session.course, task_name)
    with training_view.training(session.terminal, task.name) as on_record:
        run = training.run_training(session.course, workspace, task, steps=steps, seed=seed, on_record=on_record)
    training_view.show(session.terminal, run)
    return EXIT_PASSED if run.finished else EXIT_FAILED
