"""The `dev` command group: parse, call the core, hand the report to the view."""

from __future__ import annotations

from pathlib import Path

import click
import typer

from ..errors import TinygradLearnError
from ..i18n import Translator, resolve_language
from ..paths import MANIFEST_NAME, course_root

EXIT_FINDINGS = 1

dev_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None)


def _translator(ctx: click.Context) -> Translator:
    language = getattr(ctx.find_root().obj, "language", None)
    return Translator(language or resolve_language(None))


def _course(course_dir: Path | None) -> Path:
    root = course_dir.expanduser().resolve() if course_dir is not None else course_root()
    if not (root / MANIFEST_NAME).is_file():
        raise TinygradLearnError("dev.no_course", path=str(root))
    return root


@dev_app.command("check")
def check_command(
    ctx: typer.Context,
    course_dir: Path | None = typer.Option(None, "--course", file_okay=False),
    seed: int | None = typer.Option(None, "--seed", min=0),
    no_grading: bool = typer.Option(False, "--no-grading"),
) -> None:
    from .check import check_course
    from .view import show_report

    report = check_course(_course(course_dir), seed=seed, grade=not no_grading)
    show_report(report, _translator(ctx))
    if not report.clean:
        raise typer.Exit(EXIT_FINDINGS)


@dev_app.command("new")
def new_command(
    ctx: typer.Context,
    checkpoint_id: str = typer.Argument(..., metavar="ID"),
    course_dir: Path | None = typer.Option(None, "--course", file_okay=False),
    exercise_file: str | None = typer.Option(None, "--file"),
    function_name: str | None = typer.Option(None, "--function"),
) -> None:
    from .new import new_checkpoint
    from .view import show_scaffold

    scaffold = new_checkpoint(_course(course_dir), checkpoint_id, exercise_file, function_name)
    show_scaffold(scaffold, _translator(ctx))
