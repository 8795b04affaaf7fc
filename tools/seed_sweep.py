"""Grade the reference solutions and the style variants with many seeds: a correct engine must
pass with every one.

Random inputs can land on a point where a suite's diagnosis misfires (both true gradients 0, a
tie, a kink); this sweep finds such seeds before a learner does. Each checkpoint is graded on
solutions/ and on every variant in tests/variants/ that covers it (its files laid over
solutions/). It prints each refusal and a total, and exits 1 if any seed refused a correct
engine; every refusal found belongs in REFUSED_BEFORE in tests/test_course_consistency.py.

    python tools/seed_sweep.py [CHECKPOINT ...] [--first 1000] [--count 200] [--jobs 2] [--solutions-only]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from tinygrad_learn.manifest import Checkpoint, load_course
from tinygrad_learn.runner import RunResult, run_suite

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ROOT / "tests" / "variants"


def variant_folders(scratch: Path, solutions: Path) -> dict[str, tuple[Path, set[str]]]:
    """Each style variant as a folder of exercises (solutions/ with its files laid over), and the
    checkpoints it covers."""
    found = {}
    for folder in sorted(path for path in VARIANTS.iterdir() if (path / "variant.yaml").is_file()):
        covers = set(yaml.safe_load((folder / "variant.yaml").read_text(encoding="utf-8"))["checkpoints"])
        exercises = scratch / folder.name
        shutil.copytree(solutions, exercises, ignore=shutil.ignore_patterns("__pycache__"))
        for source in folder.glob("*.py"):
            shutil.copyfile(source, exercises / source.name)
        found[folder.name] = (exercises, covers)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="*", metavar="CHECKPOINT", help="ids (default: every one)")
    parser.add_argument("--first", type=int, default=1000, help="first seed")
    parser.add_argument("--count", type=int, default=200, help="seeds per checkpoint and engine")
    parser.add_argument("--jobs", type=int, default=2, help="suites graded at the same time")
    parser.add_argument("--solutions-only", action="store_true", help="leave the style variants out")
    args = parser.parse_args()

    course = load_course(ROOT)
    chosen = [course.get(name) for name in args.checkpoints] or list(course.checkpoints)
    with tempfile.TemporaryDirectory(prefix="seed-sweep-") as scratch:
        engines = {"solutions": (course.solutions, {checkpoint.id for checkpoint in chosen})}
        if not args.solutions_only:
            engines.update(variant_folders(Path(scratch), course.solutions))
        runs = [
            (engine, exercises, checkpoint, seed)
            for engine, (exercises, covers) in engines.items()
            for checkpoint in chosen
            if checkpoint.id in covers
            for seed in range(args.first, args.first + args.count)
        ]

        def grade(run: tuple[str, Path, Checkpoint, int]) -> tuple[str, Checkpoint, int, RunResult]:
            engine, exercises, checkpoint, seed = run
            limit = max(checkpoint.time_limit, 60.0)
            result = run_suite(checkpoint.suite_path, exercises, course.solutions, seed=seed, time_limit=limit)
            return engine, checkpoint, seed, result

        refused = 0
        with ThreadPoolExecutor(args.jobs) as pool:
            for engine, checkpoint, seed, result in pool.map(grade, runs):
                if not result.passed:
                    refused += 1
                    names = ", ".join(test.name for test in result.failed_tests) or result.problem
                    print(f"REFUSED {engine} {checkpoint.id} --seed {seed}: {names}", flush=True)
    print(f"{len(runs)} runs on {len(engines)} engines, {refused} refused a correct engine")
    sys.exit(1 if refused else 0)


if __name__ == "__main__":
    main()
