"""Start-up cost of this checkout against another install of tinygrad-learn, side by side.

Each command runs alternately under both Pythons (this environment's and `--baseline`, for example
the environment of the main branch), so a busy machine slows both alike. For `--help`, `hint step1`
and `check step1` (on the reference solutions) it prints the median wall time of each side and the
ratio; for `--help` also the import time Python reports (`-X importtime`, the sum of every module's
own time, median of the runs). The last line is the ratio of the `--help` medians.

    python benchmarks/startup_compare.py --baseline ../main/.venv/bin/python [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(python: str, args: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    completed = subprocess.run(
        [python, "-m", "tinygrad_learn", *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"{python} -m tinygrad_learn {' '.join(args)} exited {completed.returncode}")
    return elapsed


def import_time_ms(python: str, args: list[str], cwd: Path) -> tuple[float, set[str]]:
    """The sum of every module's own import time, and the modules imported."""
    completed = subprocess.run(
        [python, "-X", "importtime", "-m", "tinygrad_learn", *args], cwd=cwd, capture_output=True, text=True
    )
    total, names = 0, set()
    for line in completed.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "self" not in line:
            own, _, name = line.removeprefix("import time:").split("|")
            total += int(own)
            names.add(name.strip())
    return total / 1000, names


def workspace_for(python: str, parent: Path, name: str) -> Path:
    workspace = parent / name
    subprocess.run([python, "-m", "tinygrad_learn", "init", str(workspace)], check=True, stdout=subprocess.DEVNULL)
    shutil.copytree(ROOT / "solutions", workspace / "exercises", dirs_exist_ok=True)
    return workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="the Python of the other install")
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    sides = {"this": sys.executable, "baseline": options.baseline}
    commands = {
        "--help": ["--help"],
        "hint step1": ["hint", "step1", "--level", "1"],
        "check step1": ["check", "step1"],
    }
    os.environ.pop("TINYGRAD_LEARN_COURSE", None)

    with tempfile.TemporaryDirectory() as scratch:
        places = {side: workspace_for(python, Path(scratch), side) for side, python in sides.items()}
        times: dict[tuple[str, str], list[float]] = {(c, s): [] for c in commands for s in sides}
        imports: dict[str, list[float]] = {side: [] for side in sides}
        modules: dict[tuple[str, str], set[str]] = {}
        for _ in range(options.runs):
            for command, args in commands.items():
                for side, python in sides.items():
                    times[command, side].append(timed(python, args, places[side]))
            for side, python in sides.items():
                total, _names = import_time_ms(python, ["--help"], places[side])
                imports[side].append(total)
        for side, python in sides.items():
            for command in ("show step1", "hint step1"):
                modules[command, side] = import_time_ms(python, command.split(), places[side])[1]

    print(f"runs each: {options.runs}; baseline: {options.baseline}")
    for command in commands:
        mine, theirs = statistics.median(times[command, "this"]), statistics.median(times[command, "baseline"])
        figures = f"this {mine * 1000:7.1f} ms  baseline {theirs * 1000:7.1f} ms"
        print(f"{command:<12} {figures}  ratio {mine / theirs:5.2f}x")
    mine, theirs = statistics.median(imports["this"]), statistics.median(imports["baseline"])
    print(f"--help -X importtime (sum of own times)  this {mine:6.1f} ms  baseline {theirs:6.1f} ms")
    for (command, side), names in sorted(modules.items()):
        print(f"{command:<12} {side:<8} imports rich.markdown: {'rich.markdown' in names}")
    help_ratio = statistics.median(times["--help", "this"]) / statistics.median(times["--help", "baseline"])
    print(f"--help median ratio this/baseline: {help_ratio:.2f}x")


if __name__ == "__main__":
    main()
