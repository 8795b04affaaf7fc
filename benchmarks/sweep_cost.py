"""What a seed sweep run costs, forked from a warm grading process against started cold.

    python benchmarks/sweep_cost.py [--rounds 3] [--checkpoints step1 step2 week1 week3]

In alternating blocks within one run, each block grades every chosen checkpoint once on the
reference solutions, as `tools/seed_sweep.py` grades a seed (`checking.run_checkpoint`, the
function `check` calls): a cold block starts a fresh interpreter per run, a warm block starts a
warm grading process (`runner.warm_grading`), forks every run of the block from it and stops it,
so its start-up is charged to the block. Each block's CPU time is the user + system time of this
process and of every child it waited for (the warm process and its forked runs included), which a
busy machine barely changes. Every run must pass. Prints the CPU and wall time per run of each
block; the last line is the ratio of the median CPU per run, warm over cold.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tinygrad_learn.checking import run_checkpoint
from tinygrad_learn.manifest import Checkpoint, Course, load_course
from tinygrad_learn.paths import Workspace
from tinygrad_learn.runner import warm_grading
from tinygrad_learn.sandbox_warm import WarmGrader

ROOT = Path(__file__).resolve().parents[1]


def cpu_seconds() -> float:
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )


def grade_block(
    course: Course, workspace: Workspace, chosen: list[Checkpoint], seed: int, warm: WarmGrader | None
) -> None:
    for checkpoint in chosen:
        result = run_checkpoint(course, workspace, checkpoint, seed, warm)
        if not result.passed:
            sys.exit(f"{checkpoint.id} --seed {seed} did not pass on the solutions: {result.problem}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--checkpoints", nargs="+", default=["step1", "step2", "week1", "week3"])
    args = parser.parse_args()
    course = load_course(ROOT)
    chosen = [course.get(name) for name in args.checkpoints]
    per_run: dict[str, list[float]] = {"cold": [], "warm": []}
    with tempfile.TemporaryDirectory(prefix="sweep-cost-") as folder:
        workspace = Workspace(Path(folder))
        shutil.copytree(course.solutions, workspace.exercises, ignore=shutil.ignore_patterns("__pycache__"))
        for round_number in range(args.rounds):
            seed = 1000 + round_number
            for side in ("cold", "warm"):
                cpu_before, wall_before = cpu_seconds(), time.monotonic()
                if side == "warm":
                    with warm_grading(workspace.exercises, course.solutions) as warm:
                        grade_block(course, workspace, chosen, seed, warm)
                        if warm is None or warm.forked != len(chosen):
                            sys.exit("the warm grading process did not fork every run")
                else:
                    grade_block(course, workspace, chosen, seed, None)
                cpu = (cpu_seconds() - cpu_before) / len(chosen)
                wall = (time.monotonic() - wall_before) / len(chosen)
                per_run[side].append(cpu)
                print(f"round {round_number + 1} {side}: {cpu:.3f} s CPU, {wall:.3f} s wall per run", flush=True)
    cold, warm_median = statistics.median(per_run["cold"]), statistics.median(per_run["warm"])
    print(f"median CPU per run of {', '.join(args.checkpoints)}: cold {cold:.3f} s, warm {warm_median:.3f} s")
    print(f"warm / cold CPU per run: {warm_median / cold:.2f}x")


if __name__ == "__main__":
    main()
