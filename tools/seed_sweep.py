"""Grade the reference solutions with many seeds: a correct engine must pass with every one.

Random inputs can land on a point where a suite's diagnosis misfires (both true gradients 0, a
tie, a kink); this sweep finds such seeds before a learner does. It prints each refusal and a
total, and exits 1 if any seed refused the solutions.

    python tools/seed_sweep.py [CHECKPOINT ...] [--first 1000] [--count 60] [--jobs 2]
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tinygrad_learn.manifest import Checkpoint, load_course
from tinygrad_learn.runner import RunResult, run_suite

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="*", metavar="CHECKPOINT", help="ids (default: every one)")
    parser.add_argument("--first", type=int, default=1000, help="first seed")
    parser.add_argument("--count", type=int, default=60, help="seeds per checkpoint")
    parser.add_argument("--jobs", type=int, default=2, help="suites graded at the same time")
    args = parser.parse_args()

    course = load_course(ROOT)
    chosen = [course.get(name) for name in args.checkpoints] or list(course.checkpoints)
    runs = [(checkpoint, seed) for checkpoint in chosen for seed in range(args.first, args.first + args.count)]

    def grade(run: tuple[Checkpoint, int]) -> tuple[Checkpoint, int, RunResult]:
        checkpoint, seed = run
        limit = max(checkpoint.time_limit, 60.0)
        return (
            checkpoint,
            seed,
            run_suite(checkpoint.suite_path, course.solutions, course.solutions, seed=seed, time_limit=limit),
        )

    refused = 0
    with ThreadPoolExecutor(args.jobs) as pool:
        for checkpoint, seed, result in pool.map(grade, runs):
            if not result.passed:
                refused += 1
                names = ", ".join(test.name for test in result.failed_tests) or result.problem
                print(f"REFUSED {checkpoint.id} --seed {seed}: {names}", flush=True)
    print(f"{len(runs)} runs, {refused} refused the reference solutions")
    sys.exit(1 if refused else 0)


if __name__ == "__main__":
    main()
