"""The notebook's commands, the IPython magics: `%check`, `%hint`, `%progress`, `%show`, `%graph`,
`%%exercise` and `%tinygrad_learn workspace DIR | lang en|ko`. Each parses its line, calls the
core, and hands the result to the feature's own view, drawn into HTML by `view.render`.

Every verdict comes from the workspace's exercise FILES through `checking.check`, the same
sandboxed run as `tinygrad-learn check`; nothing in the kernel (a `Value` redefined in a cell,
a patched module) is ever graded. As in `watch`, the runs are forked from a warm grading process
the kernel keeps (started by the sandbox, never a copy of the kernel), so a `%check` does not
start Python, pytest and numpy again. Errors are shown as messages, never as tracebacks.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import functools
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from IPython.display import HTML, SVG, Markdown, display

from ..errors import TinygradLearnError
from ..i18n import LANGUAGES, Translator, resolve_language
from ..manifest import Checkpoint, Course, load_course
from ..paths import Workspace, course_root, find_workspace
from .view import NOTE_COLOUR, message, render

if TYPE_CHECKING:
    from ..sandbox_warm import WarmGrader
    from ..state import Standing
    from ..terminal import Terminal


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad line as the tool's own error instead of exiting the kernel."""

    def error(self, problem: str) -> NoReturn:
        usage = self.format_usage().strip().removeprefix("usage: ")
        raise TinygradLearnError("notebook.usage", usage=usage, problem=problem)


def _parser(name: str) -> _Parser:
    return _Parser(prog=f"%{name}", add_help=False)


def _guarded(method: Callable[..., None]) -> Callable[..., None]:
    """Every magic shows the tool's message for an expected error, and never a traceback of the tool."""

    @functools.wraps(method)
    def run(self: NotebookSession, *args: Any) -> None:
        t = Translator(self.language)
        try:
            method(self, *args)
        except TinygradLearnError as error:
            display(HTML(message(t(error.key, **error.params))))
        except Exception as error:  # the last line of defence, as in the CLI's main()
            display(HTML(message(t("app.internal_error", problem=type(error).__name__))))

    return run


def load_ipython_extension(ipython: Any) -> None:
    NotebookSession().register(ipython)


class NotebookSession:
    """The state the magics share in one kernel: the language, the workspace, the course."""

    def __init__(self) -> None:
        self.language = resolve_language(None)
        self.workspace_folder: Path | None = None
        self._course: Course | None = None
        self._warm = contextlib.ExitStack()
        self._warm_grader: WarmGrader | None = None
        self._warm_for: Path | None = None
        """The exercises folder the warm grading process was started for."""

    # -- what every magic needs ------------------------------------------------------------------

    @property
    def course(self) -> Course:
        if self._course is None:
            self._course = load_course(course_root())
        return self._course

    def workspace(self) -> Workspace:
        """The folder set with `%tinygrad_learn workspace DIR`, else the nearest above the notebook's folder."""
        return find_workspace(self.workspace_folder)

    def checkpoint(self, spelling: str | None, workspace: Workspace) -> Checkpoint | None:
        if spelling:
            return self.course.get(spelling)
        return self.standing(workspace).current

    def standing(self, workspace: Workspace) -> Standing:
        from ..progress import ProgressStore
        from ..state import standing

        return standing(self.course, ProgressStore(workspace).read())

    def warm_grader(self, workspace: Workspace) -> WarmGrader | None:
        """The kernel's warm grading process for `workspace`, started at the first check there (or
        again when a run stopped it); stopped when the kernel exits. None where fork is unavailable."""
        from ..runner import warm_grading

        grader = self._warm_grader
        if self._warm_for != workspace.exercises or (grader is not None and not grader.alive):
            self.stop_warm_grader()
            self._warm_grader = self._warm.enter_context(warm_grading(workspace.exercises, self.course.solutions))
            self._warm_for = workspace.exercises
            atexit.register(self.stop_warm_grader)
        return self._warm_grader

    def stop_warm_grader(self) -> None:
        self._warm.close()
        self._warm_grader = self._warm_for = None
        atexit.unregister(self.stop_warm_grader)

    def show(self, draw: Callable[[Terminal], None]) -> None:
        display(HTML(render(self.language, draw)))

    def _all_passed(self) -> None:
        self.show(lambda term: term.note("check.all_passed_already"))

    def register(self, ipython: Any) -> None:
        for name, method in (
            ("tinygrad_learn", self.settings),
            ("check", self.check),
            ("hint", self.hint),
            ("progress", self.progress),
            ("show", self.lesson),
            ("graph", self.graph),
        ):
            ipython.register_magic_function(method, "line", name)
        ipython.register_magic_function(self.exercise, "cell", "exercise")

    # -- the magics ------------------------------------------------------------------------------

    @_guarded
    def settings(self, line: str) -> None:
        parser = _parser("tinygrad_learn")
        parser.add_argument("setting", choices=("workspace", "lang"))
        parser.add_argument("value")
        args = parser.parse_args(shlex.split(line))
        t = Translator(self.language)
        if args.setting == "lang":
            if args.value.lower() not in LANGUAGES:
                raise TinygradLearnError("notebook.bad_language", value=args.value)
            self.language = args.value.lower()
            return
        from . import playground

        self.workspace_folder = playground.chosen_workspace = find_workspace(Path(args.value)).root
        display(HTML(message(t("notebook.workspace_set", path=str(self.workspace_folder)), NOTE_COLOUR)))

    @_guarded
    def check(self, line: str) -> None:
        parser = _parser("check")
        parser.add_argument("checkpoint", nargs="?")
        parser.add_argument("--seed", type=int)
        parser.add_argument("--verbose", "-v", action="store_true")
        args = parser.parse_args(shlex.split(line))
        workspace = self.workspace()
        chosen = self.checkpoint(args.checkpoint, workspace)
        if chosen is None:
            self._all_passed()
            return
        self._check(workspace, chosen, args.seed, args.verbose)

    def _check(self, workspace: Workspace, checkpoint: Checkpoint, seed: int | None, verbose: bool) -> None:
        from .. import checking_view
        from ..checking import check

        report = check(self.course, workspace, checkpoint, seed, self.warm_grader(workspace))

        def draw(term: Terminal) -> None:
            term.moved_aside(report.moved_aside)
            checking_view.show_report(term, report, verbose)
            if report.save_error is not None:
                term.error(report.save_error)

        self.show(draw)

    @_guarded
    def hint(self, line: str) -> None:
        from .. import hints_view
        from ..hints import reveal

        parser = _parser("hint")
        parser.add_argument("checkpoint", nargs="?")
        parser.add_argument("--level", "-l", type=int)
        parser.add_argument("--all", action="store_true", dest="all_levels")
        args = parser.parse_args(shlex.split(line))
        workspace = self.workspace()
        chosen = self.checkpoint(args.checkpoint, workspace)
        if chosen is None:
            self._all_passed()
            return
        reply = reveal(workspace, chosen, args.level, args.all_levels)
        self.show(lambda term: hints_view.hints(term, reply))

    @_guarded
    def progress(self, line: str) -> None:
        from .. import course_view

        _parser("progress").parse_args(shlex.split(line))
        current = self.standing(self.workspace())
        self.show(lambda term: course_view.progress(term, current))

    @_guarded
    def lesson(self, line: str) -> None:
        parser = _parser("show")
        parser.add_argument("checkpoint", nargs="?")
        args = parser.parse_args(shlex.split(line))
        chosen = self.checkpoint(args.checkpoint, self.workspace())
        if chosen is None:
            self._all_passed()
            return
        display(Markdown(self.course.lesson_text(chosen, self.language)))
        t = Translator(self.language)
        display(HTML(message(t("show.check_with", id=chosen.id), NOTE_COLOUR)))

    @_guarded
    def graph(self, line: str) -> None:
        from .. import graph_view
        from ..graphing import draw_graph

        parser = _parser("graph")
        parser.add_argument("expression")
        parser.add_argument("--at")
        parser.add_argument("--format", dest="image_format", choices=("svg", "png"))
        parser.add_argument("--output", "-o", type=Path)
        args = parser.parse_args(shlex.split(line))
        workspace = self.workspace()
        report = draw_graph(
            self.course, workspace, args.expression, args.at, dot_path=args.output, image_format=args.image_format
        )
        if report.graph is not None:
            from ..pictures.graph_svg import graph_svg

            display(SVG(graph_svg(report.graph, report.expression)))
        self.show(lambda term: graph_view.show(term, report))

    @_guarded
    def exercise(self, line: str, cell: str) -> None:
        from .exercise import write_exercise

        parser = _parser("exercise")
        parser.add_argument("target")
        parser.add_argument("checkpoint", nargs="?")
        args = parser.parse_args(shlex.split(line))
        workspace = self.workspace()
        chosen = self.checkpoint(args.checkpoint, workspace)
        files = chosen.files if chosen is not None else ()
        written = write_exercise(workspace, args.target, cell, files)
        t = Translator(self.language)
        key = "notebook.exercise_unchanged" if written.backup is None else "notebook.exercise_written"
        shown = written.name or written.path.name
        display(HTML(message(t(key, target=shown, path=f"exercises/{written.path.name}"), NOTE_COLOUR)))
        if chosen is None:
            self._all_passed()
            return
        self._check(workspace, chosen, None, False)
