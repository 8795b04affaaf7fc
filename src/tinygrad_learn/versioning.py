"""A suite's version: its own text and the source of the shared grading code it actually uses.

A learner's pass is marked as changed when the version of its suite changes. Hashing all of
`testkit` and `suitekit` would cry wolf: a new helper for the Week-4 suites would mark every
Step 1 pass as changed. So the version covers the names a suite imports from `grading/` and,
transitively, the top-level functions, classes and constants those reference, each by its
source, plus each used module's other top-level statements (which run whenever it is imported).

The reading is textual, not a parse: `list` and `check` compute versions on every run, and a
parse of the grading modules costs more than the rest of `list`. Every doubt is settled towards
covering more: a name in a comment or a string counts as a reference, and a top-level line the
reader cannot place counts as code every user of the module runs. So an edit may still change
a version needlessly, but an edit to what a suite checks always changes it.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .paths import PACKAGE_DIR

GRADING_DIR = PACKAGE_DIR / "grading"
WHOLE_MODULE = "*"
MODULE_CODE = "<module>"
"""A module's top-level statements that are neither definitions nor imports."""

_IMPORT = re.compile(
    r"^from[ \t]+(?:tinygrad_learn\.grading|(\.))(?:\.?(\w+))?[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.MULTILINE
)
_DEFINITION = re.compile(r"(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)|(\w+)[ \t]*(?::[^=\n]*)?=(?!=)")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_CONTINUATION = (")", "]", "}", '"', "'")


@dataclass(frozen=True)
class _Module:
    """One module of `grading/`: its top-level definitions and the shared names it imports."""

    file: str
    definitions: dict[str, str]
    """name -> source text of the statement that defines it (decorators included)."""
    imported: dict[str, tuple[str, str]]
    """local name -> (module file, name in it); the name is WHOLE_MODULE for a module itself."""
    code: str
    """The top-level statements every import runs: neither definitions nor imports."""
    found: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)
    """What `reaches` worked out so far: read only for the definitions a suite uses."""

    def reaches(self, name: str) -> frozenset[tuple[str, str]]:
        """The shared names the definition `name` (or MODULE_CODE) refers to."""
        if name not in self.found:
            text = self.code if name == MODULE_CODE else self.definitions[name]
            self.found[name] = frozenset(_references(text, self.imported, self.definitions, self.file))
        return self.found[name]


def suite_version(suite: Path, grading_dir: Path = GRADING_DIR) -> str:
    source = suite.read_bytes()
    digest = hashlib.sha256(source)
    text = source.decode("utf-8", errors="replace")
    used: dict[tuple[str, str], str] = {}
    modules: dict[str, _Module | None] = {}
    for target in _references(text, _imports(text, grading_dir), {}):
        _use(grading_dir, target, used, modules)
    for (module_file, name), part in sorted(used.items()):
        digest.update(f"\0{module_file}:{name}\0".encode() + part.encode())
    return digest.hexdigest()[:12]


def _use(
    grading_dir: Path, target: tuple[str, str], used: dict[tuple[str, str], str], modules: dict[str, _Module | None]
) -> None:
    """Add `target` (module file, name) and everything it reaches to `used`."""
    if target in used:
        return
    module_file, name = target
    if module_file not in modules:
        modules[module_file] = _analyse(grading_dir / module_file)
    module = modules[module_file]
    if module is None:
        return  # not shared grading code
    if (module_file, MODULE_CODE) not in used:
        used[(module_file, MODULE_CODE)] = module.code
        for other in {(other_file, MODULE_CODE) for other_file, _ in module.imported.values()}:
            _use(grading_dir, other, used, modules)
        for reached in module.reaches(MODULE_CODE):
            _use(grading_dir, reached, used, modules)
    if name == WHOLE_MODULE:
        for defined in module.definitions:
            _use(grading_dir, (module_file, defined), used, modules)
        for imported in module.imported.values():
            _use(grading_dir, imported, used, modules)
    elif name in module.definitions:
        used[target] = module.definitions[name]
        for reached in module.reaches(name):
            _use(grading_dir, reached, used, modules)
    elif name in module.imported:
        _use(grading_dir, module.imported[name], used, modules)


def _references(
    text: str, imported: dict[str, tuple[str, str]], definitions: dict[str, str], module_file: str = ""
) -> set[tuple[str, str]]:
    """The shared names `text` may refer to: every identifier that is one of them, and `module.name`.

    With no definitions of its own (a suite), every name it imports counts as used: scanning a
    whole suite for identifiers costs more than the little it would leave out.
    """
    found: set[tuple[str, str]] = set()
    identifiers = set(_IDENTIFIER.findall(text)) if definitions else set(imported)
    for local, (other_file, name) in imported.items():
        if local == WHOLE_MODULE:
            found.add((other_file, WHOLE_MODULE))
        elif local in identifiers and name != WHOLE_MODULE:
            found.add((other_file, name))
        elif local in identifiers:
            attributes = set(re.findall(rf"\b{re.escape(local)}[ \t]*\.[ \t]*(\w+)", text))
            body = _IMPORT.sub("", text)  # naming a module in its import is not a use of it whole
            # A module named without an attribute (passed around whole) may be used for anything.
            bare = re.search(rf"\b{re.escape(local)}\b(?![ \t]*\.)", body) is not None
            found |= {(other_file, attribute) for attribute in attributes} if not bare else {(other_file, WHOLE_MODULE)}
    found |= {(module_file, name) for name in identifiers & definitions.keys()}
    return found


def _imports(text: str, grading_dir: Path) -> dict[str, tuple[str, str]]:
    """`from tinygrad_learn.grading[.module] import ...` (or a relative one inside grading/)."""
    imported: dict[str, tuple[str, str]] = {}
    for match in _IMPORT.finditer(text):
        module, names = match.group(2), match.group(3).strip("()")
        for item in names.split(","):
            words = item.split("#")[0].split()
            if not words:
                continue
            name, local = words[0], words[-1]
            if name == "*":
                imported[WHOLE_MODULE] = (f"{module or '__init__'}.py", WHOLE_MODULE)
            elif module is None and (grading_dir / f"{name}.py").is_file():
                imported[local] = (f"{name}.py", WHOLE_MODULE)
            else:
                imported[local] = (f"{module or '__init__'}.py", name)
    return imported


def _analyse(path: Path) -> _Module | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return _analyse_text(path, text)


@functools.lru_cache(maxsize=64)
def _analyse_text(path: Path, text: str) -> _Module:
    """Split a module into its top-level statements, each starting on a line without indentation."""
    statements: list[list[str]] = []
    for line in _without_docstring(text).splitlines():
        starts = line[:1] not in ("", " ", "\t", "#") and not line.startswith(_CONTINUATION)
        if starts and not (statements and _decorators_only(statements[-1])):
            statements.append([line])
        elif statements:
            statements[-1].append(line)
    definitions: dict[str, str] = {}
    code: list[str] = []
    for lines in statements:
        statement = "\n".join(lines).rstrip()  # the blank lines after it separate, they do not belong
        head = next(line for line in lines if not line.startswith("@"))
        named = _DEFINITION.match(head)
        if head.startswith(("from ", "import ")):
            continue  # shared imports are read below; others are not grading code
        if named:
            definitions[named.group(1) or named.group(2)] = statement
        else:
            code.append(statement)
    return _Module(path.name, definitions, _imports(text, path.parent), "\n".join(code))


def _decorators_only(lines: list[str]) -> bool:
    """A statement so far made of decorators: the definition they decorate still belongs to it."""
    return lines[0].startswith("@") and not any(line.startswith(("def ", "class ", "async ")) for line in lines)


def _without_docstring(text: str) -> str:
    stripped = text.lstrip()
    for quote in ('"""', "'''"):
        if stripped.startswith(quote):
            end = stripped.find(quote, 3)
            return stripped[end + 3 :] if end >= 0 else ""
    return text
