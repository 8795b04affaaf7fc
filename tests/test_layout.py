"""The shape of the package (issue 16): parse -> core -> view, small modules, no import upwards."""

from __future__ import annotations

import ast
from pathlib import Path

import tinygrad_learn

PACKAGE = Path(tinygrad_learn.__file__).parent
# Rendering, and the modules that parse the command line, call the core and own the JSON; the
# package's own `__init__` too, whose `load_ipython_extension` is the notebook's entry point
# (`%load_ext tinygrad_learn` starts the magics, `notebook.commands`, as `cli.main` starts the CLI).
CLI_SIDE = {"cli", "__main__", "commands", "terminal", "report_json", "__init__"}


def is_view(name: str) -> bool:
    """A feature's view: `<feature>_view`, or `view` inside a feature's own package."""
    last = name.rsplit(".", 1)[-1]
    return last.endswith("_view") or last == "view"


def is_cli_side(name: str) -> bool:
    return name in CLI_SIDE or name.rsplit(".", 1)[-1] == "commands"


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if "suites" not in relative.parts:
            found[".".join(relative.with_suffix("").parts)] = path
    return found


def imports(path: Path) -> list[str]:
    """Every module `path` imports, anywhere in it (lazy imports too); the package's own modules by
    their dotted name inside the package (`grading.testkit`), others by their full name."""
    known = modules()
    here = path.relative_to(PACKAGE).with_suffix("").parts[:-1]
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name.removeprefix("tinygrad_learn.") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                module = node.module or ""
                if not module.startswith("tinygrad_learn"):
                    names.append(module)
                    continue
                base = module.removeprefix("tinygrad_learn").lstrip(".")
            else:
                parent = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                base = ".".join((*parent, *([node.module] if node.module else [])))
            names.append(base)
            prefix = f"{base}." if base else ""
            names += [f"{prefix}{alias.name}" for alias in node.names if f"{prefix}{alias.name}" in known]
    return [name for name in names if name]


def test_no_module_is_long() -> None:
    long = {name for name, path in modules().items() if len(path.read_text(encoding="utf-8").splitlines()) > 400}
    assert long == set(), long
    assert len((PACKAGE / "terminal.py").read_text(encoding="utf-8").splitlines()) < 250


def test_the_command_line_only_parses() -> None:
    used = imports(PACKAGE / "cli.py")
    assert not any(name.split(".")[0] == "rich" for name in used), used
    package_modules = {name for name in used if name in modules() or name in ("__version__", "")}
    assert len(package_modules) <= 8, package_modules


def test_views_are_the_only_ones_that_draw() -> None:
    for name, path in modules().items():
        drawing = any(imported.split(".")[0] == "rich" for imported in imports(path))
        if drawing:
            assert is_view(name) or name == "terminal", name


def test_no_import_runs_back_up() -> None:
    for name, path in modules().items():
        used = set(imports(path))
        if not (is_view(name) or is_cli_side(name)):
            upward = {module for module in used if is_view(module) or is_cli_side(module)}
            assert not upward, (name, upward)
        if name.startswith("grading"):
            assert not {module for module in used if is_view(module) or is_cli_side(module)}, name
    assert not {"checking", "runner"} & set(imports(PACKAGE / "sourcemap.py"))


# The ways Python starts another process; only these modules may use them.
PROCESS_STARTERS = {"subprocess", "multiprocessing", "pty"}
PROCESS_FUNCTIONS = {"system", "popen", "fork", "forkpty", "posix_spawn", "posix_spawnp", "startfile"}
# grading.warm is the warm grading process's side of the sandbox: it forks each run, guarded like a
# cold one (tests/test_sandbox.py holds it to that one function).
STARTS_PROCESSES = {"runner", "sandbox", "grading.warm"}


def starts_processes(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name.split(".")[0] in PROCESS_STARTERS for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PROCESS_STARTERS:
            return True
        on_os = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os"
        if on_os and (node.attr in PROCESS_FUNCTIONS or node.attr.startswith(("exec", "spawn"))):  # type: ignore[attr-defined]
            return True
    return False


def test_only_the_runner_and_the_sandbox_start_processes() -> None:
    starters = {name for name, path in modules().items() if starts_processes(path)}
    assert starters == STARTS_PROCESSES, "start programs through runner.run_program, learner code through sandbox"


def test_the_process_check_sees_a_raw_subprocess(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def go(path):\n    import subprocess\n    subprocess.run(['vim', path])\n", encoding="utf-8")
    assert starts_processes(sneaky)
    forked = tmp_path / "forked.py"
    forked.write_text("import os\nos.execvp('vim', ['vim'])\n", encoding="utf-8")
    assert starts_processes(forked)
