"""One sandbox: no module but `sandbox` and `runner` can start a process, and every child that runs
learner code (check, graph, bench, train) is started by `sandbox.run_sandboxed`.

Landlock: a child that restricts itself reaches only what it was given, and its children too;
where Landlock is missing (or turned off for a test) `doctor` says which guards remain."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tinygrad_learn import manifest, sandbox
from tinygrad_learn.grading import landlock
from tinygrad_learn.grading.allowlist import ImportPolicy
from tinygrad_learn.manifest import Course
from tinygrad_learn.paths import PACKAGE_DIR, Workspace
from tinygrad_learn.workspace import init_workspace

from .conftest import run_cli

AVAILABLE = landlock.status().available
needs_landlock = pytest.mark.skipif(not AVAILABLE, reason=f"Landlock is not available: {landlock.status().reason}")

CHILD = textwrap.dedent(
    """
    import os, socket, subprocess, sys
    from tinygrad_learn.grading import landlock
    scratch, outside = sys.argv[1], sys.argv[2]
    status = landlock.restrict(landlock.python_paths(), [scratch])

    def attempt(action):
        try:
            action()
            return "allowed"
        except OSError:
            return "refused"

    def write(path):
        with open(path, "w") as handle:
            handle.write("x")

    print("abi", status.abi)
    print("scratch", attempt(lambda: write(os.path.join(scratch, "file"))))
    print("outside", attempt(lambda: write(os.path.join(outside, "file"))))
    print("read-outside", attempt(lambda: os.listdir(outside)))
    print("parent-cwd", attempt(lambda: os.listdir(f"/proc/{os.getppid()}/cwd")))
    child = [sys.executable, "-c", f"open({os.path.join(outside, 'child')!r}, 'w')"]
    print("child", "refused" if subprocess.run(child, capture_output=True).returncode else "allowed")
    if status.abi >= 4:
        print("network", attempt(lambda: socket.create_connection(("127.0.0.1", 9), timeout=1)))
    """
)


def run_child(tmp_path: Path) -> dict[str, str]:
    scratch, outside = tmp_path / "scratch", tmp_path / "outside"
    scratch.mkdir()
    outside.mkdir()
    done = subprocess.run([sys.executable, "-c", CHILD, str(scratch), str(outside)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return dict(line.split(" ", 1) for line in done.stdout.splitlines())


@needs_landlock
def test_a_restricted_child_writes_only_its_scratch_folder(tmp_path: Path) -> None:
    seen = run_child(tmp_path)
    assert seen["scratch"] == "allowed"
    assert seen["outside"] == "refused"
    assert seen["read-outside"] == "refused"
    assert seen["parent-cwd"] == "refused"
    assert seen["child"] == "refused"
    assert not (tmp_path / "outside" / "file").exists() and not (tmp_path / "outside" / "child").exists()
    if int(seen["abi"]) >= 4:
        assert seen["network"] == "refused"


def test_turned_off_it_restricts_nothing_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(landlock.DISABLE_ENV, "1")
    assert not landlock.status().available
    assert landlock.DISABLE_ENV in landlock.status().reason
    seen = run_child(tmp_path)
    assert seen["abi"] == "0" and seen["outside"] == "allowed"


@needs_landlock
def test_doctor_names_the_active_guards(cli: CliRunner, workspace: Workspace) -> None:
    result = run_cli(cli, "doctor")
    assert f"Landlock (ABI {landlock.status().abi}) confines" in " ".join(result.output.split())


def test_doctor_says_when_landlock_is_missing(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(landlock.DISABLE_ENV, "1")
    result = run_cli(cli, "doctor")
    assert result.exit_code == 0, result.output
    assert "Landlock is not available" in " ".join(result.output.split())
    assert "the import check and the audit hook only" in " ".join(result.output.split())


STARTERS = {"sandbox.py", "runner.py"}
WARM_SERVER = "grading/warm.py"
"""The warm grading process, itself started by the sandbox, forks each of watch's runs."""
PROCESS_MODULES = {"subprocess", "multiprocessing", "pty", "concurrent.futures.process"}
PROCESS_CALLS = ("fork", "forkpty", "exec", "spawn", "posix_spawn", "system", "popen")


def process_starts(tree: ast.AST) -> list[str]:
    """Every import of a process module and every os.fork/exec*/spawn*/system/popen use."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] in PROCESS_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in PROCESS_MODULES or node.module in PROCESS_MODULES:
                found.append(node.module)
            if node.module == "os":
                found += [f"os.{a.name}" for a in node.names if a.name.startswith(PROCESS_CALLS)]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
            found += [f"os.{node.attr}"] if node.attr.startswith(PROCESS_CALLS) else []
    return found


def test_only_the_sandbox_and_the_runner_can_start_a_process() -> None:
    offenders = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIR)
        if relative.parts[0] == "suites" or str(relative) in STARTERS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if str(relative) == WARM_SERVER:
            tree = ast.Module(body=[n for n in tree.body if getattr(n, "name", "") != "_fork_run"], type_ignores=[])
        found = process_starts(tree)
        if found:
            offenders[str(relative)] = found
    assert offenders == {}


def test_the_warm_process_forks_only_in_one_function_and_only_the_sandbox_starts_it() -> None:
    tree = ast.parse((PACKAGE_DIR / WARM_SERVER).read_text(encoding="utf-8"))
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    forkers = {function.name for function in functions if process_starts(function)}
    assert forkers == {"_fork_run"}
    starters = {
        str(path.relative_to(PACKAGE_DIR))
        for path in PACKAGE_DIR.rglob("*.py")
        if "WARM_ENTRY" in path.read_text(encoding="utf-8") or "warm import ENTRY" in path.read_text(encoding="utf-8")
    }
    assert starters == {"sandbox.py"}


def test_the_scan_finds_each_way_to_start_a_process() -> None:
    source = (
        "import subprocess\nimport multiprocessing.pool\nfrom pty import spawn\nimport os\n"
        "os.fork()\nos.execv('x', [])\nos.spawnl(0, 'x')\nos.system('x')\nos.posix_spawn('x', [], {})\n"
        "from os import popen\n"
    )
    assert len(process_starts(ast.parse(source))) == 9
    assert process_starts(ast.parse("import os\nos.getpid()\nos.environ.get('x')\n")) == []


def test_in_the_runner_only_run_program_uses_subprocess_and_never_on_python() -> None:
    tree = ast.parse((PACKAGE_DIR / "runner.py").read_text(encoding="utf-8"))
    users = {
        function.name
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef)
        and any(isinstance(n, ast.Name) and n.id == "subprocess" for n in ast.walk(function))
    }
    assert users == {"run_program"}
    assert "sys.executable" not in ast.unparse(tree)


@pytest.fixture
def learner_workspace(real_course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    workspace = init_workspace(real_course, tmp_path / "learner")
    for name in ("engine.py", "nn.py", "optim.py", "train.py"):
        shutil.copyfile(real_course.solutions / name, workspace.exercises / name)
    monkeypatch.chdir(workspace.root)
    return workspace.root


def test_every_child_of_check_graph_bench_and_train_is_started_by_the_sandbox(
    learner_workspace: Path, monkeypatch: pytest.MonkeyPatch, cli: CliRunner
) -> None:
    started: list[tuple[list[str], bool]] = []
    real_popen = subprocess.Popen

    def recording_popen(command: Any, *args: Any, **kwargs: Any) -> Any:
        callers = {frame.filename for frame in traceback.extract_stack()}
        started.append((list(command), str(Path(sandbox.__file__)) in callers))
        return real_popen(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    for args in (
        ["check", "step1"],
        ["graph", "x*y + x", "--at", "x=2,y=3"],
        ["bench", "--up-to", "100", "--limit", "5"],
        ["train", "xor", "--steps", "3"],
    ):
        result = run_cli(cli, *args)
        assert result.exit_code in (0, 1), (args, result.output)
    pythons = [(command, by_sandbox) for command, by_sandbox in started if command[0] == sys.executable]
    assert len(pythons) >= 4
    assert all(by_sandbox for _, by_sandbox in pythons), pythons
    entries = {" ".join(command[1:3]) for command, _ in pythons}
    assert "-m pytest" in entries and "-c from tinygrad_learn.grading.worker import main; main()" in entries


def test_the_sandbox_names_neither_workspace_nor_course_nor_home(
    learner_workspace: Path, real_course: Course, monkeypatch: pytest.MonkeyPatch, cli: CliRunner
) -> None:
    home = Path.home()
    monkeypatch.setenv("VIRTUAL_ENV", str(learner_workspace / ".venv"))
    monkeypatch.setenv("OLDPWD", str(learner_workspace))
    monkeypatch.setenv("MY_NOTES", str(learner_workspace / "notes"))
    monkeypatch.setenv("PATH", f"{learner_workspace / 'bin'}:{real_course.root / 'bin'}:/usr/bin:/bin")
    hidden = [str(learner_workspace), str(real_course.root), str(home)]
    # The spy needs os and pathlib, which the course does not allow learner code.
    course_policy = manifest._allowed_imports
    monkeypatch.setattr(
        manifest, "_allowed_imports", lambda node: ImportPolicy.of([*course_policy(node).modules, "os", "pathlib"])
    )
    train = (learner_workspace / "exercises" / "train.py").read_text(encoding="utf-8")
    spy = (
        "import os as _os\nfrom pathlib import Path as _Path\n"
        "_seen = [*_os.environ.values(), str(_Path.cwd()), str(_Path.home()), str(_Path(__file__).resolve())]\n"
        f"_leaks = [text for text in _seen if any(root in text for root in {hidden!r})]\n"
        "assert not _leaks, _leaks\n"
    )
    (learner_workspace / "exercises" / "train.py").write_text(spy + train, encoding="utf-8")
    result = run_cli(cli, "train", "xor", "--steps", "3")
    assert result.exit_code == 0, result.output
    assert "AssertionError" not in result.output
