"""What the guards against tampering cost `tinygrad-learn check`: this tree with and without them.

"Without" is a copy of this tree's `src/` in a temporary folder with every guard switched off and
nothing else changed, so the two sides differ only in the guards:
- the parent's import check (`grading/allowlist.screen`) finds nothing to refuse;
- the grading child installs no audit hook and no Landlock (`grading/confine.py`);
- the plugin's guard takes no snapshot and finds nothing changed (`plugin._Guard`, `deepguard`).
Each switch is a text edit the script checks it made, so a change of those files makes this
script stop instead of measuring something else.

`check CHECKPOINT --seed 1` on the reference solutions runs alternately on each side, on the same
Python and course, so a busy machine slows both alike. Prints the median wall time and the median
CPU time (the command and its grading child, which a busy machine changes far less) of each, and
on the last line the CPU ratio (bar: at most 1.10x).

    python benchmarks/guard_cost.py [--runs 15] [--checkpoints step2 week1]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BAR = 1.10

# (file under src/tinygrad_learn, text it must contain, text put in its place)
GUARDS_OFF = (
    (
        "grading/allowlist.py",
        'def screen(exercises: Path, policy: ImportPolicy) -> Refusal | None:\n    """',
        'def screen(exercises: Path, policy: ImportPolicy) -> Refusal | None:\n    return None\n    """',
    ),
    (
        "grading/confine.py",
        "    if not learner or not os.environ.get(WRITABLE_ENV):\n        return audit.unwatched()",
        "    if True:\n        return audit.unwatched()",
    ),
    (
        "grading/confine.py",
        'def restrict_files() -> landlock.Status | None:\n    """',
        'def restrict_files() -> landlock.Status | None:\n    return None\n    """',
    ),
    (
        "grading/plugin.py",
        "    def take(self, session: pytest.Session) -> None:\n",
        "    def take(self, session: pytest.Session) -> None:\n        return\n",
    ),
    (
        "grading/plugin.py",
        '    def check(self) -> list[str]:\n        """',
        '    def check(self) -> list[str]:\n        return []\n        """',
    ),
)


def guards_off_copy(into: Path) -> Path:
    shutil.copytree(ROOT / "src", into, ignore=shutil.ignore_patterns("__pycache__"))
    for relative, before, after in GUARDS_OFF:
        path = into / "tinygrad_learn" / relative
        text = path.read_text(encoding="utf-8")
        if text.count(before) != 1:
            raise SystemExit(f"{relative} no longer reads as this script expects: update GUARDS_OFF")
        path.write_text(text.replace(before, after), encoding="utf-8")
    return into


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the command and every child it waited for."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {completed.returncode}")
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--checkpoints", nargs="+", default=["step2"])
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        unguarded = guards_off_copy(Path(scratch) / "unguarded")
        workspace = Path(scratch) / "workspace"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "TINYGRAD_LEARN"))}
        base["TINYGRAD_LEARN_COURSE"] = str(ROOT)
        sides = {
            "with the guards": {**base, "PYTHONPATH": str(ROOT / "src")},
            "without": {**base, "PYTHONPATH": str(unguarded)},
        }
        subprocess.run(
            [sys.executable, "-m", "tinygrad_learn", "init", str(workspace)],
            check=True,
            stdout=subprocess.DEVNULL,
            env=sides["with the guards"],
        )
        shutil.copytree(ROOT / "solutions", workspace / "exercises", dirs_exist_ok=True)
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for name in options.checkpoints:
            command = [sys.executable, "-m", "tinygrad_learn", "check", name, "--seed", "1"]
            for env in sides.values():  # one unmeasured run each: caches and bytecode warm alike
                timed(command, workspace, env)
        for _ in range(options.runs):
            for name in options.checkpoints:
                command = [sys.executable, "-m", "tinygrad_learn", "check", name, "--seed", "1"]
                for side, env in sides.items():
                    times.setdefault((name, side), []).append(timed(command, workspace, env))

    print(f"runs each: {options.runs}, alternating; medians")
    worst = ("", 0.0)
    for name in options.checkpoints:
        medians = {}
        for side in sides:
            wall = statistics.median(t[0] for t in times[name, side]) * 1000
            cpu = statistics.median(t[1] for t in times[name, side]) * 1000
            medians[side] = (wall, cpu)
            print(f"check {name:<8} {side:<16} wall {wall:7.1f} ms  cpu {cpu:7.1f} ms")
        after, before = medians["with the guards"], medians["without"]
        print(f"check {name:<8} {'ratio':<16} wall {after[0] / before[0]:7.3f}x  cpu {after[1] / before[1]:7.3f}x")
        if after[1] / before[1] > worst[1]:
            worst = (name, after[1] / before[1])
    verdict = "met" if worst[1] <= BAR else "NOT met"
    ratio = f"{worst[1]:.3f}x ({worst[0]}; bar <= {BAR}x: {verdict})"
    print(f"largest median CPU ratio, with / without the guards: {ratio}")


if __name__ == "__main__":
    main()
