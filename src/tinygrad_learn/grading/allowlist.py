"""What learner code may use, checked from its source before any of it runs.

An autograd engine needs arithmetic, `random`, `numpy` and its own sibling files. Everything that
reaches the interpreter's machinery (frames, code objects, closures, the import system, the
garbage collector, the operating system) is how code digs into the grader instead, so a file that
imports a module outside the course's list, or names one of those entry points, is refused before
a grading run starts: the refusal names the file, the line and the name.

What a static reading cannot see (a name built at run time, `getattr(f, "__clo" + "sure__")`) is
refused here when the name is computed, and caught by the audit hook of the grading child
(`audit.py`) whatever form it takes.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODULES: tuple[str, ...] = (
    "math",
    "cmath",
    "random",
    "numpy",
    "functools",
    "itertools",
    "collections",
    "dataclasses",
    "typing",
    "statistics",
    "contextlib",
    "numbers",
    "fractions",
    "decimal",
    "heapq",
    "bisect",
    "copy",
    "enum",
    "abc",
    "string",
    "__future__",
)
"""Used when the course data names no list of its own."""

TEST_FILE_MODULES: tuple[str, ...] = ("pytest",)
"""Allowed only in the learner's own test files (`test_*.py`)."""

DENIED_MODULES = frozenset({"numpy.ctypeslib", "numpy.distutils", "numpy.f2py", "numpy.testing"})
"""Parts of allowed packages that load native code or start programs."""

DENIED_NAMES = frozenset(
    {
        "__import__",
        "__builtins__",
        "__loader__",
        "__spec__",
        "eval",
        "exec",
        "compile",
        "globals",
        "locals",
        "breakpoint",
        "memoryview",
    }
)
"""Built-in names that run text as code or hand out namespaces (the grader's included)."""

DENIED_ATTRIBUTES = frozenset(
    {
        "__closure__",
        "__globals__",
        "__code__",
        "__defaults__",
        "__kwdefaults__",
        "__builtins__",
        "__subclasses__",
        "__self__",
        "__func__",
        "__traceback__",
        "__getattribute__",
        "__loader__",
        "__spec__",
        "cell_contents",
        "f_back",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_code",
        "f_trace",
        "tb_frame",
        "tb_next",
        "gi_frame",
        "gi_code",
        "cr_frame",
        "cr_code",
        "ag_frame",
        "ag_code",
        "co_code",
        "co_consts",
        "ctypeslib",
    }
)
"""Attributes that lead from an object to frames, code, closures or another module's globals."""

DYNAMIC_ATTRIBUTE_FUNCTIONS = frozenset({"getattr", "setattr", "delattr", "hasattr"})
"""Allowed only when called with a name written as a plain string; a computed name could be any
of the above. `vars` is allowed with one argument (`vars(self)`); without one it is `locals()`."""

CHECKED_CALLS = DYNAMIC_ATTRIBUTE_FUNCTIONS | {"vars"}


@dataclass(frozen=True)
class Refusal:
    """Why a learner file may not run: `reason` is a locale key under `forbidden.`."""

    file: str
    line: int
    name: str
    reason: str
    """module, name, attribute, computed_attribute or unreadable."""


@dataclass(frozen=True)
class ImportPolicy:
    """The modules learner code may import, and those allowed only in its own test files."""

    modules: frozenset[str]
    test_file_modules: frozenset[str]

    @classmethod
    def of(
        cls, modules: Collection[str] = DEFAULT_MODULES, test_file_modules: Collection[str] = TEST_FILE_MODULES
    ) -> ImportPolicy:
        return cls(frozenset(modules), frozenset(test_file_modules))

    def allows(self, module: str, in_test_file: bool) -> bool:
        if any(module == denied or module.startswith(denied + ".") for denied in DENIED_MODULES):
            return False
        top = module.split(".")[0]
        return top in self.modules or (in_test_file and top in self.test_file_modules)

    def as_text(self) -> str:
        """How the grading child receives it (an environment variable): `a,b;c`."""
        return ",".join(sorted(self.modules)) + ";" + ",".join(sorted(self.test_file_modules))

    @classmethod
    def from_text(cls, text: str) -> ImportPolicy:
        modules, _, test_modules = text.partition(";")
        return cls.of([name for name in modules.split(",") if name], [name for name in test_modules.split(",") if name])


def screen(exercises: Path, policy: ImportPolicy) -> Refusal | None:
    """The first thing in the learner's Python files that the policy refuses, or None."""
    for path in sorted(exercises.rglob("*.py")):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        relative = f"{exercises.name}/{path.relative_to(exercises).as_posix()}"
        refusal = screen_source(path.read_bytes(), relative, policy)
        if refusal is not None:
            return refusal
    return None


@functools.lru_cache(maxsize=256)
def screen_source(source: bytes, file: str, policy: ImportPolicy) -> Refusal | None:
    # Remembered: `watch` and `check --all` screen every file before each run, and between two
    # saves all but one are as they were (a run forked warm waits for the screen to start).
    in_test_file = Path(file).name.startswith("test_")
    if not _may_name_machinery(source) and _imports_plainly_allowed(source, policy, in_test_file):
        return None
    try:
        tree = ast.parse(source, filename=file)
        refusal = next(_import_refusals(tree.body, file, policy, in_test_file), None)
        if refusal is None and _may_name_machinery(source):
            refusal = next(_name_refusals(tree, file), None)
        return refusal
    except SyntaxError:
        return None  # the grading run reports it, with the line and a caret
    except (RecursionError, MemoryError, ValueError):
        return None if _python_cannot_compile(source, file) else Refusal(file, 0, "", "unreadable")


def _python_cannot_compile(source: bytes, file: str) -> bool:
    """Source too deep for the syntax tree is refused only if Python could still run it; when it
    cannot compile it either, the grading run reports the error in the learner's terms."""
    try:
        compile(source, file, "exec", dont_inherit=True)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return True
    return False


@functools.cache
def _watched_words() -> re.Pattern[bytes]:
    """Compiled on first use: the grading child imports this module but never screens."""
    words = sorted(DENIED_NAMES | DENIED_ATTRIBUTES | CHECKED_CALLS)
    return re.compile(rb"\b(?:" + b"|".join(re.escape(word.encode()) for word in words) + rb")\b")


def _may_name_machinery(source: bytes) -> bool:
    """Whether the source spells a watched name; identifiers outside ASCII are normalised by
    Python (a full-width `ｅｖａｌ` is `eval`), and a coding line can make other bytes spell one
    (UTF-7), so such a file is always read in full."""
    return not source.isascii() or b"coding" in source or _watched_words().search(source) is not None


_NAME = rb"[A-Za-z_][A-Za-z0-9_]*"
_DOTTED = _NAME + rb"(?:\." + _NAME + rb")*"


def _aliased(name: bytes) -> bytes:
    """`name`, `name as other`."""
    return name + rb"(?:[ \t]+as[ \t]+" + _NAME + rb")?"


_END = rb"[ \t]*(?:#[^\r]*)?\r?"
_PLAIN_IMPORT = re.compile(
    rb"[ \t]*import[ \t]+(" + _aliased(_DOTTED) + rb"(?:[ \t]*,[ \t]*" + _aliased(_DOTTED) + rb")*)" + _END
)
_PLAIN_FROM = re.compile(
    rb"[ \t]*from[ \t]+(\.*(?:"
    + _DOTTED
    + rb")?)[ \t]+import[ \t]+("
    + _aliased(_NAME)
    + rb"(?:[ \t]*,[ \t]*"
    + _aliased(_NAME)
    + rb")*)"
    + _END
)


def _imports_plainly_allowed(source: bytes, policy: ImportPolicy, in_test_file: bool) -> bool:
    """True when every line that spells `import` is one plain import statement the policy allows,
    which settles the import check without building the syntax tree. Anything else (a statement
    spread over lines, two on a line, a refusal) returns False and the tree decides."""
    for line in source.split(b"\n"):
        if b"import" not in line:
            continue
        if match := _PLAIN_IMPORT.fullmatch(line):
            modules = [_first_word(alias) for alias in match[1].split(b",")]
            if not all(policy.allows(module, in_test_file) for module in modules):
                return False
        elif match := _PLAIN_FROM.fullmatch(line):
            module = match[1].decode()
            names = [_first_word(alias) for alias in match[2].split(b",")]
            if not module.startswith(".") and not all(
                policy.allows(name, in_test_file) for name in [module, *(f"{module}.{n}" for n in names)]
            ):
                return False
        else:
            return False
    return True


def _first_word(alias: bytes) -> str:
    return alias.split()[0].decode()


def _import_refusals(body: list[ast.stmt], file: str, policy: ImportPolicy, in_test_file: bool) -> Iterator[Refusal]:
    """Imports are statements: only statement bodies are walked, not every expression."""
    for node in body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not policy.allows(alias.name, in_test_file):
                    yield Refusal(file, node.lineno, alias.name, "module")
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module is not None:
                if not policy.allows(node.module, in_test_file):
                    yield Refusal(file, node.lineno, node.module, "module")
                for alias in node.names:
                    if not policy.allows(f"{node.module}.{alias.name}", in_test_file):
                        yield Refusal(file, node.lineno, f"{node.module}.{alias.name}", "module")
            for alias in node.names:
                if alias.name in DENIED_NAMES or alias.name in DENIED_ATTRIBUTES:
                    yield Refusal(file, node.lineno, alias.name, "name")
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            inner = getattr(node, field, None)
            if isinstance(inner, list):
                yield from _import_refusals(inner, file, policy, in_test_file)


def _name_refusals(tree: ast.AST, file: str) -> Iterator[Refusal]:
    plain_calls = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call) and _plain_call(node)}
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Name) and node.id in DENIED_NAMES:
            yield Refusal(file, line, node.id, "name")
        elif isinstance(node, ast.Name) and node.id in CHECKED_CALLS and id(node) not in plain_calls:
            reason = "name" if node.id == "vars" else "computed_attribute"
            yield Refusal(file, line, node.id, reason)
        elif isinstance(node, ast.Attribute) and node.attr in DENIED_ATTRIBUTES:
            yield Refusal(file, line, node.attr, "attribute")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in DENIED_ATTRIBUTES:
            yield Refusal(file, line, node.value, "attribute")


def _plain_call(call: ast.Call) -> bool:
    """`getattr(x, "name", ...)` with a written name, or `vars(x)` with one argument."""
    if not isinstance(call.func, ast.Name) or call.keywords:
        return False
    if call.func.id == "vars":
        return len(call.args) == 1 and not isinstance(call.args[0], ast.Starred)
    return len(call.args) >= 2 and isinstance(call.args[1], ast.Constant) and isinstance(call.args[1].value, str)
