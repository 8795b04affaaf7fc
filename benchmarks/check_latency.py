"""What `tinygrad-learn check ID` costs beyond the pytest command the grader itself starts.

For each checkpoint, both sides grade the reference solutions with the same seed, alternately in
one run, so a busy machine slows both alike:

- `check`: `tinygrad-learn check ID --seed 1` in a workspace holding the solutions;
- `core`: the same check through the tool's core alone (`checking.check`, called by a bare script
  in a fresh interpreter, no CLI, typer or Rich): what `check` would cost with the lightest
  possible front end, which tells what the bar leaves for everything else;
- `pytest`: the very command the grader starts for that checkpoint, with the same flags,
  environment (plugin auto-loading off, the same cleared and added settings), working folder,
  scratch layout, stdin token and results channel. It is not written out here: the benchmark asks
  the runner for it, by running `run_suite` once with `subprocess.Popen` replaced by a recorder
  that copies the scratch folder as it stands at that moment, so the two can never drift apart
  (the sandbox copies the reference solutions in while the child starts: the copy adds them).

Each run's CPU time is the user+sys time of the finished child and all it waited for
(`RUSAGE_CHILDREN` deltas): what one run costs on an idle machine, whatever else is running.
Wall time is printed too. Prints min/median/max per checkpoint and side, the ratio of medians, and
on the last line the largest median CPU ratio (bar: at most 1.25x).

    python benchmarks/check_latency.py [--runs 9] [--checkpoints step1 step2 step3 week1 week3]
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
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinygrad_learn import runner, sandbox
from tinygrad_learn.grading import CHANNEL_ENV
from tinygrad_learn.manifest import load_course

ROOT = Path(__file__).resolve().parents[1]
# The course whose solutions are graded: this clone, unless TINYGRAD_LEARN_COURSE names another.
COURSE = Path(os.environ.get("TINYGRAD_LEARN_COURSE") or ROOT)
SEED = 1
BAR = 1.25
DEFAULT_CHECKPOINTS = ("step1", "step2", "step3", "week1", "week3")
FAILURES: list[str] = []
"""Runs that did not pass: their times are kept, and each is listed before the figures."""


@dataclass(frozen=True)
class GraderCommand:
    """What the grader passed to Popen for one checkpoint, pointed at a kept copy of its scratch folder."""

    checkpoint: str
    args: list[str]
    kwargs: dict[str, Any]


class _Recorded(Exception):
    pass


def grader_command(checkpoint: str, suite: Path, exercises: Path, solutions: Path, keep: Path) -> GraderCommand:
    """Ask the runner for the command it starts; its scratch folder is copied to `keep`."""
    seen: dict[str, Any] = {}

    def record(args: list[str], **kwargs: Any) -> None:
        scratch = Path(kwargs["cwd"]).parent
        shutil.copytree(scratch, keep, symlinks=True)
        if not sandbox.Scratch(keep).solutions.exists():
            shutil.copytree(solutions, sandbox.Scratch(keep).solutions, ignore=shutil.ignore_patterns("__pycache__"))
        old, new = str(scratch), str(keep)
        seen["args"] = [arg.replace(old, new) for arg in args]
        kwargs["cwd"] = str(kwargs["cwd"]).replace(old, new)
        kwargs["env"] = {name: value.replace(old, new) for name, value in kwargs["env"].items()}
        seen["kwargs"] = kwargs
        raise OSError("recorded")  # the runner turns this into a "could not start" result

    real = subprocess.Popen
    subprocess.Popen = record  # type: ignore[assignment, misc]
    try:
        runner.run_suite(suite, exercises, solutions, seed=SEED, time_limit=60)
    finally:
        subprocess.Popen = real  # type: ignore[misc]
    if "args" not in seen:
        raise SystemExit("the runner started no process through subprocess.Popen; update this benchmark")
    return GraderCommand(checkpoint, seen["args"], seen["kwargs"])


def _drain(stream: Any) -> None:
    while stream.read(65536):
        pass
    stream.close()


def run_grader_command(command: GraderCommand) -> None:
    """Start it as the runner does: a fresh channel, the token on stdin, both outputs drained."""
    read_fd, write_fd = os.pipe()
    kwargs = dict(command.kwargs)
    kwargs["env"] = {**kwargs["env"], CHANNEL_ENV: str(write_fd)}
    kwargs["pass_fds"] = (write_fd,)
    process = subprocess.Popen(command.args, **kwargs)
    os.close(write_fd)
    readers = [
        threading.Thread(target=_drain, args=(os.fdopen(read_fd, "rb"),)),
        threading.Thread(target=_drain, args=(process.stdout,)),
    ]
    for reader in readers:
        reader.start()
    assert process.stdin is not None
    process.stdin.write(b"0123456789abcdef0123456789abcdef\n")
    process.stdin.close()
    exit_code = process.wait()
    for reader in readers:
        reader.join()
    if exit_code != 0:
        FAILURES.append(f"the grader's pytest command for {command.checkpoint} exited {exit_code}")


def run_check(checkpoint: str, workspace: Path) -> None:
    command = [sys.executable, "-m", "tinygrad_learn", "check", checkpoint, "--seed", str(SEED)]
    completed = subprocess.run(command, cwd=workspace, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if completed.returncode != 0:
        FAILURES.append(f"{' '.join(command[1:])} exited {completed.returncode}")


CORE_CHECK = """
import sys
from tinygrad_learn import checking
from tinygrad_learn.manifest import load_course
from tinygrad_learn.paths import course_root, find_workspace
course = load_course(course_root())
report = checking.check(course, find_workspace(None), course.get(sys.argv[1]), int(sys.argv[2]))
sys.exit(0 if report.result.passed else 1)
"""


def run_core(checkpoint: str, workspace: Path) -> None:
    command = [sys.executable, "-c", CORE_CHECK, checkpoint, str(SEED)]
    completed = subprocess.run(command, cwd=workspace, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if completed.returncode != 0:
        FAILURES.append(f"the core's check of {checkpoint} exited {completed.returncode}")


def measured(action: Any, *args: Any) -> tuple[float, float]:
    """(CPU seconds of the children it started and waited for, wall seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    action(*args)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def spread(values: list[float]) -> str:
    return f"{min(values) * 1000:7.0f} {statistics.median(values) * 1000:7.0f} {max(values) * 1000:7.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--checkpoints", nargs="+", default=list(DEFAULT_CHECKPOINTS))
    options = parser.parse_args()
    course = load_course(COURSE)
    by_id = {checkpoint.id: checkpoint for checkpoint in course.checkpoints}

    with tempfile.TemporaryDirectory() as scratch:
        workspace = Path(scratch) / "workspace"
        subprocess.run(
            [sys.executable, "-m", "tinygrad_learn", "init", str(workspace)], check=True, stdout=subprocess.DEVNULL
        )
        shutil.copytree(COURSE / "solutions", workspace / "exercises", dirs_exist_ok=True)
        commands = {
            name: grader_command(
                name,
                by_id[name].suite_path,
                workspace / "exercises",
                course.solutions,
                Path(scratch) / f"grader-{name}",
            )
            for name in options.checkpoints
        }
        cpu: dict[tuple[str, str], list[float]] = {}
        wall: dict[tuple[str, str], list[float]] = {}
        for name in options.checkpoints:  # one unmeasured round of each: disk caches warm alike
            run_check(name, workspace)
            run_core(name, workspace)
            run_grader_command(commands[name])
        for _ in range(options.runs):
            for name in options.checkpoints:
                for side, action, argument in (
                    ("check", run_check, (name, workspace)),
                    ("core", run_core, (name, workspace)),
                    ("pytest", run_grader_command, (commands[name],)),
                ):
                    spent, elapsed = measured(action, *argument)
                    cpu.setdefault((name, side), []).append(spent)
                    wall.setdefault((name, side), []).append(elapsed)

    for failure in FAILURES:
        print(f"NOT PASSED: {failure}")
    print(f"runs each: {options.runs}, alternating; times in ms as min median max")
    print(f"{'checkpoint':<11} {'side':<7} {'CPU (user+sys)':>23}   {'wall':>23}")
    worst = ("", 0.0)
    for name in options.checkpoints:
        for side in ("check", "core", "pytest"):
            print(f"{name:<11} {side:<7} {spread(cpu[name, side])}   {spread(wall[name, side])}")
        pytest_cpu, pytest_wall = statistics.median(cpu[name, "pytest"]), statistics.median(wall[name, "pytest"])
        core_ratio = statistics.median(cpu[name, "core"]) / pytest_cpu
        cpu_ratio = statistics.median(cpu[name, "check"]) / pytest_cpu
        wall_ratio = statistics.median(wall[name, "check"]) / pytest_wall
        print(f"{name:<11} ratio   CPU {cpu_ratio:.2f}x   wall {wall_ratio:.2f}x   (core alone: CPU {core_ratio:.2f}x)")
        if cpu_ratio > worst[1]:
            worst = (name, cpu_ratio)
    verdict = "met" if worst[1] <= BAR else "NOT met"
    print(f"largest median CPU ratio, check / grader's pytest: {worst[1]:.2f}x ({worst[0]}; bar <= {BAR}x: {verdict})")


if __name__ == "__main__":
    main()
