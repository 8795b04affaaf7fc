"""Pictures without system packages: the layered layout, the SVG graph, and the charts of train and bench.

Pictures are checked by reading the written SVG back with an XML parser (nodes, edges, the texts
they carry), never by comparing bytes.
"""

from __future__ import annotations

import math
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tinygrad_learn.manifest import Course
from tinygrad_learn.paths import Workspace
from tinygrad_learn.pictures.layout import Box, layout
from tinygrad_learn.training import read_boundary
from tinygrad_learn.workspace import init_workspace

from .conftest import run_cli
from .engine_course import REFERENCE_ENGINE, engine_workspace

SVG = "{http://www.w3.org/2000/svg}"


def groups(root: ET.Element, kind: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if kind in (g.get("class") or "").split()]


def texts(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text")]


# -- the layout ---------------------------------------------------------------------------------


def crossings(placed: dict, edges: list[tuple[str, str]]) -> int:  # type: ignore[type-arg]
    count = 0
    for i, (a, b) in enumerate(edges):
        for c, d in edges[i + 1 :]:
            if len({a, b, c, d}) < 4 or placed[a].x != placed[c].x or placed[b].x != placed[d].x:
                continue
            count += (placed[a].y - placed[c].y) * (placed[b].y - placed[d].y) < 0
    return count


def test_every_edge_points_right_and_nodes_of_a_layer_do_not_overlap() -> None:
    boxes = [Box(name, 40, 20) for name in "abcdef"]
    edges = [("a", "c"), ("b", "c"), ("c", "d"), ("a", "d"), ("d", "e"), ("b", "f"), ("f", "e")]
    placed = layout(boxes, edges)
    for source, target in edges:
        assert placed.nodes[source].x < placed.nodes[target].x
    by_column: dict[float, list] = {}  # type: ignore[type-arg]
    for node in placed.nodes.values():
        by_column.setdefault(node.x, []).append(node)
    for column in by_column.values():
        column.sort(key=lambda node: node.y)
        for upper, lower in zip(column, column[1:], strict=False):
            assert lower.y - upper.y >= (upper.height + lower.height) / 2
    # The long edge a -> d bends through a point in the layer it crosses.
    long_edge = next(route for route in placed.routes if (route.source, route.target) == ("a", "d"))
    assert len(long_edge.points) == 3


def test_barycenter_sweeps_undo_a_crossing_the_input_order_makes() -> None:
    # Given in this order, a1-b2 and a2-b1 cross; sorting by barycenters removes the crossing.
    boxes = [Box(name, 30, 20) for name in ("a1", "a2", "b1", "b2")]
    edges = [("a1", "b2"), ("a2", "b1")]
    assert crossings(layout(boxes, edges).nodes, edges) == 0


def test_a_cycle_is_refused() -> None:
    with pytest.raises(ValueError):
        layout([Box("a", 1, 1), Box("b", 1, 1)], [("a", "b"), ("b", "a")])


# -- graph --format svg without Graphviz --------------------------------------------------------


@pytest.fixture
def solved_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = engine_workspace(tmp_path, monkeypatch)
    shutil.copy(REFERENCE_ENGINE, workspace.exercises / "engine.py")
    return workspace


def test_graph_svg_without_dot_carries_every_node_with_data_and_grad(
    cli: CliRunner, solved_engine: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs"))
    assert shutil.which("dot") is None
    result = run_cli(cli, "graph", "tanh(x*y)*(x+y)", "--at", "x=1,y=2", "--format", "svg")
    assert result.exit_code == 0, result.output
    assert "Image: graph.svg" in result.output
    root = ET.parse(solved_engine.root / "graph.svg").getroot()
    values = groups(root, "value")
    ops = groups(root, "op")
    # x, y, x*y, tanh(x*y), x+y and the product: six values, made by four operations.
    assert len(values) == 6
    assert sorted(text for op in ops for text in texts(op)) == ["*", "*", "+", "tanh"]
    t = math.tanh(2.0)
    expected = {  # data and grad of every value, worked out by hand
        "x": (1.0, (1 - t * t) * 2 * 3 + t),
        "y": (2.0, (1 - t * t) * 1 * 3 + t),
        "x*y": (2.0, 3 * (1 - t * t)),
        "tanh": (t, 3.0),
        "x+y": (3.0, t),
        "out": (3 * t, 1.0),
    }
    shown = sorted(tuple(line for line in texts(value) if line.startswith(("data", "grad"))) for value in values)
    wanted = sorted((f"data {data:.4g}", f"grad {grad:.4g}") for data, grad in expected.values())
    assert shown == wanted
    labels = {texts(value)[0] for value in values if len(texts(value)) == 3}
    assert labels == {"x", "y"}
    # Each operation has one edge out (to its value) and one in per distinct input: 4 + 2 + 1 + 2 + 2.
    edges = groups(root, "edge")
    assert len(edges) == 11
    ids = {g.get("id") for g in values + ops}
    assert all(edge.get("data-from") in ids and edge.get("data-to") in ids for edge in edges)


def test_graph_png_without_dot_uses_matplotlib(
    cli: CliRunner, solved_engine: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs"))
    result = run_cli(cli, "graph", "x*y + x", "--at", "x=1,y=2", "--format", "png")
    assert result.exit_code == 0, result.output
    assert (solved_engine.root / "graph.png").read_bytes().startswith(b"\x89PNG")


# -- train --plot and bench --plot --------------------------------------------------------------


@pytest.fixture
def solved_course(real_course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    workspace = init_workspace(real_course, tmp_path / "learner")
    shutil.copytree(real_course.solutions, workspace.exercises, dirs_exist_ok=True)
    monkeypatch.chdir(workspace.root)
    return workspace.root


def test_train_xor_plot_svg_draws_the_loss_and_the_decision_boundary(cli: CliRunner, solved_course: Path) -> None:
    result = run_cli(cli, "train", "xor", "--steps", "120", "--plot", "curve.svg")
    assert result.exit_code == 0, result.output
    assert "Chart: curve.svg" in result.output
    root = ET.parse(solved_course / "curve.svg").getroot()
    (loss,) = groups(root, "series")
    assert loss.get("data-name") == "loss" and loss.get("data-points") == "120"
    (boundary,) = groups(root, "boundary")
    cells = list(boundary.iter(f"{SVG}rect"))
    assert len(cells) == 21 * 21
    points = [c for c in root.iter(f"{SVG}circle") if c.get("class") == "point"]
    assert len(points) == 4
    # Cells run row by row over -0.5..1.5 in steps of 0.1: (0, 1) is cell 15 * 21 + 5, (1, 1) is 15 * 21 + 15.
    # A network that solved XOR says +1 (red) at (0, 1) and -1 (blue) at (1, 1).
    assert cells[15 * 21 + 5].get("fill", "").startswith("rgb(255,")
    assert cells[15 * 21 + 15].get("fill", "").endswith(",255)")


def test_framework_plot_has_only_the_loss(cli: CliRunner, solved_course: Path) -> None:
    result = run_cli(cli, "--lang", "ko", "train", "framework", "--steps", "2", "--plot", "out/f.svg")
    assert result.exit_code == 0, result.output
    root = ET.parse(solved_course / "out" / "f.svg").getroot()
    assert len(groups(root, "series")) == 1 and not groups(root, "boundary")
    assert "학습 손실 (framework)" in "".join(texts(root))


def test_png_without_matplotlib_stops_before_training(
    cli: CliRunner, solved_course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tinygrad_learn.pictures.plots.matplotlib_installed", lambda: False)
    result = run_cli(cli, "train", "xor", "--plot", "curve.png")
    assert result.exit_code == 2
    assert 'pip install "tinygrad-learn[plots]"' in result.output and "--plot chart.svg" in result.output
    assert "Accuracy" not in result.output and not (solved_course / "curve.png").exists()
    assert run_cli(cli, "train", "xor", "--plot", "curve.gif").exit_code == 2


def test_train_plot_png_with_matplotlib(cli: CliRunner, solved_course: Path) -> None:
    pytest.importorskip("matplotlib")
    result = run_cli(cli, "train", "xor", "--steps", "30", "--plot", "curve.png")
    assert result.exit_code == 0, result.output
    assert (solved_course / "curve.png").read_bytes().startswith(b"\x89PNG")


def test_bench_plot_shows_both_engines_with_their_exponents(cli: CliRunner, solved_course: Path) -> None:
    result = run_cli(cli, "bench", "--up-to", "1000", "--plot", "bench.svg")
    assert result.exit_code == 0, result.output
    root = ET.parse(solved_course / "bench.svg").getroot()
    series = groups(root, "series")
    # Two panels (linear and tree graphs), each with the learner's engine and the course's.
    assert len(series) == 4
    names = [s.get("data-name") or "" for s in series]
    assert sum(name.startswith("your engine: n^") for name in names) == 2
    assert sum(name.startswith("the course's engine: n^") for name in names) == 2
    assert all(s.get("data-points") == "2" for s in series)
    assert any(text in ("100", "1000") for text in texts(root))


GOOD_BOUNDARY = {
    "kind": "boundary",
    "axis": [0.0, 1.0],
    "outputs": [[1.0, -1.0], [-1.0, 1.0]],
    "inputs": [[0, 0], [0, 1], [1, 0], [1, 1]],
    "targets": [-1, 1, 1, -1],
}


@pytest.mark.parametrize(
    "forged",
    [
        {**GOOD_BOUNDARY, "axis": "0,1"},
        {**GOOD_BOUNDARY, "outputs": [[1.0, "x"], [-1.0, 1.0]]},
        {**GOOD_BOUNDARY, "outputs": [[1.0], [-1.0, 1.0]]},
        {**GOOD_BOUNDARY, "outputs": [[1.0, float("nan")], [-1.0, 1.0]]},
        {**GOOD_BOUNDARY, "inputs": [[0, 0, 0], [0, 1], [1, 0], [1, 1]]},
        {**GOOD_BOUNDARY, "targets": [True, 1, 1, -1]},
        {**GOOD_BOUNDARY, "targets": [-1, 1]},
        {"kind": "boundary"},
    ],
)
def test_a_boundary_record_the_child_got_wrong_draws_no_boundary(forged: dict) -> None:  # type: ignore[type-arg]
    # The worker runs learner code and may send anything: a record that does not hold numbers of
    # the right shapes gives no boundary panel instead of a crash while drawing the chart.
    assert read_boundary(forged) is None


def test_a_well_formed_boundary_record_is_read() -> None:
    boundary = read_boundary(GOOD_BOUNDARY)
    assert boundary is not None
    assert boundary.outputs == ((1.0, -1.0), (-1.0, 1.0))
    assert boundary.points[1] == (0.0, 1.0, 1.0)
