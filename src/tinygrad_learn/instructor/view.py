"""What `submit`, `grade` and `classroom` show: the class table, the progress bar, short notes."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ..i18n import Translator
from ..manifest import Course
from .classroom import Wiring
from .formats import first_failure, student_flags
from .grade import ClassGrade, StudentGrade

WIDTH_ENV = "TINYGRAD_LEARN_WIDTH"


class InstructorView:
    def __init__(self, language: str) -> None:
        self.t = Translator(language)
        self.language = language
        width = int(os.environ[WIDTH_ENV]) if os.environ.get(WIDTH_ENV, "").isdigit() else None
        self.out = Console(highlight=False, width=width)
        self.err = Console(stderr=True, highlight=False, width=width)

    def submitted(self, bundle: Path, files: int) -> None:
        self.out.print(Text(self.t("instructor.submitted", path=str(bundle), files=files), style="green"))
        self.out.print(Text(self.t("instructor.submitted_next")))

    @contextmanager
    def progress(self, total: int) -> Iterator[Callable[[StudentGrade], None]]:
        """A bar on standard error that advances as each submission is graded (from any thread)."""
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=self.err, transient=True) as bar:
            task = bar.add_task(self.t("instructor.grading", count=total), total=total)

            def advance(student: StudentGrade) -> None:
                bar.advance(task)

            yield advance

    def table(self, grade: ClassGrade, course: Course) -> None:
        names = {medal.id: medal.name.get(self.language) for medal in course.medals}
        table = Table(title=self.t("instructor.table_title", count=len(grade.students), seed=grade.seed))
        table.add_column(self.t("instructor.col_student"))
        for checkpoint in grade.checkpoints:
            table.add_column(checkpoint.id, justify="center")
        table.add_column(self.t("instructor.col_total"), justify="right")
        table.add_column(self.t("instructor.col_medals"))
        table.add_column(self.t("instructor.col_hints"), justify="right")
        table.add_column(self.t("instructor.col_peeked"), justify="right")
        for student in grade.students:
            by_id = {item.checkpoint.id: item for item in student.checkpoints}
            cells = []
            for checkpoint in grade.checkpoints:
                item = by_id.get(checkpoint.id)
                if item is None:
                    cells.append(Text("-", style="dim"))
                elif item.claimed_but_failed:
                    cells.append(Text("x!", style="bold red"))
                else:
                    cells.append(Text("+", style="green") if item.passed else Text("x", style="red"))
            table.add_row(
                Text(student.name, style="bold yellow" if student.flagged else ""),
                *cells,
                f"{student.passed_count}/{len(grade.checkpoints)}",
                ", ".join(names.get(medal, medal) for medal in student.medals),
                str(sum(len(item.entry.hints_used) for item in student.checkpoints)),
                str(sum(item.entry.peeked for item in student.checkpoints)),
            )
        self.out.print(table)
        self.out.print(Text(self.t("instructor.legend"), style="dim"))
        for student in grade.students:
            self._details(student)
        self.out.print(
            Text(self.t("instructor.done", count=len(grade.students), seconds=grade.duration, workers=grade.workers))
        )

    def _details(self, student: StudentGrade) -> None:
        flags = student_flags(student, self.t)
        failures = [
            (item.checkpoint.id, first_failure(item, self.t)) for item in student.checkpoints if not item.passed
        ]
        if not flags and not failures:
            return
        self.out.print(Text(student.name, style="bold"))
        for flag in flags:
            self.out.print(Text(f"  ! {flag}", style="yellow"))
        for checkpoint_id, message in failures:
            self.out.print(Text(f"  {checkpoint_id}: {message}"))

    def print_document(self, text: str) -> None:
        self.out.print(text, end="", markup=False, highlight=False, soft_wrap=True)

    def wrote(self, paths: list[Path]) -> None:
        for path in paths:
            self.err.print(Text(self.t("instructor.wrote", path=str(path)), style="dim"))

    def wiring(self, wiring: Wiring) -> None:
        for path in wiring.files:
            self.out.print(Text(self.t("instructor.classroom_wrote", path=str(path)), style="green"))
        self.out.print(Text(self.t(f"instructor.classroom_next_{wiring.platform}")))
