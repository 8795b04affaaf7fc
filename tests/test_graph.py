"""`graph`: the expression whitelist, the learner's graph drawn in the terminal and as DOT."""

from __future__ import annotations

import math
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tinygrad_learn.errors import TinygradLearnError
from tinygrad_learn.expression import bind, parse, parse_values, variables
from tinygrad_learn.graphing import Graph, Node, to_dot, tree
from tinygrad_learn.paths import Workspace

from .conftest import run_cli
from .engine_course import REFERENCE_ENGINE, engine_workspace


@pytest.fixture
def engine(tmp_path, monkeypatch) -> Workspace:  # type: ignore[no-untyped-def]
    return engine_workspace(tmp_path, monkeypatch)


@pytest.fixture
def solved_engine(engine: Workspace) -> Workspace:
    shutil.copy(REFERENCE_ENGINE, engine.exercises / "engine.py")
    return engine


def refused(text: str) -> TinygradLearnError:
    with pytest.raises(TinygradLearnError) as caught:
        parse(text)
    return caught.value


# -- the whitelist ------------------------------------------------------------------------------


def test_allowed_expressions_become_plain_trees() -> None:
    assert parse("tanh(x*y)*(x+y)") == [
        "mul",
        ["call", "tanh", ["mul", ["var", "x"], ["var", "y"]]],
        ["add", ["var", "x"], ["var", "y"]],
    ]
    assert parse("-x ** 2 / 3 - exp(y)") == [
        "sub",
        ["div", ["neg", ["pow", ["var", "x"], ["num", 2.0]]], ["num", 3.0]],
        ["call", "exp", ["var", "y"]],
    ]
    assert parse("leaky_relu(x, 0.1) + relu(x) + sigmoid(-x) + x**-1") is not None
    assert variables(parse("x*y + x + z")) == ("x", "y", "z")


@pytest.mark.parametrize(
    ("text", "key", "named"),
    [
        ("x.data", "graph.not_allowed_attribute", "x.data"),
        ("open('f')", "graph.not_allowed_call", "open"),
        ("__import__('os').system('ls')", "graph.not_allowed_attribute", "__import__('os').system"),
        ("print(x)", "graph.not_allowed_call", "print"),
        ("x[0]", "graph.not_allowed_subscript", "x[0]"),
        ("(lambda: x)", "graph.not_allowed_lambda", "lambda: x"),
        ("x + 'a'", "graph.not_allowed_string", "'a'"),
        ("x // y", "graph.not_allowed_operator", "x // y"),
        ("x ** y", "graph.not_allowed_exponent", "y"),
        ("x < y", "graph.not_allowed_other", "x < y"),
        ("tanh + x", "graph.not_allowed_function_as_name", "tanh"),
        ("True * x", "graph.not_allowed_other", "True"),
        ("tanh(x, y)", "graph.bad_arguments", "tanh(x, y)"),
        ("exp(x=1)", "graph.bad_arguments", "exp(x=1)"),
    ],
)
def test_everything_else_is_refused_by_name(text: str, key: str, named: str) -> None:
    error = refused(text)
    assert error.key == key
    assert named in error.params.get("code", "")


def test_syntax_errors_and_empty_expressions() -> None:
    assert refused("x +").key == "graph.syntax"
    assert refused("  ").key == "graph.empty"
    assert refused("x; import os").key == "graph.syntax"


def test_values_for_every_variable_and_no_other() -> None:
    assert parse_values("x=1, y = -2.5") == {"x": 1.0, "y": -2.5}
    expr = parse("x*y")
    with pytest.raises(TinygradLearnError) as missing:
        bind(expr, {"x": 1.0})
    assert missing.value.key == "graph.missing_values" and missing.value.params["names"] == "y"
    with pytest.raises(TinygradLearnError) as extra:
        bind(expr, {"x": 1.0, "y": 2.0, "z": 3.0})
    assert extra.value.key == "graph.extra_values" and extra.value.params["names"] == "z"
    for bad, key in (("x", "graph.bad_at"), ("x=one", "graph.bad_number"), ("x=1,x=2", "graph.duplicate")):
        with pytest.raises(TinygradLearnError) as error:
            parse_values(bad)
        assert error.value.key == key


# -- drawing ------------------------------------------------------------------------------------


def test_shared_nodes_are_drawn_once_then_referred_to() -> None:
    x = Node(2, "", 1.0, 2.0, "x", ())
    square = Node(1, "*", 1.0, 1.0, "", (2, 2))
    out = Node(0, "+", 2.0, 1.0, "", (1, 1))
    item = tree(Graph(0, {0: out, 1: square, 2: x}))
    first, second = item.children
    assert not first.repeat and [child.node.label for child in first.children] == ["x", "x"]
    assert second.repeat and second.children == ()


def test_dot_escapes_record_characters() -> None:
    dot = to_dot(Graph(0, {0: Node(0, "", 1.0, 0.0, "a|b", ())}), title='say "hi"')
    assert "a\\|b" in dot and 'label="say \\"hi\\""' in dot


# -- the command --------------------------------------------------------------------------------


def test_graph_of_the_learners_engine(cli: CliRunner, solved_engine: Workspace) -> None:
    result = run_cli(cli, "graph", "tanh(x*y)*(x+y)", "--at", "x=1,y=2")
    assert result.exit_code == 0, result.output
    t = math.tanh(2.0)
    dx = (1 - t * t) * 2.0 * 3.0 + t
    dy = (1 - t * t) * 1.0 * 3.0 + t
    assert f"d/dx = {dx:.4g}" in result.output and f"d/dy = {dy:.4g}" in result.output
    assert f"Result: {t * 3:.4g}" in result.output
    assert "tanh  data=" in result.output and "x  data=1  grad=" in result.output
    assert "DOT file: graph.dot" in result.output
    dot = (solved_engine.root / "graph.dot").read_text(encoding="utf-8")
    assert dot.startswith("digraph autograd {") and 'label="tanh"' in dot and "{ x | data 1 |" in dot


def test_output_path_and_no_graphviz(
    cli: CliRunner, solved_engine: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr("tinygrad_learn.pictures.graph_image.matplotlib_installed", lambda: False)
    result = run_cli(cli, "graph", "x*x + 1", "--at", "x=3", "--format", "png", "-o", "out/g.dot")
    assert result.exit_code == 0, result.output
    assert "DOT file: out/g.dot" in result.output
    assert "No PNG was drawn" in result.output and "--format svg works without either" in result.output
    assert (solved_engine.root / "out" / "g.dot").is_file()
    assert not (solved_engine.root / "out" / "g.png").exists()


@pytest.mark.skipif(os.name != "posix", reason="a fake `dot` script needs a POSIX shell")
def test_image_when_graphviz_is_there(
    cli: CliRunner, solved_engine: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    fake = tools / "dot"
    # Writes its -o file, as Graphviz does.
    script = "import sys\nargs = sys.argv\nopen(args[args.index('-o') + 1], 'w').write('<svg/>')\n"
    fake.write_text(f"#!{sys.executable}\n{script}")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tools))
    result = run_cli(cli, "graph", "relu(x) - y", "--at", "x=1,y=2", "--format", "svg")
    assert result.exit_code == 0, result.output
    assert "Image: graph.svg" in result.output
    assert (solved_engine.root / "graph.svg").read_text() == "<svg/>"


def test_refused_expressions_exit_2_naming_the_problem(cli: CliRunner, solved_engine: Workspace) -> None:
    result = run_cli(cli, "graph", "x.data * 2", "--at", "x=1")
    assert result.exit_code == 2
    assert "`x.data`: attribute access is not allowed" in result.output
    called = run_cli(cli, "graph", "open('/etc/passwd')")
    assert called.exit_code == 2 and "`open` is not a function you can use here" in called.output
    assert not (solved_engine.root / "graph.dot").exists()


def test_missing_and_extra_values_exit_2(cli: CliRunner, solved_engine: Workspace) -> None:
    missing = run_cli(cli, "graph", "x*y", "--at", "x=1")
    assert missing.exit_code == 2 and "No value for y" in missing.output and "--at x=1,y=1" in missing.output
    extra = run_cli(cli, "graph", "x*2", "--at", "x=1,z=2")
    assert extra.exit_code == 2 and "z is not in the expression" in extra.output


def test_stub_engine_says_what_to_write(cli: CliRunner, engine: Workspace) -> None:
    result = run_cli(cli, "graph", "x + y", "--at", "x=1,y=2")
    assert result.exit_code == 1
    assert "cannot build this graph yet" in result.output
    assert "Not written yet: step2: write Value.__init__" in result.output
    assert "at exercises/engine.py:" in result.output


def test_learner_exceptions_are_reported_not_raised(cli: CliRunner, solved_engine: Workspace) -> None:
    engine_file = solved_engine.exercises / "engine.py"
    broken = engine_file.read_text().replace("    def tanh(self):\n", "    def tanh(self):\n        1 / 0\n")
    engine_file.write_text(broken)
    result = run_cli(cli, "graph", "tanh(x)", "--at", "x=1")
    assert result.exit_code == 1
    assert "ZeroDivisionError" in result.output and "Traceback" not in result.output


def test_korean(cli: CliRunner, solved_engine: Workspace) -> None:
    result = run_cli(cli, "--lang", "ko", "graph", "x*y + x", "--at", "x=2,y=3")
    assert result.exit_code == 0, result.output
    assert "결과: 8" in result.output and "DOT 파일" in result.output
    refused_ko = run_cli(cli, "--lang", "ko", "graph", "x[0]", "--at", "x=1")
    assert refused_ko.exit_code == 2 and "인덱싱" in refused_ko.output


def test_missing_engine_file_is_a_setup_error(cli: CliRunner, engine: Workspace) -> None:
    (engine.exercises / "engine.py").unlink()
    result = run_cli(cli, "graph", "x*2", "--at", "x=1")
    assert result.exit_code == 2
    assert "exercises/engine.py is missing" in result.output
