"""The shape of the package (issue 16): parse -> core -> view, small modules, no import upwards."""

from __future__ import annotations

import ast
from pathlib import Path

import tinygrad_learn

PACKAGE = Path(tinygrad_learn.__file__).parent
# Rendering, and the modules that parse the command line, call the core and own the JSON.
CLI_SIDE = {"cli", "commands", "terminal", "report_json"}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if "suites" not in relative.parts:
            found[".".join(relative.with_suffix("").parts)] = path
    return found


def imports(path: Path) -> list[str]:
    """Every module `path` imports, anywhere in it (lazy imports too), package modules by name."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names.append(node.module or "")
            elif node.module:
                names.append(node.module)
            else:
                names += [alias.name for alias in node.names if alias.name in modules()]
    return names


def test_no_module_is_long() -> None:
    long = {name for name, path in modules().items() if len(path.read_text(encoding="utf-8").splitlines()) > 400}
    # Still waiting: runner.py's split into the sandbox modules; suitekit is suite code, shared.
    assert long <= {"runner", "grading.suitekit"}, long
    assert len((PACKAGE / "terminal.py").read_text(encoding="utf-8").splitlines()) < 250


def test_the_command_line_only_parses() -> None:
    used = imports(PACKAGE / "cli.py")
    assert not any(name.split(".")[0] == "rich" for name in used), used
    package_modules = {name for name in used if name in modules() or name == "__version__"}
    assert len(package_modules) <= 8, package_modules


def test_views_are_the_only_ones_that_draw() -> None:
    for name, path in modules().items():
        drawing = any(imported.split(".")[0] == "rich" for imported in imports(path))
        if drawing:
            assert name.endswith("_view") or name == "terminal", name


def test_no_import_runs_back_up() -> None:
    for name, path in modules().items():
        used = set(imports(path))
        if not (name.endswith("_view") or name in CLI_SIDE):
            upward = {module for module in used if module.endswith("_view") or module in CLI_SIDE}
            assert not upward, (name, upward)
        if name.startswith("grading"):
            assert not {module for module in used if module.endswith("_view") or module in CLI_SIDE}, name
    assert not {"checking", "runner"} & set(imports(PACKAGE / "sourcemap.py"))
