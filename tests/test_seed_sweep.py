"""tools/seed_sweep.py: every run forked from a warm grading process, a wrong engine refused and
named, a correct one in another style let through."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "seed_sweep.py"
VARIANTS = Path(__file__).parent / "variants"


def load_tool(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("seed_sweep", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "seed_sweep", module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_the_sweep_refuses_only_the_wrong_engine_and_forks_every_run_warm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    variants = tmp_path / "variants"
    shutil.copytree(VARIANTS / "set_prev", variants / "set_prev")  # correct: micrograd's set
    wrong = variants / "assigns_grad"
    wrong.mkdir()
    engine = (VARIANTS.parent.parent / "solutions" / "engine.py").read_text(encoding="utf-8")
    assert engine.count("self.grad += out.grad") >= 1
    # `=` for `+=` in __add__: a + a then gets half its gradient.
    (wrong / "engine.py").write_text(engine.replace("self.grad += out.grad", "self.grad = out.grad", 1), "utf-8")
    (wrong / "variant.yaml").write_text('style: "a wrong engine"\ncheckpoints: [step2]\n', encoding="utf-8")
    tool = load_tool(monkeypatch)
    monkeypatch.setattr(tool, "VARIANTS", variants)
    monkeypatch.setattr(sys, "argv", ["seed_sweep.py", "step2", "--count", "2", "--first", "7", "--jobs", "2"])

    with pytest.raises(SystemExit) as ended:
        tool.main()

    assert ended.value.code == 1
    output = capsys.readouterr().out
    refused = sorted(line for line in output.splitlines() if line.startswith("REFUSED"))
    assert [line.split(":")[0] for line in refused] == [
        "REFUSED assigns_grad step2 --seed 7",
        "REFUSED assigns_grad step2 --seed 8",
    ]
    assert "6 runs (6 forked warm) of 1 checkpoints on 3 engines, seeds 7-8" in output
    assert output.rstrip().endswith("2 refused a correct engine")
