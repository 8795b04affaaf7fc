"""Notebooks: `tinygrad-learn notebook`, `%%exercise`, and the magics run in a real Jupyter kernel.

The kernel tests execute a generated notebook top to bottom with nbclient and ipykernel, exactly
as Jupyter's "run all" does, and read the verdicts from the HTML the magics displayed.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tinygrad_learn.errors import TinygradLearnError
from tinygrad_learn.manifest import Course
from tinygrad_learn.notebook.exercise import write_exercise
from tinygrad_learn.paths import Workspace
from tinygrad_learn.workspace import init_workspace

from .conftest import run_cli

ENGINE_STEPS_WRITTEN = ("Value.__init__", "Value.__repr__", "Value.__add__", "Value.__radd__")


@pytest.fixture
def learner(real_course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = init_workspace(real_course, tmp_path / "learner")
    monkeypatch.chdir(workspace.root)
    return workspace


@pytest.fixture
def solved(real_course: Course, learner: Workspace) -> Workspace:
    shutil.copytree(real_course.solutions, learner.exercises, dirs_exist_ok=True)
    return learner


def read_notebook(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


# -- the notebook command -------------------------------------------------------------------------


def test_notebook_holds_the_lesson_the_magics_and_a_cell_per_task(cli: CliRunner, learner: Workspace) -> None:
    result = run_cli(cli, "notebook", "step2")
    assert result.exit_code == 0, result.output
    path = learner.root / "notebooks" / "step2.ipynb"
    assert "Notebook:" in result.output and str(path) in result.output.replace("\n", "")
    notebook = read_notebook(path)
    assert notebook["nbformat"] == 4
    sources = [cell["source"] for cell in notebook["cells"]]
    assert sources[1] == "%load_ext tinygrad_learn"
    assert (learner.root / "notebooks").is_dir()
    lesson = (Path(__file__).parents[1] / "lessons" / "step2.en.md").read_text(encoding="utf-8")
    assert lesson.strip() in sources
    exercise_cells = [s for s in sources if s.startswith("%%exercise")]
    assert [s.splitlines()[0] for s in exercise_cells] == [f"%%exercise {task} step2" for task in ENGINE_STEPS_WRITTEN]
    # Each holds the learner's definition as the file has it now: the stub.
    assert 'raise NotImplementedError("step2: write Value.__add__")' in exercise_cells[2]
    assert sources[-1] == "%check step2"


def test_notebook_in_korean(cli: CliRunner, learner: Workspace) -> None:
    result = run_cli(cli, "--lang", "ko", "notebook")
    assert result.exit_code == 0, result.output
    notebook = read_notebook(learner.root / "notebooks" / "step1.ipynb")
    sources = [cell["source"] for cell in notebook["cells"]]
    assert sources[1] == "%load_ext tinygrad_learn\n%tinygrad_learn lang ko"
    assert "맨 위 셀부터" in sources[0]


def test_regenerating_keeps_the_learners_notebook_as_a_backup(cli: CliRunner, learner: Workspace) -> None:
    assert run_cli(cli, "notebook", "step2").exit_code == 0
    path = learner.root / "notebooks" / "step2.ipynb"
    again = run_cli(cli, "notebook", "step2")
    assert "kept in" not in again.output  # nothing changed, nothing to keep
    mine = path.read_text(encoding="utf-8").replace("NotImplementedError", "MyOwnWork")
    path.write_text(mine, encoding="utf-8")
    result = run_cli(cli, "notebook", "step2")
    assert result.exit_code == 0, result.output
    (backup,) = (learner.backups_dir / "notebooks").iterdir()
    assert backup.read_text(encoding="utf-8") == mine
    assert "MyOwnWork" not in path.read_text(encoding="utf-8")
    assert "kept in" in result.output


def test_every_checkpoint_gets_a_valid_notebook(real_course: Course, learner: Workspace) -> None:
    import nbformat

    from tinygrad_learn.notebook.generate import write_notebook

    for checkpoint in real_course.checkpoints:
        for language in ("en", "ko"):
            written = write_notebook(real_course, learner, checkpoint, language)
            notebook = nbformat.read(written.path, as_version=4)
            nbformat.validate(notebook)
            sources = [cell.source for cell in notebook.cells]
            assert sources[-1] == f"%check {checkpoint.id}"
            # Every file of the checkpoint can be written from the notebook, by definition or whole.
            targets = [s.splitlines()[0].split()[1] for s in sources if s.startswith("%%exercise")]
            assert targets, checkpoint.id


# -- %%exercise: the cell written into the file ---------------------------------------------------


def test_a_method_is_replaced_by_its_lines_keeping_the_rest(learner: Workspace) -> None:
    engine = learner.exercises / "engine.py"
    before = engine.read_text(encoding="utf-8")
    cell = "def __radd__(self, other):  # other + self\n    return self + other\n"
    written = write_exercise(learner, "Value.__radd__", cell, ("engine.py",))
    after = engine.read_text(encoding="utf-8")
    assert "    def __radd__(self, other):  # other + self\n        return self + other\n" in after
    assert written.name == "Value.__radd__" and written.backup is not None
    assert written.backup.read_text(encoding="utf-8") == before
    # Every other line is untouched: only the old __radd__ lines are gone.
    removed = [line for line in before.splitlines() if line not in after.splitlines()]
    assert removed and all(
        "radd" in line or "step2: write Value.__radd__" in line or line.strip().startswith("#") for line in removed
    )
    assert after.count("def __add__") == 1 and "class SimpleValue" in after


def test_a_cell_that_is_not_python_or_not_the_named_definition_writes_nothing(learner: Workspace) -> None:
    engine = learner.exercises / "engine.py"
    before = engine.read_text(encoding="utf-8")
    attempts = [
        ("Value.__add__", "def __add__(self, other)\n    return 1\n", "notebook.exercise_syntax"),
        ("Value.__add__", "def __mul__(self, other):\n    return 1\n", "notebook.exercise_one_definition"),
        ("Value.__add__", "import os\n", "notebook.exercise_one_definition"),
        ("Value.__nothing__", "def __nothing__(self):\n    pass\n", "notebook.exercise_not_found"),
        ("../outside.py", "x = 1\n", "notebook.exercise_no_file"),
        ("engine.py", "class Value(:\n", "notebook.exercise_syntax"),
    ]
    for target, cell, key in attempts:
        with pytest.raises(TinygradLearnError) as refused:
            write_exercise(learner, target, cell, ("engine.py",))
        assert refused.value.key == key, target
    assert engine.read_text(encoding="utf-8") == before
    assert not (learner.root / "outside.py").exists()


def test_micrograd_style_backward_with_a_recursive_closure_is_written_as_is(learner: Workspace) -> None:
    cell = """
def backward(self):
    topo = []
    visited = set()
    def build_topo(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build_topo(child)
            topo.append(v)
    build_topo(self)
    self.grad = 1
    for v in reversed(topo):
        v._backward()
"""
    write_exercise(learner, "Value.backward", cell, ("engine.py",))
    after = (learner.exercises / "engine.py").read_text(encoding="utf-8")
    assert "        def build_topo(v):\n            if v not in visited:" in after
    assert 'raise NotImplementedError("step3: write Value.backward")' not in after


def test_a_link_out_of_exercises_is_refused(learner: Workspace, tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("kept = True\n", encoding="utf-8")
    (learner.exercises / "linked.py").symlink_to(outside)
    with pytest.raises(TinygradLearnError) as refused:
        write_exercise(learner, "linked.py", "kept = False\n", ())
    assert refused.value.key == "notebook.exercise_no_file"
    assert outside.read_text(encoding="utf-8") == "kept = True\n"


def test_a_whole_file(learner: Workspace) -> None:
    write_exercise(learner, "engine.py", "class Value:\n    pass", ())
    assert (learner.exercises / "engine.py").read_text(encoding="utf-8") == "class Value:\n    pass\n"


# -- in a real kernel -----------------------------------------------------------------------------


KERNEL = "tinygrad-learn-tests"


@pytest.fixture(autouse=True)
def kernel_of_this_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel spec that runs this very interpreter, so a `python3` kernel installed elsewhere on the
    machine (without tinygrad-learn) can never be picked; Jupyter's files stay in tmp_path."""
    data = tmp_path / "jupyter-data"
    spec = data / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"}))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(data))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter-runtime"))


def execute(path: Path, extra_cells: tuple[tuple[int, str], ...] = ()) -> list[dict[str, Any]]:
    """Run the notebook top to bottom in a fresh Python kernel from its folder; the executed cells."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    for position, source in extra_cells:
        notebook.cells.insert(position, nbformat.v4.new_code_cell(source))
    # A kernel starts in seconds; a machine busy with other work once needed more than nbclient's 60.
    NotebookClient(
        notebook,
        timeout=240,
        startup_timeout=240,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    return [dict(cell) for cell in notebook.cells]


def html_text(cell: dict[str, Any]) -> str:
    """The text of every HTML output of a cell, tags removed, lines kept."""
    parts = [output["data"]["text/html"] for output in cell.get("outputs", []) if "text/html" in output.get("data", {})]
    return html.unescape(re.sub(r"<[^>]+>", "", "\n".join(parts)))


def check_cell(cells: list[dict[str, Any]]) -> dict[str, Any]:
    return next(cell for cell in cells if cell["source"] == "%check step2")


# A Value redefined in the kernel: correct in the stubs' notebook, broken in the solutions'. Neither
# may change the verdict, which comes from the files. The cell also plants it where an import would look.
PLANTED = """
import sys, types
class Value:
    def __init__(self, data, _children=(), _op=''):
        self.data, self.grad, self._prev, self._op = data, 0.0, set(_children), _op
        self._backward = lambda: None
    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), '+')
        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out
    def __radd__(self, other):  # other + self
        return self + other
    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"
sys.modules['exercises.engine'] = types.SimpleNamespace(Value=Value)
"""
BROKEN = "class Value:\n    def __init__(self, *args):\n        raise RuntimeError('patched in the kernel')\n"


@pytest.mark.long
def test_the_notebook_on_the_solutions_shows_step2_passed(cli: CliRunner, solved: Workspace) -> None:
    assert run_cli(cli, "notebook", "step2").exit_code == 0
    graph = '%graph "tanh(x*y)*(x+y)" --at x=1,y=2'
    cells = execute(solved.root / "notebooks" / "step2.ipynb", extra_cells=((2, BROKEN), (3, graph)))
    drawn = next(cell for cell in cells if cell["source"] == graph)
    svg = next(o["data"]["image/svg+xml"] for o in drawn["outputs"] if "image/svg+xml" in o.get("data", {}))
    assert svg.count('class="node value"') == 6 and "grad 1.388" in svg
    assert "Result: 2.892" in html_text(drawn)
    verdict = html_text(check_cell(cells))
    assert "✓ step2 still passes" in verdict or "✓ step2 passed" in verdict
    exercise = [cell for cell in cells if cell["source"].startswith("%%exercise")]
    assert len(exercise) == 4 and all("is already like this" in html_text(cell) for cell in exercise)
    assert all(output.get("output_type") != "error" for cell in exercise for output in cell["outputs"])
    # The verdict was stored, as `check` stores it.
    progress = run_cli(cli, "progress", "--json")
    assert next(c for c in json.loads(progress.output)["checkpoints"] if c["id"] == "step2")["status"] == "passed"


@pytest.mark.long
def test_the_notebook_on_the_stubs_shows_the_failure_of_check_step2(cli: CliRunner, learner: Workspace) -> None:
    assert run_cli(cli, "notebook", "step2").exit_code == 0
    cells = execute(learner.root / "notebooks" / "step2.ipynb", extra_cells=((2, PLANTED),))
    verdict = html_text(check_cell(cells))
    terminal = run_cli(cli, "check", "step2")
    assert terminal.exit_code == 1
    # The failure message lines of the terminal's verdict, word for word (the seed differs per run).
    expected = [line.strip() for line in terminal.output.splitlines() if line.strip() and "--seed" not in line]
    failure_lines = [
        line for line in expected if "Not written yet" in line or line.startswith(("✗ step2", "at exercises"))
    ]
    assert len(failure_lines) == 3
    shown = [line.strip() for line in verdict.splitlines()]
    for line in failure_lines:
        assert line in shown, (line, verdict)
    # The "try it" cell imports the stub and fails there, in the kernel only: that is its job.
    try_cell = next(cell for cell in cells if "load_exercise" in cell["source"])
    assert any(output.get("ename") == "NotImplementedError" for output in try_cell["outputs"])


def test_magics_show_messages_not_tracebacks(learner: Workspace, tmp_path: Path) -> None:
    import nbformat

    path = tmp_path / "magics.ipynb"
    cells = [
        "%load_ext tinygrad_learn",
        f"%tinygrad_learn workspace {learner.root}",
        "%check nosuchcheckpoint",
        "%hint step1 --level 9",
        "%graph 'x.__class__' --at x=1",
        "%check step1 --seed notanumber",
        "%%exercise Value.__add__ step2\ndef __add__(self, other)\n",
        "%progress",
        "%show step1",
        "%hint step1",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    nbformat.write(notebook, path)
    ran = execute(path)
    assert all(output.get("output_type") != "error" for cell in ran for output in cell["outputs"])
    texts = [html_text(cell) for cell in ran]
    assert "Workspace:" in texts[1]
    assert "nosuchcheckpoint" in texts[2]
    assert "level" in texts[3].lower()
    assert "attribute access is not allowed" in texts[4]
    assert "Usage: %check" in texts[5]
    assert "Nothing was saved" in texts[6]
    assert "Medals" in texts[7] and "step1" in texts[7]
    assert "Hint 1 of 3 for step1" in texts[9]
    assert "step1" in texts[8] and "tinygrad-learn check step1" in texts[8]


def test_checks_in_one_kernel_fork_from_one_warm_process(
    real_course: Course,
    solved: Workspace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    warm_processes: list[Any],
) -> None:
    """As in `watch`: the kernel keeps a warm grading process for its workspace, started at the
    first check, replaced for another workspace, and stopped when the kernel exits."""
    from tinygrad_learn.notebook import commands

    shown: list[str] = []
    monkeypatch.setattr(commands, "display", lambda shape: shown.append(html.unescape(str(shape.data))))
    session = commands.NotebookSession()
    session.settings(f"workspace {solved.root}")
    session.check("step1")
    session.check("step1 --seed 3")
    other = init_workspace(real_course, tmp_path / "other")
    session.settings(f"workspace {other.root}")
    session.check("step1")
    session.stop_warm_grader()
    verdicts = [text for text in shown if "step1" in text]
    assert "✓ step1" in verdicts[0] and "✓ step1" in verdicts[1] and "✗ step1" in verdicts[2], verdicts
    first, second = warm_processes
    assert first is not None and second is not None
    assert (first.forked, second.forked) == (2, 1)
    assert not first.alive and not second.alive
