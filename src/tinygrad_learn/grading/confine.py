"""What a child that runs learner code does to itself first, and what the parent gives it to do so.

The parent (`child_settings`) names the scratch folder the child may write and the modules the
course allows; the child (`confine`) restricts itself with Landlock where the kernel offers it,
then installs the audit hook, both before any learner code is imported.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from tinygrad_learn.grading import EXERCISES_ENV, SOLUTIONS_ENV, audit, landlock
from tinygrad_learn.grading.allowlist import ImportPolicy


def child_settings(writable: Path, policy: ImportPolicy) -> dict[str, str]:
    """The environment a confined child needs: its writable folder (temporary files go there too)."""
    temporary = writable / "tmp"
    temporary.mkdir(exist_ok=True)
    return {
        audit.WRITABLE_ENV: str(writable),
        audit.POLICY_ENV: policy.as_text(),
        "TMPDIR": str(temporary),
    }


def confine() -> Callable[[], list[audit.RefusedCall]]:
    """Restrict this process; the returned function hands over the learner's refused calls."""
    restrict_files()
    return watch_calls()


def watch_calls() -> Callable[[], list[audit.RefusedCall]]:
    """Install the audit hook; the returned function hands over the learner's refused calls."""
    learner = os.environ.get(EXERCISES_ENV, "")
    if not learner or not os.environ.get(audit.WRITABLE_ENV):
        return list  # not started by the runner (a bare pytest run of a suite): nothing to confine
    return audit.install_from_environment(learner)


def restrict_files() -> landlock.Status | None:
    """Landlock, where the kernel has it. A grading run calls it once pytest has collected the
    suite (collecting lists the folders above it) and before any test loads learner code."""
    learner = os.environ.get(EXERCISES_ENV, "")
    writable = os.environ.get(audit.WRITABLE_ENV, "")
    if not learner or not writable:
        return None
    readable = [*landlock.python_paths(), learner, os.environ.get(SOLUTIONS_ENV, "")]
    return landlock.restrict([path for path in readable if path], [writable, os.devnull])
