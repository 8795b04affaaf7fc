"""Grade the reference solutions and the style variants with many seeds: a correct engine must
pass with every one.

Random inputs can land on a point where a suite's diagnosis misfires (both true gradients 0, a
tie, a kink, a tolerance too tight for another summation order); this sweep finds such seeds
before a learner does. Each checkpoint is graded on solutions/ and on every variant in
tests/variants/ that covers it (its files laid over solutions/). Every seed is graded exactly as
`tinygrad-learn check CHECKPOINT --seed N` grades it (the same function, time limit and import
policy, every guard on), in a fresh child of its own. The children are forked from warm grading
processes, one per job (the one `watch` uses, `sandbox.start_warm`), which import pytest, numpy
and the grading code once and never any learner code; `--cold` starts a fresh interpreter per
run instead, as `check` does.

It prints each refusal as it is found, then a line per checkpoint and engine, and exits 1 if any
seed refused a correct engine; every refusal found belongs in REFUSED_BEFORE in
tests/test_course_consistency.py.

The scheduled sweep: 53 engine and checkpoint pairs, 10,600 runs. Measured on two cores shared
with other work (load 5-10): about 85 minutes of CPU, 0.48 s a run, of which 0.05 s in this
process; a cold run costs some 0.15 s more. Nearly half of it goes to grading week2, week4-cnn
and week4-rnn.

    nice -n 10 python tools/seed_sweep.py --count 200

    python tools/seed_sweep.py [CHECKPOINT ...] [--engine NAME ...] [--first 1000] [--count 200]
                               [--jobs 2] [--solutions-only] [--cold]
"""

from __future__ import annotations

import argparse
import queue
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import yaml

from tinygrad_learn.checking import run_checkpoint
from tinygrad_learn.manifest import Checkpoint, Course, load_course
from tinygrad_learn.paths import Workspace
from tinygrad_learn.runner import RunResult, available_cores, warm_grading
from tinygrad_learn.sandbox_warm import WarmGrader

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ROOT / "tests" / "variants"
SOLUTIONS = "solutions"


@dataclass(frozen=True)
class Engine:
    """A correct engine: a workspace whose exercises are solutions/ or a variant laid over it."""

    name: str
    workspace: Workspace
    covers: frozenset[str]


@dataclass(frozen=True)
class Run:
    engine: Engine
    checkpoint: Checkpoint
    seed: int


def lay_out_engines(scratch: Path, course: Course, solutions_only: bool) -> list[Engine]:
    """solutions/ and each style variant (solutions/ with its files laid over), each as the
    exercises of a workspace of its own, with the checkpoints it covers."""
    every_checkpoint = frozenset(checkpoint.id for checkpoint in course.checkpoints)
    engines = [Engine(SOLUTIONS, Workspace(scratch / SOLUTIONS), every_checkpoint)]
    if not solutions_only:
        for folder in sorted(path for path in VARIANTS.iterdir() if (path / "variant.yaml").is_file()):
            manifest = yaml.safe_load((folder / "variant.yaml").read_text(encoding="utf-8"))
            engines.append(Engine(folder.name, Workspace(scratch / folder.name), frozenset(manifest["checkpoints"])))
    for engine in engines:
        shutil.copytree(course.solutions, engine.workspace.exercises, ignore=shutil.ignore_patterns("__pycache__"))
        variant = VARIANTS / engine.name
        for source in variant.glob("*.py") if engine.name != SOLUTIONS else ():
            shutil.copyfile(source, engine.workspace.exercises / source.name)
    return engines


def grade_queued(
    course: Course, exercises: Path, runs: queue.SimpleQueue[Run], cold: bool, report: Callable[[Run, RunResult], None]
) -> int:
    """Grade runs from the queue until it is empty; return how many were forked warm. The warm
    grading process is started as `watch` starts it for a workspace's `exercises`; one that has
    given up (its runs would then start cold) is replaced."""
    forked = 0
    while not runs.empty():
        grading: AbstractContextManager[WarmGrader | None] = (
            nullcontext(None) if cold else warm_grading(exercises, course.solutions)
        )
        with grading as warm:
            while warm is None or warm.alive:
                try:
                    run = runs.get_nowait()
                except queue.Empty:
                    break
                report(run, run_checkpoint(course, run.engine.workspace, run.checkpoint, run.seed, warm))
            forked += warm.forked if warm is not None else 0
    return forked


class Tally:
    """What the runs found, per engine and checkpoint; prints refusals as they come."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.lock = threading.Lock()
        self.done = 0
        self.seeds: Counter[tuple[str, str]] = Counter()
        self.refusals: Counter[tuple[str, str]] = Counter()
        self.cpu: Counter[tuple[str, str]] = Counter()
        self.started = time.monotonic()

    def add(self, run: Run, result: RunResult) -> None:
        key = (run.engine.name, run.checkpoint.id)
        with self.lock:
            self.done += 1
            self.seeds[key] += 1
            self.cpu[key] += result.cpu_seconds
            if not result.passed:
                self.refusals[key] += 1
                names = ", ".join(test.name for test in result.failed_tests) or result.problem
                print(f"REFUSED {run.engine.name} {run.checkpoint.id} --seed {run.seed}: {names}", flush=True)
            if self.done % max(self.total // 20, 1) == 0:
                elapsed = time.monotonic() - self.started
                refused = sum(self.refusals.values())
                print(f"  {self.done}/{self.total} runs, {refused} refused, {elapsed:.0f} s", flush=True)


def own_cpu_seconds() -> float:
    """User + system time of this process and of every child it has waited for."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="*", metavar="CHECKPOINT", help="ids (default: every one)")
    parser.add_argument("--engine", action="append", default=[], help="only this engine (solutions or a variant)")
    parser.add_argument("--first", type=int, default=1000, help="first seed")
    parser.add_argument("--count", type=int, default=200, help="seeds per checkpoint and engine")
    parser.add_argument("--jobs", type=int, default=available_cores(), help="runs graded at the same time")
    parser.add_argument("--solutions-only", action="store_true", help="leave the style variants out")
    parser.add_argument("--cold", action="store_true", help="start a fresh interpreter per run, as check does")
    args = parser.parse_args()

    course = load_course(ROOT)
    chosen = [course.get(name) for name in args.checkpoints] or list(course.checkpoints)
    cpu_before, wall_before = own_cpu_seconds(), time.monotonic()
    with tempfile.TemporaryDirectory(prefix="seed-sweep-") as folder:
        scratch = Path(folder)
        engines = [
            engine
            for engine in lay_out_engines(scratch, course, args.solutions_only)
            if not args.engine or engine.name in args.engine
        ]
        # Seed by seed, so that a refusal anywhere shows early.
        runs = [
            Run(engine, checkpoint, seed)
            for seed in range(args.first, args.first + args.count)
            for engine in engines
            for checkpoint in chosen
            if checkpoint.id in engine.covers
        ]
        pending: queue.SimpleQueue[Run] = queue.SimpleQueue()
        for run in runs:
            pending.put(run)
        tally = Tally(len(runs))
        forked = [0] * args.jobs

        def job(number: int) -> None:
            forked[number] = grade_queued(course, engines[0].workspace.exercises, pending, args.cold, tally.add)

        workers = [threading.Thread(target=job, args=(number,)) for number in range(args.jobs)]
        for worker in workers:
            worker.start()
        interrupted = False
        try:
            for worker in workers:
                worker.join()
        except KeyboardInterrupt:  # the runs under way end, then what was graded is summed up
            interrupted = True
            while not pending.empty():
                pending.get_nowait()
            for worker in workers:
                worker.join()
    cpu, wall = own_cpu_seconds() - cpu_before, time.monotonic() - wall_before

    for engine, checkpoint in sorted(tally.seeds):
        key = (engine, checkpoint)
        print(
            f"{engine:16} {checkpoint:16} {tally.seeds[key]:4} seeds {tally.refusals[key]:4} refused"
            f" {tally.cpu[key] / tally.seeds[key]:6.2f} s CPU a run"
        )
    refused = sum(tally.refusals.values())
    used = {engine for engine, _ in tally.seeds}
    graded = f"{tally.done} of {len(runs)} runs, interrupted," if interrupted else f"{len(runs)} runs"
    print(
        f"{graded} ({sum(forked)} forked warm) of {len(chosen)} checkpoints on {len(used)} engines,"
        f" seeds {args.first}-{args.first + args.count - 1}: {cpu:.0f} s CPU, {wall:.0f} s wall;"
        f" {refused} refused a correct engine"
    )
    sys.exit(130 if interrupted else 1 if refused else 0)


if __name__ == "__main__":
    main()
