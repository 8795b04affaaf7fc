"""The audit hook of a child that runs learner code: what the learner's code may not call.

Installed (`sys.addaudithook`, which nothing can remove) before any learner code is imported. It
acts only while the learner's code runs, which it tells from the call stack: an event whose
direct caller is a file of the learner's folder (frames, code objects, text compiled as code, an
import outside the course's list) or that has such a file anywhere below it (tracing, the garbage
collector's object lists, native code, new processes, sockets, files outside the scratch copy,
classes of the grader changed). The suite, pytest and the libraries they call on their own are
never restricted. A refused call raises PermissionError where the learner made it and is kept,
so that catching the error changes nothing: the plugin fails the test during which it happened.

Reading a function's `__code__`, `__defaults__` or `__kwdefaults__` is an audited event, and the
plugin's guard compares those of some 600 functions after every test: through the hook, each read
costs a look up the stack (itself two more events). `Watch.code_watch` does those reads with the
hook stepping aside, in a function that touches nothing but genuine function objects, so no
learner code can run while it does; and only after a test during which one of those attributes of
some function was set, which Python reports to the hook whoever does it.
"""

from __future__ import annotations

import os
import sys
import threading
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tinygrad_learn.grading.allowlist import ImportPolicy

CALLED_DIRECTLY = frozenset(
    {
        "sys._getframe",
        "sys._current_frames",
        "sys._current_exceptions",
        "object.__getattr__",
        "object.__setattr__",
        "object.__delattr__",
        "compile",
        "import",
        "builtins.breakpoint",
    }
)
"""Refused when the learner's own line makes the call (libraries use some of these themselves)."""

CALLED_ANYWHERE = frozenset(
    {
        "sys.settrace",
        "sys.setprofile",
        "sys.addaudithook",
        "sys.setrecursionlimit",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "os.kill",
        "os.killpg",
        "os.chdir",
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.mkdir",
        "os.symlink",
        "os.link",
        "os.truncate",
        "os.chmod",
        "os.chown",
        "os.utime",
        "os.listdir",
        "os.scandir",
        "subprocess.Popen",
        "code.__new__",
        "function.__new__",
        "open",
    }
)
"""Refused when learner code is anywhere on the stack (no library needs them for an engine)."""

WATCHED_EVENTS = CALLED_DIRECTLY | CALLED_ANYWHERE
CODE_ATTRIBUTES = frozenset({"__code__", "__defaults__", "__kwdefaults__"})
REFUSED_PREFIXES = ("ctypes.", "socket.", "_posixsubprocess.", "winreg.", "msvcrt.", "pty.")
IMPORT_MACHINERY = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


@dataclass(frozen=True)
class RefusedCall:
    call: str
    where: str
    """exercises/<file>:<line> of the learner's line that made it."""


class Refused(PermissionError):
    pass


Reading = Callable[[Callable[[], Any]], Any]
CodeWatch = Callable[[Sequence[Any]], Callable[[], list[int]]]
"""Given functions, a check that puts back the code and defaults of each one changed since, and
returns their positions among the genuine functions given."""


@dataclass(frozen=True)
class Watch:
    taken: Callable[[], list[RefusedCall]]
    """Hands over (and forgets) the calls refused so far."""
    code_watch: CodeWatch


def _plainly(read: Callable[[], Any]) -> Any:
    return read()


def _always() -> bool:
    return True


def _code_watch(
    functions: Sequence[Any], reading: Reading = _plainly, code_was_set: Callable[[], bool] = _always
) -> Callable[[], list[int]]:
    """Only genuine functions are kept: reading their attributes runs no Python code of anyone's.

    Defaults are compared where a function had some: giving defaults to one that had none changes
    no call the checks make (every such call passes all its arguments), and each read is an event
    through the audit hook."""
    kept = tuple(function for function in functions if type(function) is types.FunctionType)
    saved = reading(lambda: tuple((f.__code__, f.__defaults__, f.__kwdefaults__) for f in kept))
    plain: list[int] = []
    with_defaults: list[int] = []
    for index, (_, defaults, kwdefaults) in enumerate(saved):
        (plain if defaults is kwdefaults is None else with_defaults).append(index)

    def compare() -> list[int]:
        if not code_was_set():
            return []
        changed = [i for i in plain if kept[i].__code__ is not saved[i][0]]
        for i in with_defaults:
            f, (code, defaults, kwdefaults) = kept[i], saved[i]
            if f.__code__ is not code or f.__defaults__ is not defaults or f.__kwdefaults__ is not kwdefaults:
                changed.append(i)
        for i in changed:
            kept[i].__code__, kept[i].__defaults__, kept[i].__kwdefaults__ = saved[i]
        return sorted(changed)

    return lambda: reading(compare)


def unwatched() -> Watch:
    """For a process with no hook (a bare pytest run of a suite): nothing refused, plain reads."""
    return Watch(taken=list, code_watch=_code_watch)


def _roots(*paths: str) -> tuple[str, ...]:
    found: list[str] = []
    for path in paths:
        if path:
            for variant in (os.path.abspath(path), os.path.realpath(path)):
                found.append(variant.rstrip(os.sep) + os.sep)
    return tuple(dict.fromkeys(found))


def install(learner_root: str, writable_root: str, policy: ImportPolicy) -> Watch:
    """Install the hook; the returned Watch hands over the calls refused so far."""
    learner = _roots(learner_root)
    writable = _roots(writable_root, os.devnull)
    readable = writable + learner + _roots(sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)
    refused: list[RefusedCall] = []
    busy: set[int] = set()
    """Threads inside the hook or a quiet read: their own events pass (per thread, so that
    another thread's calls are still judged meanwhile)."""
    thread = threading.get_ident
    watch_codes = _code_watch
    code_set = [False]
    """Whether a function's code or defaults were set (by anyone) since the guard last compared."""
    armed = [False]
    """Set once a learner file is read, compiled or run: before that no learner frame can exist,
    so the collection phase (pytest's and numpy's imports) costs a set lookup per event."""
    getframe = sys._getframe
    realpath = os.path.realpath

    def learner_line(frame: Any) -> str | None:
        filename = frame.f_code.co_filename
        if filename.startswith(learner):
            for root in learner:
                if filename.startswith(root):
                    return f"exercises/{filename[len(root) :]}:{frame.f_lineno}"
        return None

    def direct_caller(frame: Any, event: str) -> str | None:
        if event == "import":
            while frame is not None and frame.f_code.co_filename in IMPORT_MACHINERY:
                frame = frame.f_back
        return None if frame is None else learner_line(frame)

    def anywhere(frame: Any) -> str | None:
        while frame is not None:
            where = learner_line(frame)
            if where is not None:
                return where
            frame = frame.f_back
        return None

    def allowed(event: str, args: tuple[Any, ...], where: str) -> bool:
        if event == "import":
            name = str(args[0])
            return name.startswith("_tinygrad_learn_") or policy.allows(name, "/test_" in where)
        if event == "compile":
            filename = args[1] if len(args) > 1 else None
            return isinstance(filename, (str, bytes)) and os.fsdecode(filename).startswith(learner)
        if event == "object.__getattr__":
            return False
        if event in ("object.__setattr__", "object.__delattr__"):
            owner = args[0]
            return isinstance(owner, type) and str(getattr(owner, "__module__", "")).startswith("_tinygrad_learn_")
        if event == "open":
            return _may_open(args, readable, writable, realpath)
        return False

    def arms(event: str, args: tuple[Any, ...]) -> bool:
        if event == "exec":
            source = getattr(args[0], "co_filename", None) if args else None
        elif event in ("compile", "import"):
            source = args[1] if len(args) > 1 else None
        elif event == "open":
            source = args[0] if args else None
        else:
            return False
        return isinstance(source, str) and source.startswith(learner)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "object.__setattr__" and len(args) > 1:
            name = args[1]
            # First, whoever sets it and whatever else this hook decides. A name that is not a
            # plain str (a subclass whose == could answer differently each time) counts as one.
            if type(name) is not str or name in CODE_ATTRIBUTES:
                code_set[0] = True
        if busy and thread() in busy:
            return
        if not armed[0]:
            if not arms(event, args):
                return
            armed[0] = True
        if event not in WATCHED_EVENTS and not event.startswith(REFUSED_PREFIXES):
            return  # most events: one set lookup
        directly = event in CALLED_DIRECTLY
        busy.add(thread())
        try:
            frame = getframe(1)
            if not directly and frame.f_code.co_filename in IMPORT_MACHINERY:
                return  # listing and reading a package's folder: the import itself was checked
            where = direct_caller(frame, event) if directly else anywhere(frame)
            if where is None or allowed(event, args, where):
                return
            call = _call_text(event, args)
            refused.append(RefusedCall(call, where))
        finally:
            busy.discard(thread())
        raise Refused(f"{call} is not allowed in learner code ({where})")

    def taken() -> list[RefusedCall]:
        calls = list(refused)
        refused.clear()
        return calls

    def quietly(read: Callable[[], Any]) -> Any:
        """Runs one of `_code_watch`'s own readers, never a function given from outside."""
        busy.add(thread())
        try:
            return read()
        finally:
            busy.discard(thread())

    def code_was_set() -> bool:
        was_set, code_set[0] = code_set[0], False
        return was_set

    def code_watch(functions: Sequence[Any]) -> Callable[[], list[int]]:
        code_set[0] = True  # the first comparison always reads
        return watch_codes(functions, quietly, code_was_set)

    sys.addaudithook(hook)
    return Watch(taken, code_watch)


def _call_text(event: str, args: tuple[Any, ...]) -> str:
    if event == "import":
        return f"import {args[0]}"
    if event == "open" and args:
        return f"open({args[0]!r})"
    return event


def _may_open(
    args: tuple[Any, ...], readable: tuple[str, ...], writable: tuple[str, ...], realpath: Callable[[str], str]
) -> bool:
    path, mode, flags = (tuple(args) + (None, None, None))[:3]
    if isinstance(path, int):
        return False  # an inherited descriptor: the channel, or the terminal
    try:
        resolved = realpath(os.fsdecode(path)) + os.sep
    except (TypeError, ValueError, OSError):
        return False
    writes = (isinstance(mode, str) and any(letter in mode for letter in "wax+")) or (
        isinstance(flags, int) and bool(flags & WRITE_FLAGS)
    )
    return resolved.startswith(writable if writes else readable)
