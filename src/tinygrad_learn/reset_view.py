"""`reset`: what it will do and the question before it, then what it did."""

from __future__ import annotations

from pathlib import Path

from .terminal import Terminal, display_path
from .workspace import ResetPlan, ResetResult


def confirm(term: Terminal, plan: ResetPlan, backups: Path) -> bool:
    """Say what reset will do, then ask; only a clear yes goes ahead."""
    files = ", ".join(f"exercises/{name}" for name in plan.files)
    term.say("reset.confirm_files", "bold", files=files, id=plan.checkpoint.id)
    if plan.shared_with:
        term.note("reset.confirm_shared", files=files, ids=", ".join(plan.shared_with))
    term.say("reset.confirm_backup", path=display_path(backups))
    from rich.prompt import Confirm

    try:
        return Confirm.ask(term.t("reset.question"), console=term.out, default=False)
    except EOFError:
        return False


def done(term: Terminal, result: ResetResult) -> None:
    term.success("reset.restored", files=", ".join(f"exercises/{name}" for name in result.plan.files))
    if result.backup_dir is not None:
        for name in result.backed_up:
            term.path_line(term.t("reset.backup", path=display_path(result.backup_dir / "exercises" / name)), "cyan")
    else:
        term.say("reset.no_backup", "dim")
    term.say("reset.progress_note", "dim")
