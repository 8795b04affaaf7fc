"""The pytest plugin loaded into every grading run: fixtures for suites and the results channel.

Runs inside the grading subprocess, next to the learner's code. It reports each test's outcome to
the parent over an inherited file descriptor, stamped with a token the parent sent on standard
input before any learner code was imported; what the learner's process prints is never read as a
verdict. Without a channel (a bare `pytest -p tinygrad_learn.grading.plugin` run) it only
provides the fixtures.

It also guards the checks: after collection, before any learner code runs, it takes an identity
snapshot of what the checks call (builtins, math, random, numpy, pytest's runner, testkit,
suitekit, arraykit, trainkit, this plugin, the suite); a test during which learner code replaced
any of it fails, and the originals are put back; `deepguard.py` adds pytest's hook callers,
closure cells, the suite's data and the channel. The hooks hold what they use in default
arguments, so rebinding this module's attributes changes nothing. Before the suite loads any
learner code the process confines itself (`confine.py`: Landlock where the kernel has it, and an
audit hook); a call the hook refused fails the test during which it was made.

While a test runs, the garbage collector runs less often: everything alive before the test is
frozen (`gc.freeze`, so no collection walks pytest's and numpy's objects again) and a young
collection waits for 10,000 allocations instead of 700. A scalar engine building a big graph
otherwise spends most of its time in collections that walk every live node again and again. The
learner's engine cannot tell: the collector stays enabled with its own ratios between
generations, so the cyclic garbage of a micrograd-style engine (each node's backward closure
refers to the node) stays bounded, and what the test made is collected when it ends. The memory
cap is the operating system's (RLIMIT_AS) and holds either way.
"""

from __future__ import annotations

import gc
import json
import os
import random
import sys
import types
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from tinygrad_learn.grading import CHANNEL_ENV, SEED_ENV
from tinygrad_learn.grading.audit import CodeWatch, RefusedCall
from tinygrad_learn.grading.confine import restrict_files, watch_calls
from tinygrad_learn.grading.deepguard import DeepSnapshot
from tinygrad_learn.grading.protocol import (
    REFUSED_FAILURE,
    CollectRecord,
    Failure,
    FinishRecord,
    Problem,
    StartRecord,
    TamperedRecord,
    TestRecord,
)
from tinygrad_learn.grading.protocol import describe_exception as describe_learner_exception
from tinygrad_learn.grading.testkit import CheckFailed

Send = Callable[[Any], None]
"""Sends one record of `grading.protocol` to the parent."""


def _open_channel() -> Send:
    """Runs at import, which `-p` makes happen before pytest captures standard input.

    The channel and the token live only in the returned function's closure.
    """
    fd_text = os.environ.pop(CHANNEL_ENV, "")
    if not fd_text:
        return lambda record: None
    token = sys.stdin.buffer.readline().decode("ascii", errors="replace").strip()
    channel = os.fdopen(int(fd_text), "w", encoding="utf-8", closefd=True)
    dumps = json.dumps

    def send(record: Any) -> None:
        record["token"] = token
        try:
            channel.write(dumps(record, ensure_ascii=False) + "\n")
            channel.flush()
        except (OSError, ValueError):  # learner code closed the channel: the missing records fail the run
            pass

    return send


_send = _open_channel()
# The audit hook, before the suite imports any learner code; Landlock once collection is done
# (grading/confine.py).
_watch = watch_calls()


def run_seed() -> int:
    return int(os.environ.get(SEED_ENV) or 0)


# Modules whose callables the checks use, directly or through pytest.
WATCHED_MODULES = (
    "builtins",
    "math",
    "cmath",
    "operator",
    "random",
    "json",
    "numpy",
    "numpy.linalg",
    "numpy.testing",
    "pytest",
    "_pytest.runner",
    "_pytest.reports",
    "_pytest.python",
    "_pytest.outcomes",
    "_pytest.main",
    "tinygrad_learn.grading.testkit",
    "tinygrad_learn.grading.suitekit",
    "tinygrad_learn.grading.arraykit",
    "tinygrad_learn.grading.trainkit",
    "tinygrad_learn.grading.protocol",
    __name__,
)
_HEAP_TYPE = 1 << 9
"""A class defined in Python, whose attributes can be replaced (built-in types cannot be changed)."""


def _watchable(value: Any) -> bool:
    return callable(value) or isinstance(value, (types.ModuleType, staticmethod, classmethod, property))


class _Guard:
    """An identity snapshot of what the checks rely on, to notice and undo learner code replacing it."""

    def __init__(self, code_watch: CodeWatch) -> None:
        self.entries: list[tuple[str, Any, Any, str, Any]] = []
        self.modules: list[tuple[str, types.ModuleType]] = []
        self.manager: Any = None
        self.plugins: list[object] = []
        """Held so that no other object can take over their ids."""
        self.plugin_ids: set[int] = set()
        self.deep = DeepSnapshot()
        self.code_watch = code_watch
        self.functions: list[tuple[str, types.FunctionType]] = []
        self.changed_code: Callable[[], list[int]] = list

    def take(self, session: pytest.Session) -> None:
        suites = {id(item.module): item.module for item in session.items if isinstance(item, pytest.Function)}
        for name in WATCHED_MODULES:
            module = sys.modules.get(name)
            if module is not None:
                self._watch(name, module)
        for module in suites.values():
            self._watch("suite", module)
        self.manager = session.config.pluginmanager
        self.plugins = list(self.manager.get_plugins())
        self.plugin_ids = {id(plugin) for plugin in self.plugins}
        self.changed_code = self.code_watch([function for _, function in self.functions])
        self.deep.take(self.manager, self.functions, suites.values(), [module for _, module in self.modules])

    def _watch(self, label: str, module: types.ModuleType) -> None:
        self.modules.append((module.__name__, module))
        namespace = vars(module)
        for name, value in list(namespace.items()):
            if not _watchable(value):
                continue
            self._entry(f"{label}.{name}", namespace, None, name, value)
            if isinstance(value, type) and value.__module__ == module.__name__ and value.__flags__ & _HEAP_TYPE:
                members = vars(value)
                for attr, member in list(members.items()):
                    if _watchable(member):
                        self._entry(f"{label}.{name}.{attr}", members, value, attr, member)

    def _entry(self, label: str, view: Any, owner: Any, name: str, value: Any) -> None:
        self.entries.append((label, view, owner, name, value))
        if type(value) is types.FunctionType:
            self.functions.append((label, value))

    def check(self) -> list[str]:
        """What was replaced since the snapshot; each is put back as it was."""
        changed = []
        for label, view, owner, name, value in self.entries:
            if view.get(name) is not value:
                changed.append(label)
                if owner is None:
                    view[name] = value
                else:
                    setattr(owner, name, value)
        changed += [self.functions[index][0] for index in self.changed_code()]
        for name, module in self.modules:
            if sys.modules.get(name) is not module:
                changed.append(f"sys.modules[{name!r}]")
                sys.modules[name] = module
        if self.manager is not None:
            for plugin in self.manager.get_plugins():
                if id(plugin) not in self.plugin_ids:
                    changed.append("pytest's plugin list")
                    self.manager.unregister(plugin)
        changed += self.deep.check()
        return changed


_GUARD = _Guard(_watch.code_watch)


def _names(changed: list[str]) -> str:
    shown = list(dict.fromkeys(changed))
    return ", ".join(shown[:5]) + (f" (+{len(shown) - 5})" if len(shown) > 5 else "")


def pytest_collection_finish(session: pytest.Session) -> None:
    _GUARD.take(session)
    restrict_files()


def pytest_configure(config: pytest.Config) -> None:
    start: StartRecord = {"kind": "start", "seed": run_seed()}
    _send(start)


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """Random numbers for one test: fresh each run, reproducible with `check --seed N`."""
    salt = zlib.crc32(request.node.name.encode())
    return random.Random(run_seed() * 1_000_003 + salt)


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """An integer seed for one test (for numpy generators), derived like `rng`."""
    return (run_seed() * 1_000_003 + zlib.crc32(request.node.name.encode())) % (2**32)


def describe_exception(error: BaseException) -> Failure:
    if isinstance(error, CheckFailed):
        return {"key": error.key, "params": error.params}
    return {"key": "exception", "params": dict(describe_learner_exception(error))}


# A young collection every 10,000 allocations instead of 700: the middle and full ones keep the
# collector's own ratios (one per 11 of the generation below, and a full one only when the old
# generation grew by a quarter), so cyclic garbage a correct engine leaves behind stays bounded as
# with the defaults, while a growing graph is walked far less often. One scalar MLP forward and
# backward: 3.3 s of CPU with the defaults, 1.4 s with these.
DURING_A_TEST = (10_000, 10, 10)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(
    item: pytest.Item,
    _freeze: Callable[[], None] = gc.freeze,
    _collect: Callable[[], int] = gc.collect,
    _get_threshold: Callable[[], tuple[int, int, int]] = gc.get_threshold,
    _set_threshold: Callable[..., None] = gc.set_threshold,
    _during_test: tuple[int, int, int] = DURING_A_TEST,
) -> Any:
    thresholds = _get_threshold()
    _freeze()
    _set_threshold(*_during_test)
    try:
        yield
    finally:
        _set_threshold(*thresholds)
        _collect()  # walks only what the test made: the rest is frozen


# The hooks take what they use as default arguments: learner code that rebinds this module's
# names cannot change them.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
    call: pytest.CallInfo[None],
    _check: Callable[[], list[str]] = _GUARD.check,
    _send: Send = _send,
    _describe: Callable[[BaseException], Failure] = describe_exception,
    _refused: Callable[[], list[RefusedCall]] = _watch.taken,
) -> Any:
    outcome = yield
    report = outcome.get_result()
    changed = _check() if report.when == "call" else []
    refused = _refused()
    record: TestRecord = {
        "kind": "test",
        "nodeid": item.nodeid,
        "name": item.name,
        "when": report.when,
        "outcome": report.outcome,
    }
    if changed:
        names = _names(changed)
        report.outcome = "failed"
        report.longrepr = f"learner code replaced {names}, which the checks rely on"
        record["outcome"] = "failed"
        record["failure"] = {"key": Problem.TAMPERED.value, "params": {"names": names}}
    elif refused:
        report.outcome = "failed"
        report.longrepr = f"learner code called {refused[0].call} ({refused[0].where}), which is not allowed"
        record["outcome"] = "failed"
        record["failure"] = {"key": REFUSED_FAILURE, "params": {"call": refused[0].call, "where": refused[0].where}}
    else:
        if hasattr(report, "wasxfail"):
            record["outcome"] = "xfailed"
        if call.excinfo is not None and report.outcome != "passed":
            error = call.excinfo.value
            if hasattr(report, "wasxfail"):
                record["failure"] = {"key": "xfailed", "params": {}}
            elif report.skipped:
                record["failure"] = {"key": "skipped", "params": {"message": str(error)[:300]}}
            else:
                record["failure"] = _describe(error)
    _send(record)


def pytest_collectreport(report: pytest.CollectReport, _send: Send = _send) -> None:
    if report.failed:
        failure: Failure = {"key": Problem.COLLECT_ERROR.value, "params": {"message": str(report.longrepr)[-2000:]}}
        collect: CollectRecord = {"kind": "collect", "nodeid": report.nodeid, "failure": failure}
        _send(collect)


def pytest_sessionfinish(
    session: pytest.Session,
    exitstatus: int,
    _check: Callable[[], list[str]] = _GUARD.check,
    _send: Send = _send,
    _refused: Callable[[], list[RefusedCall]] = _watch.taken,
) -> None:
    changed = _check() + [f"{call.call} ({call.where})" for call in _refused()]
    if changed:
        tampered: TamperedRecord = {"kind": "tampered", "names": _names(changed)}
        _send(tampered)
    finish: FinishRecord = {"kind": "finish", "exitstatus": int(exitstatus), "collected": session.testscollected}
    _send(finish)
