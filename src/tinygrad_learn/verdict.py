"""The verdict of a grading run, built from the records the grading plugin sent.

A pass needs exit status 0, the plugin's closing record, and every test function of the suite
(read from the suite's source in the parent) present and passed. Only records stamped with the
run's token count; what the learner's code prints is never read as a verdict.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .grading.protocol import Problem, Record
from .korean import fill
from .sandbox_limits import wall_guard

XCPU_SIGNAL = getattr(signal, "SIGXCPU", 24)


@dataclass(frozen=True)
class TestOutcome:
    name: str
    outcome: str
    """passed, failed, error, skipped, xfailed, or missing (never reported)."""
    failure: dict[str, Any] | None = None


@dataclass(frozen=True)
class RunResult:
    passed: bool
    tests: tuple[TestOutcome, ...]
    seed: int
    duration: float
    timed_out: bool = False
    exit_code: int | None = None
    problem: str | None = None
    """A run-level problem: a `Problem` value (timeout, memory, killed, crashed, collect_error,
    no_results, interrupted, tampered)."""
    problem_detail: dict[str, Any] = field(default_factory=dict)
    """With timeout: `limit` (seconds), `clock` (cpu: the CPU limit was passed; wall: the
    wall-clock guard, for code that sleeps or blocks) and `cpu_limit`/`wall_limit`."""
    output: str = ""
    cpu_seconds: float = 0.0
    """The CPU time (user + system) of the grading run, every process it started included."""

    @property
    def failed_tests(self) -> tuple[TestOutcome, ...]:
        return tuple(test for test in self.tests if test.outcome != "passed")


def could_not_start(seed: int, error: BaseException) -> RunResult:
    return RunResult(False, (), seed, 0.0, problem=Problem.CRASHED.value, problem_detail={"message": str(error)})


def authentic_records(raw: bytes, token: str) -> list[Record]:
    records = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("token") == token:
            records.append(record)
    return records


def is_finish(line: bytes, token: str) -> bool:
    """Whether a channel line is the run's own last record: after it, nothing more is awaited."""
    return any(record.get("kind") == "finish" for record in authentic_records(line, token))


def exit_status(records: list[Record], exit_code: int, lingered: bool) -> int:
    """The child's exit code; for one stopped because it lingered after its complete results, the
    status pytest reported in them (the stop was ours and says nothing about the learner's code)."""
    if lingered:
        for record in records:
            if record.get("kind") == "finish" and isinstance(record.get("exitstatus"), int):
                return int(record["exitstatus"])
    return exit_code


def verdict(
    expected: tuple[str, ...],
    records: list[Record],
    seed: int,
    duration: float,
    exit_code: int,
    timed_out: bool,
    time_limit: float,
    output: str,
    memory_limit: int,
    *,
    clock: str | None = None,
    cpu_seconds: float = 0.0,
) -> RunResult:
    """`time_limit` is the run's CPU limit; `clock` says which limit stopped it (cpu or wall)."""
    outcomes: dict[str, list[str]] = {name: [] for name in expected}
    failures: dict[str, dict[str, Any]] = {}
    finished = None
    collect_failure = None
    tampered: list[str] = []
    for record in records:
        kind = record.get("kind")
        if kind == "test":
            name = str(record.get("name", "")).split("[")[0]
            outcome = str(record.get("outcome"))
            if record.get("when") != "call" and outcome == "passed":
                continue
            if record.get("when") != "call" and outcome == "failed":
                outcome = "error"
            outcomes.setdefault(name, []).append(outcome)
            if "failure" in record and name not in failures:
                failures[name] = record["failure"]
        elif kind == "collect" and collect_failure is None:
            collect_failure = record.get("failure")
        elif kind == "finish":
            finished = record
        elif kind == "tampered":
            tampered.append(str(record.get("names", "")))

    tests = []
    for name, seen in outcomes.items():
        if not seen:
            outcome = "missing"
        elif all(item == "passed" for item in seen):
            outcome = "passed"
        else:
            outcome = next(item for item in seen if item != "passed")
        tests.append(TestOutcome(name, outcome, failures.get(name)))

    for test in tests:
        if test.failure is not None and test.failure.get("key") == Problem.TAMPERED.value:
            tampered.append(str((test.failure.get("params") or {}).get("names", "")))
    memory = {"limit_mb": memory_limit // 2**20}
    problem: Problem | None = None
    detail: dict[str, Any] = {}
    killed_at_limit = exit_code == -getattr(signal, "SIGKILL", 9) and cpu_seconds >= time_limit
    cpu_spent = exit_code == -XCPU_SIGNAL or killed_at_limit
    if cpu_spent and not timed_out:
        # The system's own CPU limit (RLIMIT_CPU) stopped a process before the parent's check did.
        timed_out, clock = True, "cpu"
    if timed_out:
        problem, detail = Problem.TIMEOUT, _timeout_detail(clock or "wall", time_limit)
    elif collect_failure is not None:
        problem, detail = Problem.COLLECT_ERROR, collect_failure
    elif exit_code == -getattr(signal, "SIGKILL", 9):
        # Not our time limit, so almost always the system's out-of-memory killer.
        problem, detail = Problem.MEMORY, {**memory, "signal": -exit_code}
    elif exit_code < 0:
        problem, detail = Problem.KILLED, {"signal": -exit_code}
    elif any(_is_memory_error(test.failure) for test in tests) or _is_memory_error(collect_failure):
        problem, detail = Problem.MEMORY, memory
    elif tampered:
        problem, detail = Problem.TAMPERED, {"names": ", ".join(dict.fromkeys(name for name in tampered if name))}
    elif finished is None:
        problem, detail = (Problem.NO_RESULTS if not records else Problem.INTERRUPTED), {"exit_code": exit_code}
    elif exit_code not in (0, 1) or any(test.outcome == "missing" for test in tests):
        problem, detail = Problem.INTERRUPTED, {"exit_code": exit_code}

    unexpected = set(outcomes) - set(expected)
    passed = (
        problem is None
        and exit_code == 0
        and finished is not None
        and finished.get("exitstatus") == 0
        and not unexpected
        and bool(expected)
        and all(test.outcome == "passed" for test in tests)
    )
    if not passed and problem is None and all(test.outcome == "passed" for test in tests):
        problem, detail = Problem.INTERRUPTED, {"exit_code": exit_code}
    return RunResult(
        passed=passed,
        tests=tuple(tests),
        seed=seed,
        duration=duration,
        timed_out=timed_out,
        exit_code=exit_code,
        problem=None if problem is None else problem.value,
        problem_detail=detail,
        output=output,
        cpu_seconds=cpu_seconds,
    )


def _timeout_detail(clock: str, cpu_limit: float) -> dict[str, Any]:
    wall_limit = wall_guard(cpu_limit)
    return {
        "limit": cpu_limit if clock == "cpu" else wall_limit,
        "clock": clock,
        "cpu_limit": cpu_limit,
        "wall_limit": wall_limit,
    }


def _is_memory_error(failure: dict[str, Any] | None) -> bool:
    if not isinstance(failure, dict) or failure.get("key") != "exception":
        return False
    return (failure.get("params") or {}).get("type") == "MemoryError"


def inline(value: Any) -> str:
    """A failure parameter as the text placed into a sentence (a mapping or list on one line)."""
    if isinstance(value, dict):
        return ", ".join(f"{k} = {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def custom_message(params: dict[str, Any], language: str, shown: Callable[[str], str] = str) -> str:
    """A suite's own sentence (`Msg`) in `language`, its fields filled in, each passed through `shown`
    (a view makes learner text visible there)."""
    message = params.get("message") or {}
    text = str(message.get(language) or message.get("en") or "")
    return fill(text, {name: shown(inline(value)) for name, value in params.items() if name != "message"})
