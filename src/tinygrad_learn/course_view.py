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
    # Named from where the learner stands: run from the course's own folder, "exercises/engine.py"
    # would point at the course's stub instead of their workspace's file.
    root = term.workspace_root
    names = [display_path(root / "exercises" / name) if root else f"exercises/{name}" for name in current.files]
    term.say("welcome.edit", files=", ".join(names))
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
    # An id or a title wraps onto more lines, never cut: Rich's word wrap can leave a wide-character
    # word (Korean) cut with an ellipsis, while folding keeps every character.
    for key in ("col_id", "col_title"):
        table.columns[keys.index(key)].overflow = "fold"
    current, language = standing.current, term.language
    for number, status in enumerate(standing.statuses, start=1):
        checkpoint = status.checkpoint
        label = _status_label(term, status.state, status.stale, status.regressed)
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
    for column in table.columns:
        column.overflow = "fold"
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
    regressed = [status.checkpoint.id for status in standing.statuses if status.regressed]
    if regressed:
        term.note("standing.regressed_note", ids=", ".join(regressed))


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

    for kind, part in lesson_parts(text):
        if kind == "code":
            # Never wrapped by us: a terminal's own soft wrap copies back as one line, so a pasted
            # snippet runs as written (a hard break would split it, or indent its second half).
            term.line()
            term.out.print(term.text(part, "cyan"), soft_wrap=True)
            term.line()
        else:
            term.out.print(Markdown(part))
    term.line()
    term.say("show.check_with", "cyan", id=checkpoint.id)


def lesson_parts(text: str) -> list[tuple[str, str]]:
    """The lesson split into ("markdown", text) and ("code", code) parts, in order: each code
    block (fenced or indented) as its code alone."""
    from markdown_it import MarkdownIt

    lines = text.splitlines()
    parts: list[tuple[str, str]] = []
    taken = 0
    for token in MarkdownIt().parse(text):
        if token.type in {"fence", "code_block"} and token.map and token.level == 0:
            start, end = token.map
            if start > taken:
                parts.append(("markdown", "\n".join(lines[taken:start])))
            parts.append(("code", token.content.rstrip("\n")))
            taken = end
    if taken < len(lines):
        parts.append(("markdown", "\n".join(lines[taken:])))
    return [(kind, part) for kind, part in parts if part.strip()]


def initialized(term: Terminal, made: InitResult, carried_from: Path | None) -> None:
    if made.carried:
        term.note("init.carried", count=made.carried, path=str(carried_from))
    term.say("init.created" if made.created else "init.already", "bold green", path=str(made.workspace.root))
    term.say("init.next", "cyan", path=display_path(made.workspace.root))


def _status_label(term: Terminal, state: str, stale: bool, regressed: bool) -> Text:
    styles = {"passed": "green", "failed": "red", "not_started": "dim"}
    wording = "status.regressed" if regressed else f"status.{state}"
    label = Text(f"{term.symbols[state]} {term.t(wording)}", style="bold red" if regressed else styles[state])
    if stale:
        label.append(f"  {term.symbols['stale']} {term.t('status.stale')}", style="yellow")
    return label
