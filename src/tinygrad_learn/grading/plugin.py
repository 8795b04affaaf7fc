"""The pytest plugin loaded into every grading run: fixtures for suites and the results channel.

Runs inside the grading subprocess, next to the learner's code. It reports each test's outcome to
the parent over an inherited file descriptor, stamped with a token the parent sent on standard
input before any learner code was imported; what the learner's process prints is never read as a
verdict. Without a channel (a bare `pytest -p tinygrad_learn.grading.plugin` run) it only
provides the fixtures.
"""

from __future__ import annotations

import json
import os
import random
import sys
import traceback
import zlib
from pathlib import Path
from typing import Any

import pytest

from tinygrad_learn.grading import CHANNEL_ENV, EXERCISES_ENV, SEED_ENV
from tinygrad_learn.testkit import CheckFailed

_channel: Any = None
_token = ""


def _open_channel() -> None:
    """Runs at import, which `-p` makes happen before pytest captures standard input."""
    global _channel, _token
    fd_text = os.environ.pop(CHANNEL_ENV, "")
    if not fd_text:
        return
    _token = sys.stdin.buffer.readline().decode("ascii", errors="replace").strip()
    _channel = os.fdopen(int(fd_text), "w", encoding="utf-8", closefd=True)


def _send(record: dict[str, Any]) -> None:
    if _channel is None:
        return
    record["token"] = _token
    _channel.write(json.dumps(record, ensure_ascii=False) + "\n")
    _channel.flush()


def run_seed() -> int:
    return int(os.environ.get(SEED_ENV) or 0)


_open_channel()


def pytest_configure(config: pytest.Config) -> None:
    _send({"kind": "start", "seed": run_seed()})


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """Random numbers for one test: fresh each run, reproducible with `check --seed N`."""
    salt = zlib.crc32(request.node.name.encode())
    return random.Random(run_seed() * 1_000_003 + salt)


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """An integer seed for one test (for numpy generators), derived like `rng`."""
    return (run_seed() * 1_000_003 + zlib.crc32(request.node.name.encode())) % (2**32)


def _learner_frame(tb: Any) -> dict[str, Any] | None:
    """The innermost traceback frame that lies in the learner's exercises folder."""
    exercises = os.environ.get(EXERCISES_ENV)
    if not exercises:
        return None
    root = Path(exercises).resolve()
    found = None
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


def describe_exception(error: BaseException) -> dict[str, Any]:
    if isinstance(error, CheckFailed):
        return {"key": error.key, "params": error.params}
    where = _learner_frame(error.__traceback__)
    if where is None and isinstance(error, SyntaxError) and error.filename:
        where = {"file": error.filename, "line": error.lineno, "code": (error.text or "").strip(), "function": ""}
    try:
        text = str(error)
    except Exception:
        text = ""
    return {
        "key": "exception",
        "params": {"type": type(error).__name__, "message": text[:500], "where": where},
    }


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    record: dict[str, Any] = {
        "kind": "test",
        "nodeid": item.nodeid,
        "name": item.name,
        "when": report.when,
        "outcome": report.outcome,
    }
    if hasattr(report, "wasxfail"):
        record["outcome"] = "xfailed"
    if call.excinfo is not None and report.outcome != "passed":
        error = call.excinfo.value
        if report.skipped:
            record["failure"] = {"key": "skipped", "params": {"message": str(error)[:300]}}
        else:
            record["failure"] = describe_exception(error)
    _send(record)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        failure = {"key": "collect_error", "params": {"message": str(report.longrepr)[-2000:]}}
        _send({"kind": "collect", "nodeid": report.nodeid, "failure": failure})


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _send({"kind": "finish", "exitstatus": int(exitstatus), "collected": session.testscollected})
