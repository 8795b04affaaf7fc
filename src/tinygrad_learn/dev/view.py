"""How `dev check` and `dev new` show their reports: plain lines, for authors and their CI logs."""

from __future__ import annotations

import typer

from ..i18n import Translator
from .check import CourseReport, Finding
from .new import Scaffold


def show_report(report: CourseReport, t: Translator) -> None:
    if report.graded:
        typer.echo(t("dev.checked", root=str(report.root), checkpoints=report.checkpoints, seed=report.seed))
    else:
        typer.echo(t("dev.checked_ungraded", root=str(report.root), checkpoints=report.checkpoints))
    for finding in report.findings:
        typer.secho(f"  x {_where(finding)}: {_message(finding, t)}", fg="red", err=False)
    if report.timings:
        slowest = max(report.timings, key=lambda timing: timing.seconds / timing.limit)
        typer.echo(
            t(
                f"dev.clock_{report.clock}",
                id=slowest.checkpoint,
                seconds=f"{slowest.seconds:.2f}",
                limit=f"{slowest.limit:g}",
            )
        )
    if report.clean and not report.graded:
        typer.secho(t("dev.clean_ungraded", checkpoints=report.checkpoints), fg="green")
    elif report.clean:
        typer.secho(t("dev.clean", checkpoints=report.checkpoints), fg="green")
    else:
        typer.secho(t("dev.found", count=len(report.findings)), fg="red", bold=True)


def _where(finding: Finding) -> str:
    parts = [part for part in (finding.checkpoint, finding.file) if part]
    return " ".join(f"[{parts[0]}]" if i == 0 and finding.checkpoint else part for i, part in enumerate(parts)) or "-"


def _message(finding: Finding, t: Translator) -> str:
    params = dict(finding.params)
    if "key" in params:  # the manifest's own error, in its own words
        params["reason"] = t(params.pop("key"), **params)
    return t(finding.key, **params)


def show_scaffold(scaffold: Scaffold, t: Translator) -> None:
    typer.echo(t("dev.scaffolded", id=scaffold.checkpoint_id))
    for name in scaffold.created:
        typer.echo(f"  + {name}")
    for name in scaffold.extended:
        typer.echo(f"  ~ {name}")
    typer.echo(t("dev.next_steps", id=scaffold.checkpoint_id))
