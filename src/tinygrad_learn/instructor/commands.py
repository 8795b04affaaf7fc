"""`submit`, `grade` and `classroom`: parse, call the instructor core, hand the result to its view."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..errors import TinygradLearnError
from . import FORMATS, PLATFORMS, STUDENT_FORMATS

if TYPE_CHECKING:
    from ..commands import Session

CLASSROOM_ACTIONS = ("init",)


def _session(ctx: typer.Context) -> Session:
    from ..commands import Session
    from ..i18n import resolve_language

    root = ctx.find_root()
    if not isinstance(root.obj, Session):
        root.obj = Session(resolve_language(None), None)
    return root.obj


def submit_command(
    ctx: typer.Context,
    bundle_output: Path | None = typer.Option(None, "--output", "-o", dir_okay=False),
) -> None:
    from .bundle import BUNDLE_SUFFIX, write_bundle
    from .view import InstructorView

    session = _session(ctx)
    workspace = session.workspace()
    target = bundle_output or Path.cwd() / f"{workspace.root.name}{BUNDLE_SUFFIX}"
    if target.suffix != BUNDLE_SUFFIX:
        raise TinygradLearnError("instructor.submit_suffix", path=str(target))
    written, files = write_bundle(session.course, workspace, target)
    InstructorView(session.language).submitted(written, files)


def _parse_reports(reports: list[str]) -> list[tuple[str, Path]]:
    parsed = []
    for report in reports:
        fmt, _, path = report.partition(":")
        if fmt not in FORMATS or fmt == "table" or not path:
            raise TinygradLearnError("instructor.grade_bad_report", report=report, formats=", ".join(FORMATS[1:]))
        parsed.append((fmt, Path(path)))
    return parsed


def grade_command(
    ctx: typer.Context,
    submissions: list[Path] = typer.Argument(..., metavar="SUBMISSION..."),
    grade_format: str = typer.Option("table", "--format", "-f", metavar="|".join(FORMATS)),
    grade_output: Path | None = typer.Option(None, "--output", "-o"),
    report: list[str] = typer.Option([], "--report", metavar="FORMAT:PATH"),
    seed: int | None = typer.Option(None, "--seed", min=0),
    workers: int | None = typer.Option(None, "--workers", "-j", min=1, max=256),
    checkpoints: str | None = typer.Option(None, "--checkpoints", "--only", metavar="ID,ID..."),
) -> None:
    from .formats import render
    from .grade import find_submissions, grade_class
    from .view import InstructorView

    session = _session(ctx)
    if grade_format not in FORMATS:
        raise TinygradLearnError("instructor.grade_bad_format", name=grade_format, formats=", ".join(FORMATS))
    if grade_format == "table" and grade_output is not None:
        raise TinygradLearnError("instructor.grade_table_output")
    extra = _parse_reports(report)
    chosen = (
        [session.course.get(name.strip()) for name in checkpoints.split(",") if name.strip()] if checkpoints else None
    )
    found = find_submissions(submissions)
    several = len(found) > 1
    for fmt, path in [(grade_format, grade_output), *extra]:
        if fmt in STUDENT_FORMATS and several and path is None:
            raise TinygradLearnError("instructor.grade_needs_output", format=fmt)
    view = InstructorView(session.language)
    with view.progress(len(found)) as advance:
        grade = grade_class(session.course, found, chosen, seed=seed, workers=workers, on_graded=advance)
    written: list[Path] = []
    for fmt, path in extra:
        written += _save(render(fmt, grade, session.language), path, several)
    if grade_format == "table":
        view.table(grade, session.course)
    elif grade_output is None:
        for text in render(grade_format, grade, session.language).values():
            view.print_document(text)
    else:
        written += _save(render(grade_format, grade, session.language), grade_output, several)
    view.wrote(written)


def _save(documents: dict[str, str], path: Path, into_folder: bool) -> list[Path]:
    """A class-wide document goes to `path`; per-student documents go to `path/<student>.json` when several."""
    if into_folder and "" not in documents:
        targets = {path / f"{name}.json": text for name, text in documents.items()}
    else:
        targets = {path: next(iter(documents.values()))}
    try:
        for target, text in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    except OSError as error:
        raise TinygradLearnError("instructor.grade_unwritable", path=str(path), problem=str(error)) from None
    return list(targets)


def classroom_command(
    ctx: typer.Context,
    classroom_action: str = typer.Argument(..., metavar="init"),
    target_dir: Path = typer.Argument(Path("."), metavar="[DIR]", file_okay=False),
    platform: str = typer.Option(..., "--platform", "-p", metavar="|".join(PLATFORMS)),
) -> None:
    from .classroom import init_platform
    from .view import InstructorView

    session = _session(ctx)
    if classroom_action not in CLASSROOM_ACTIONS:
        raise TinygradLearnError("instructor.classroom_bad_action", action=classroom_action)
    if platform not in PLATFORMS:
        raise TinygradLearnError("instructor.classroom_bad_platform", name=platform, platforms=", ".join(PLATFORMS))
    InstructorView(session.language).wiring(init_platform(platform, target_dir))


def register(app: typer.Typer) -> None:
    app.command("submit")(submit_command)
    app.command("grade")(grade_command)
    app.command("classroom")(classroom_command)
