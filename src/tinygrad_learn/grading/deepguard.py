"""What the plugin's guard watches beyond the names of modules: the parts reached by digging.

Taken after collection, verified after every test, alongside the plugin's identity snapshot:
- pytest's hook callers, each with its own list of implementations and its executor, so a
  `pytest_runtest_makereport` added straight to a caller (no plugin registered) is found;
- the closure cells of every watched function (the suite's, testkit's, the plugin's, its channel
  writer's), whose contents can be swapped without touching `__code__`;
- the suite's data (`PLANTED_BUGS`, `DEPTH`): rebound, or changed in place;
- the channel's file object, whose `write` could be shadowed on the instance;
- watched modules that gained a name that is not a module: state kept where a fresh load of the
  learner's files would find it again.
Whatever changed is put back where that can be done, and named.
"""

from __future__ import annotations

import os
import sys
import types
import zlib
from collections.abc import Iterable
from typing import Any

from tinygrad_learn.grading.allowlist import ImportPolicy
from tinygrad_learn.grading.confine import POLICY_ENV

_MAX_DEPTH = 4


def _fingerprint(value: Any, depth: int = 0) -> Any:
    """A value's contents, for data that can be changed in place; identities below `_MAX_DEPTH`
    and of anything but plain data. A list, tuple or dict is known by its contents alone: one put in
    the place of another with the same contents changes nothing the checks read (and `id` is an
    event through the audit hook, which this runs after every test)."""
    if depth >= _MAX_DEPTH:
        return id(value)
    kind = type(value)
    if kind in (list, tuple):
        return (kind, tuple(_fingerprint(item, depth + 1) for item in value))
    if kind is dict:
        return (kind, tuple((key, _fingerprint(item, depth + 1)) for key, item in value.items()))
    if kind in (set, frozenset):
        return (kind, id(value), frozenset(id(item) for item in value))
    if kind.__name__ == "ndarray":
        return (id(value), value.shape, str(value.dtype), zlib.crc32(value.tobytes()))
    if kind in (int, float, str, bool, bytes, complex, type(None)):
        return (kind, value)
    return (kind, id(value), tuple(sorted(getattr(value, "__dict__", {}))))


def allowed_modules() -> list[types.ModuleType]:
    """The loaded modules learner code may import: where it could otherwise keep state."""
    text = os.environ.get(POLICY_ENV)
    policy = ImportPolicy.from_text(text) if text else ImportPolicy.of()
    names = policy.modules | policy.test_file_modules
    return [module for name in sorted(names) if isinstance(module := sys.modules.get(name), types.ModuleType)]


class DeepSnapshot:
    def __init__(self) -> None:
        self.callers: list[tuple[str, Any, list[Any], Any]] = []
        self.relay: tuple[Any, dict[str, Any]] | None = None
        self.cells: list[tuple[str, Any, Any]] = []
        self.data: list[tuple[str, dict[str, Any], str, Any, Any]] = []
        self.namespaces: list[tuple[str, dict[str, Any], frozenset[str]]] = []

    def take(
        self,
        manager: Any,
        functions: Iterable[tuple[str, Any]],
        suites: Iterable[types.ModuleType],
        modules: Iterable[types.ModuleType],
    ) -> None:
        relay = manager.hook
        self.relay = (relay, dict(vars(relay)))
        for name, caller in vars(relay).items():
            self.callers.append(
                (name, caller, list(getattr(caller, "_hookimpls", [])), getattr(caller, "_hookexec", None))
            )
        for label, function in functions:
            self._watch_cells(label, function)
        for suite in suites:
            namespace = vars(suite)
            for name, value in namespace.items():
                if not name.startswith("__") and not callable(value) and not isinstance(value, types.ModuleType):
                    self.data.append((f"suite.{name}", namespace, name, value, _fingerprint(value)))
        for module in {id(module): module for module in [*modules, *allowed_modules()]}.values():
            self.namespaces.append((module.__name__, vars(module), frozenset(vars(module))))

    def _watch_cells(self, label: str, function: Any) -> None:
        for index, cell in enumerate(getattr(function, "__closure__", None) or ()):
            try:
                contents = cell.cell_contents
            except ValueError:  # not yet filled
                continue
            self.cells.append((f"{label} (closure cell {index})", cell, contents))
            if hasattr(contents, "write") and hasattr(contents, "__dict__"):
                self.data.append(
                    (f"{label}'s channel", {"channel": contents}, "channel", contents, _fingerprint(contents))
                )

    def check(self) -> list[str]:
        changed: list[str] = []
        if self.relay is not None:
            relay, saved = self.relay
            if dict(vars(relay)) != saved or any(vars(relay).get(k) is not v for k, v in saved.items()):
                changed.append("pytest's hook relay")
                vars(relay).clear()
                vars(relay).update(saved)
        for name, caller, impls, hookexec in self.callers:
            current = getattr(caller, "_hookimpls", [])
            if len(current) != len(impls) or any(a is not b for a, b in zip(current, impls, strict=False)):
                changed.append(f"pytest's {name} implementations")
                current[:] = impls
            if getattr(caller, "_hookexec", None) is not hookexec:
                changed.append(f"pytest's {name} executor")
                caller._hookexec = hookexec
        for label, cell, contents in self.cells:
            try:
                same = cell.cell_contents is contents
            except ValueError:
                same = False
            if not same:
                changed.append(label)
                cell.cell_contents = contents
        for label, namespace, name, value, fingerprint in self.data:
            if namespace.get(name) is not value:
                changed.append(label)
                namespace[name] = value
            elif _fingerprint(value) != fingerprint:
                changed.append(label)
        for label, namespace, names in self.namespaces:
            added = [name for name in set(namespace) - names if not isinstance(namespace[name], types.ModuleType)]
            for name in added:
                changed.append(f"{label}.{name}")
                del namespace[name]
        return changed
