"""Where the learner is in the course: the welcome, `list`, `progress`, `show` and `init`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group
from rich.panel import Panel
from rich.text import Text

from .errors import TinygradLearnError
from .manifest import Checkpoint
from .paths import default_workspace
from .state import Standing
from .terminal import Terminal, display_path

if TYPE_CHECKING:
    from .workspace import InitResult


def welcome(term: Terminal, standing: Standing) -> None:
    current, language = standing.current, term.language
    if current is None:
        earned = ", ".join(s.medal.name.get(language) for s in standing.medals if s.earned)
        term.say("welcome.all_done", "bold green", medals=earned)
        return
    passed, total = standing.passed_count, len(standing.statuses)
    term.say("welcome.where", "bold", id=current.id, title=current.title.get(language), passed=passed, total=total)
    term.say("welcome.read")
    term.line(f"  tinygrad-learn show {current.id}", "cyan")
    term.say("welcome.edit", files=", ".join(f"exercises/{name}" for name in current.files))
    term.line(f"  tinygrad-learn check {current.id}", "cyan")


def no_workspace(term: Terminal, why: TinygradLearnError) -> None:
    if why.key.startswith("workspace.in_course"):
        # Run inside the course itself: where the workspace is matters more than how to start.
        term.error(why)
        return
    term.say("welcome.no_workspace", "bold")
    term.say("welcome.start")
    default = default_workspace()
    shown = f"~/{default.relative_to(Path.home())}" if default.is_relative_to(Path.home()) else str(default)
    for command in ("tinygrad-learn init", f"cd {shown}", "tinygrad-learn"):
        term.line(f"  {command}", "cyan")


def checkpoint_list(term: Terminal, standing: Standing) -> None:
    keys = ("col_number", "col_id", "col_stage", "col_title", "col_status")
    table = term.table(term.t("list.title"), tuple((term.t(f"list.{key}"), "left") for key in keys))
    current, language = standing.current, term.language
    for number, status in enumerate(standing.statuses, start=1):
        checkpoint = status.checkpoint
        label = _status_label(term, status.state, status.stale)
        if current is not None and checkpoint.id == current.id:
            label.append(f"  {term.symbols['current']} {term.t('status.current')}", style="bold cyan")
        if status.entry.peeked:
            label.append(f"  {term.t('solution.peeked_marker')}", style="magenta")
        cells = (str(number), checkpoint.id, checkpoint.stage.get(language), checkpoint.title.get(language))
        table.add_row(*(Text(cell) for cell in cells), label)
    term.out.print(table)


def progress(term: Terminal, standing: Standing) -> None:
    checkpoint_list(term, standing)
    term.line()
    columns = ((term.t("standing.col_medal"), "left"), (term.t("standing.col_status"), "left"))
    table = term.table(term.t("standing.medals"), columns)
    for status in standing.medals:
        name = Text(f"{term.symbols['medal']} {status.medal.name.get(term.language)}", style="bold")
        name.append(f"  {status.medal.description.get(term.language)}", style="dim")
        if status.earned:
            label = Text(f"{term.symbols['passed']} {term.t('standing.earned')}", style="green")
        else:
            label = Text(term.t("standing.needs", missing=", ".join(status.missing)), style="yellow")
        table.add_row(name, label)
    term.out.print(table)
    term.line()
    term.say("standing.summary", "bold", passed=standing.passed_count, total=len(standing.statuses))
    stale = [status.checkpoint.id for status in standing.statuses if status.stale]
    if stale:
        term.note("standing.stale_note", ids=", ".join(stale))


def lesson(term: Terminal, checkpoint: Checkpoint, text: str) -> None:
    header = Text(f"{checkpoint.id} · {checkpoint.title.get(term.language)}", style="bold")
    details = [
        term.t("show.files", files=", ".join(f"exercises/{name}" for name in checkpoint.files)),
        term.t("show.tasks", tasks=", ".join(checkpoint.tasks)),
    ]
    if checkpoint.requires:
        details.append(term.t("show.requires", requires=", ".join(checkpoint.requires)))
    term.out.print(Panel(Group(header, Text("\n".join(details), style="dim")), expand=False))
    from rich.markdown import Markdown  # slow to import: only when a lesson is drawn

    term.out.print(Markdown(text))
    term.line()
    term.say("show.check_with", "cyan", id=checkpoint.id)


def initialized(term: Terminal, made: InitResult, carried_from: Path | None) -> None:
    if made.carried:
        term.note("init.carried", count=made.carried, path=str(carried_from))
    term.say("init.created" if made.created else "init.already", "bold green", path=str(made.workspace.root))
    term.say("init.next", "cyan", path=display_path(made.workspace.root))


def _status_label(term: Terminal, state: str, stale: bool) -> Text:
    styles = {"passed": "green", "failed": "red", "not_started": "dim"}
    label = Text(f"{term.symbols[state]} {term.t('status.' + state)}", style=styles[state])
    if stale:
        label.append(f"  {term.symbols['stale']} {term.t('status.stale')}", style="yellow")
    return label
