"""The contract between the tool and every child that runs learner code, written down once.

Each record crosses the channel (an inherited pipe) as one JSON line. The grading plugin sends the
`start`, `test`, `collect`, `tampered` and `finish` records of a grading run; a worker (graph,
bench, train) sends its job's own records, an `error` when the learner's code raised, and
`finish`. The parent reads both with the types below and names what went wrong with `Problem`.

Imported by the parent and by the children alike, so it needs nothing beyond the standard library.
"""

from __future__ import annotations

import contextlib
import enum
import os
import re
import traceback
from pathlib import Path
from typing import Any, Literal, TypedDict

from tinygrad_learn.grading import EXERCISES_ENV

MESSAGE_LIMIT = 500


class Problem(str, enum.Enum):
    """Why a run ended without a verdict of its own; the value is what `--json` shows."""

    TIMEOUT = "timeout"
    IDLE_TIMEOUT = "idle_timeout"
    MEMORY = "memory"
    KILLED = "killed"
    INTERRUPTED = "interrupted"
    NO_RESULTS = "no_results"
    COLLECT_ERROR = "collect_error"
    CRASHED = "crashed"
    TAMPERED = "tampered"
    FORBIDDEN = "forbidden"
    """The learner's files use a module or name the course does not allow (grading/allowlist.py);
    nothing of them ran."""


REFUSED_FAILURE = "refused"
"""The failure key of a test during which learner code made a call the audit hook refused
(grading/audit.py); its params are `call` and `where`."""


class Where(TypedDict, total=False):
    """A line of the learner's exercises, relative to the workspace (`exercises/engine.py`)."""

    file: str
    line: int | None
    code: str
    function: str
    column: int


class Failure(TypedDict):
    """Why one test failed: a message key of the locale files and the values that fill it in."""

    key: str
    params: dict[str, Any]


class StartRecord(TypedDict):
    kind: Literal["start"]
    seed: int


class TestRecord(TypedDict, total=False):
    kind: Literal["test"]
    nodeid: str
    name: str
    when: str
    """setup, call or teardown."""
    outcome: str
    failure: Failure


class CollectRecord(TypedDict):
    kind: Literal["collect"]
    nodeid: str
    failure: Failure


class TamperedRecord(TypedDict):
    kind: Literal["tampered"]
    names: str


class FinishRecord(TypedDict, total=False):
    kind: Literal["finish"]
    exitstatus: int
    collected: int


class ErrorRecord(TypedDict):
    """A worker's job raised: the exception as plain data."""

    kind: Literal["error"]
    type: str
    message: str
    where: Where | None


class WorkerJob(TypedDict):
    """What a worker reads from standard input: the function to run and its argument."""

    target: str
    payload: dict[str, Any]


Record = dict[str, Any]
"""A record as read back from the channel: checked field by field, since a child may send anything."""


def _learner_frame(tb: Any) -> Where | None:
    """The innermost traceback frame that lies in the learner's exercises folder."""
    exercises = os.environ.get(EXERCISES_ENV)
    if not exercises:
        return None
    root = Path(exercises).resolve()
    found: Where | None = None
    for frame in traceback.extract_tb(tb):
        try:
            path = Path(frame.filename).resolve()
        except (OSError, ValueError):
            continue
        if path.is_relative_to(root):
            found = {
                "file": str(path.relative_to(root.parent)),
                "line": frame.lineno,
                "code": (frame.line or "").strip(),
                "function": frame.name,
            }
    return found


# The fresh package names testkit imports the learner's files under (see testkit._load_package).
_LOADED_AS = re.compile(r"_tinygrad_learn_(?:learner|variant)_[0-9a-f]{8}")


def _in_learner_terms(text: str) -> str:
    """Messages name the learner's files as exercises/..., not by the scratch copy or a package alias."""
    text = _LOADED_AS.sub("exercises", text)
    exercises = os.environ.get(EXERCISES_ENV)
    if not exercises:
        return text
    for root in dict.fromkeys((Path(exercises).parent, Path(exercises).resolve().parent)):
        text = text.replace(str(root) + os.sep, "")
    return text


def _syntax_error_where(error: SyntaxError) -> Where:
    """A SyntaxError's own place (the file Python could not read), relative to the workspace."""
    file = str(error.filename)
    exercises = os.environ.get(EXERCISES_ENV)
    if exercises:
        root = Path(exercises).resolve()
        with contextlib.suppress(OSError, ValueError):
            file = str(Path(file).resolve().relative_to(root.parent))
    raw = (error.text or "").rstrip("\r\n")
    code = raw.strip()
    where: Where = {"file": file, "line": error.lineno, "code": code, "function": ""}
    if code and error.offset:
        where["column"] = max(1, error.offset - (len(raw) - len(raw.lstrip())))
    return where


def _exception_text(error: BaseException) -> str:
    """The exception's message, or nothing when the learner's __str__ raises or returns a non-string."""
    try:
        text = error.msg if isinstance(error, SyntaxError) and error.msg else str(error)
    except Exception:
        return ""
    return text if isinstance(text, str) else ""


class ExceptionParams(TypedDict):
    type: str
    message: str
    where: Where | None


def describe_exception(error: BaseException) -> ExceptionParams:
    """An exception raised by learner code as plain data: its type, message and the learner's line.

    The one describer: a grading run sends it as a test's failure, a worker as an `error` record.
    """
    if isinstance(error, SyntaxError) and error.filename:
        # The line Python could not read, not the import that tried to read it.
        where: Where | None = _syntax_error_where(error)
    else:
        where = _learner_frame(error.__traceback__)
    text = _in_learner_terms(_exception_text(error))
    return {"type": type(error).__name__, "message": text[:MESSAGE_LIMIT], "where": where}


def error_record(error: BaseException) -> ErrorRecord:
    """A worker's exception as the record it sends."""
    return {"kind": "error", **describe_exception(error)}
