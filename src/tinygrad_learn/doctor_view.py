"""`doctor`: each finding with its mark and fix, then the verdict."""

from __future__ import annotations

from rich.text import Text

from .doctor import DoctorReport
from .terminal import Terminal, visible_values


def show(term: Terminal, report: DoctorReport) -> None:
    term.say("doctor.title", "bold")
    term.line()
    for finding in report.findings:
        if finding.ok:
            mark, style = term.symbols["passed"], "green"
        elif finding.required:
            mark, style = term.symbols["failed"], "red"
        else:
            mark, style = term.symbols["stale"], "yellow"
        line = Text(f"{mark} ", style=style)
        line.append(term.t(f"doctor.{finding.name}"), style="bold")
        params = visible_values(finding.params)
        line.append(f": {term.t(finding.detail, **params)}")
        if not finding.required and not finding.ok:
            line.append(f" ({term.t('doctor.optional')})", style="dim")
        term.out.print(line)
        if finding.fix is not None:
            term.line("    " + term.t(f"doctor.fix_{finding.fix}", **params), "cyan")
    term.line()
    failed = sum(1 for finding in report.findings if finding.required and not finding.ok)
    if failed:
        term.say("doctor.unhealthy", "bold red", count=failed)
    else:
        term.say("doctor.healthy", "bold green")
