"""`verify`: which passes still hold, which broke and why, the medals lost."""

from __future__ import annotations

from .checking_view import problem_text
from .terminal import Terminal
from .verify import VerifyReport


def show(term: Terminal, report: VerifyReport) -> None:
    if not report.results:
        term.note("verify.nothing")
        return
    for result in report.results:
        checkpoint_id = result.checkpoint.id
        if result.result.passed:
            term.line(f"{term.symbols['passed']} " + term.t("verify.still_passes", id=checkpoint_id), "green")
        else:
            term.line(f"{term.symbols['failed']} " + term.t("verify.regressed", id=checkpoint_id), "bold red")
            if result.result.problem is not None:
                term.line("  " + problem_text(term, result.result), "red")
    for medal, missing in report.lost_medals:
        name = medal.name.get(term.language)
        term.line(
            f"{term.symbols['medal']} " + term.t("verify.lost_medal", name=name, missing=", ".join(missing)),
            "bold yellow",
        )
    term.line()
    kept = sum(result.result.passed for result in report.results)
    key = "verify.all_good" if kept == len(report.results) else "verify.summary"
    term.say(key, "bold", kept=kept, total=len(report.results))
