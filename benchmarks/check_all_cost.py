"""What `tinygrad-learn check --all` costs with its runs forked from warm grading processes,
against the same command starting every run cold.

    python benchmarks/check_all_cost.py [--rounds 5]

Both sides run the command in a process of its own, in a workspace holding the reference
solutions, through the same small launcher (`python -c`, then the CLI's `main`): the cold side
only raises `runner.WARM_PAYS_OFF_AT` out of reach first, so no thread ever has enough runs to
start a warm process, which is how the command ran before. The sides alternate within each round.
CPU is the user + system time of the command and of every process it waited for (the warm
processes and, through them, every run they forked), which a busy machine barely changes. Every
checkpoint must pass on both sides. The last line is the ratio of the median CPU, warm over cold.
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
LAUNCHER = (
    "import sys\n"
    "import tinygrad_learn.runner as runner\n"
    "if sys.argv.pop(1) == 'cold':\n"
    "    runner.WARM_PAYS_OFF_AT = 10**9\n"
    "from tinygrad_learn.cli import main\n"
    "main()\n"
)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def check_all(side: str, workspace: Path) -> tuple[float, float]:
    """CPU and wall seconds of one `check --all`, every child it waited for included."""
    cpu_before, wall_before = children_cpu(), time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, side, "check", "--all"],
        cwd=workspace,
        capture_output=True,
        text=True,
        env={**os.environ, "TINYGRAD_LEARN_LANG": "en"},
        check=False,
    )
    cpu, wall = children_cpu() - cpu_before, time.monotonic() - wall_before
    if done.returncode != 0:
        sys.exit(f"check --all ({side}) did not pass on the solutions:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.2f}", flush=True)
    figures: dict[str, list[tuple[float, float]]] = {"warm": [], "cold": []}
    with tempfile.TemporaryDirectory(prefix="check-all-cost-") as folder:
        workspace = Path(folder) / "workspace"
        init = [sys.executable, "-m", "tinygrad_learn", "init", str(workspace)]
        made = subprocess.run(init, capture_output=True, text=True, check=False)
        if made.returncode != 0:
            sys.exit(f"init failed:\n{made.stdout}{made.stderr}")
        shutil.copytree(ROOT / "solutions", workspace / "exercises", dirs_exist_ok=True)
        for round_number in range(args.rounds):
            for side in ("cold", "warm") if round_number % 2 else ("warm", "cold"):
                cpu, wall = check_all(side, workspace)
                figures[side].append((cpu, wall))
                print(f"round {round_number + 1} {side}: {cpu:.2f} s CPU, {wall:.2f} s wall", flush=True)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    median = {side: [statistics.median(f[i] for f in runs) for i in (0, 1)] for side, runs in figures.items()}
    for side, (cpu, wall) in median.items():
        print(f"median {side}: {cpu:.2f} s CPU, {wall:.2f} s wall")
    print(f"wall: {median['warm'][1] / median['cold'][1]:.2f}x")
    print(f"check --all, warm / cold CPU: {median['warm'][0] / median['cold'][0]:.2f}x")


if __name__ == "__main__":
    main()
