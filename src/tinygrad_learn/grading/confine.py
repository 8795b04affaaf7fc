"""What a child that runs learner code does to itself first, and what the parent gives it to do so.

The parent (`child_settings`) names the scratch folder the child may write and the modules the
course allows; the child (`confine`) restricts itself with Landlock where the kernel offers it,
then installs the audit hook, both before any learner code is imported.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from tinygrad_learn.grading import EXERCISES_ENV, NO_LANDLOCK_ENV, SOLUTIONS_ENV
from tinygrad_learn.grading.allowlist import ImportPolicy

if TYPE_CHECKING:  # the parent needs only child_settings: audit and landlock load in the child
    from tinygrad_learn.grading import audit, landlock

POLICY_ENV = "TINYGRAD_LEARN_ALLOWED_IMPORTS"
WRITABLE_ENV = "TINYGRAD_LEARN_WRITABLE"
"""The scratch folder of the run: the only place learner code may write."""


def child_settings(writable: Path, policy: ImportPolicy) -> dict[str, str]:
    """The environment a confined child needs: its writable folder (temporary files go there too)."""
    temporary = writable / "tmp"
    temporary.mkdir(exist_ok=True)
    settings = {
        WRITABLE_ENV: str(writable),
        POLICY_ENV: policy.as_text(),
        "TMPDIR": str(temporary),
    }
    if os.environ.get(NO_LANDLOCK_ENV):  # the sandbox passes on none of the tool's own variables
        settings[NO_LANDLOCK_ENV] = "1"
    return settings


def confine() -> audit.Watch:
    """Restrict this process; the returned Watch hands over the learner's refused calls."""
    restrict_files()
    return watch_calls()


def watch_calls() -> audit.Watch:
    """Install the audit hook; the returned Watch hands over the learner's refused calls."""
    from tinygrad_learn.grading import audit

    learner = os.environ.get(EXERCISES_ENV, "")
    if not learner or not os.environ.get(WRITABLE_ENV):
        return audit.unwatched()  # not started by the runner (a bare pytest run of a suite)
    text = os.environ.get(POLICY_ENV)
    policy = ImportPolicy.from_text(text) if text else ImportPolicy.of()
    return audit.install(learner, os.environ[WRITABLE_ENV], policy)


def restrict_files() -> landlock.Status | None:
    """Landlock, where the kernel has it. A grading run calls it once pytest has collected the
    suite (collecting lists the folders above it) and before any test loads learner code."""
    learner = os.environ.get(EXERCISES_ENV, "")
    writable = os.environ.get(WRITABLE_ENV, "")
    if not learner or not writable:
        return None
    from tinygrad_learn.grading import landlock

    readable = [*landlock.python_paths(), learner, os.environ.get(SOLUTIONS_ENV, "")]
    return landlock.restrict([path for path in readable if path], [writable, os.devnull])
