"""What the guards against tampering cost `tinygrad-learn check`: this tree against an older one.

The older tree (by default `main`, as long as it has no import check, audit hook or Landlock) is
unpacked from git into a temporary folder and put first on PYTHONPATH, so both sides run the same
Python and the same course; `check step2` on the reference solutions runs alternately on each, so
a busy machine slows both alike. Prints the median wall time and the median CPU time (the command
and its grading child, which a busy machine changes far less) of each, and their ratios (bar: at
most 1.10x).

    python benchmarks/guard_cost.py [--runs 15] [--before REV] [--checkpoint step2]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "main"


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


def unpack(revision: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src"], check=True, capture_output=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--checkpoint", default="step2")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        older = unpack(options.before, Path(scratch) / "before")
        workspace = Path(scratch) / "workspace"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "TINYGRAD_LEARN"))}
        base["TINYGRAD_LEARN_COURSE"] = str(ROOT)
        subprocess.run(
            [sys.executable, "-m", "tinygrad_learn", "init", str(workspace)],
            check=True,
            stdout=subprocess.DEVNULL,
            env=base,
        )
        shutil.copytree(ROOT / "solutions", workspace / "exercises", dirs_exist_ok=True)
        after_env = {**base, "PYTHONPATH": str(ROOT / "src")}
        before_env = {**base, "PYTHONPATH": str(older)}
        where = [sys.executable, "-c", "import tinygrad_learn.grading.audit"]
        if subprocess.run(where, env=before_env, capture_output=True).returncode == 0:
            raise SystemExit(f"{options.before} already has the audit hook: pick an older revision")
        command = [sys.executable, "-m", "tinygrad_learn", "check", options.checkpoint, "--seed", "1"]
        timed(command, workspace, after_env)
        timed(command, workspace, before_env)
        after_times: list[tuple[float, float]] = []
        before_times: list[tuple[float, float]] = []
        for _ in range(options.runs):
            before_times.append(timed(command, workspace, before_env))
            after_times.append(timed(command, workspace, after_env))

    wall = [statistics.median(times[0] for times in side) for side in (before_times, after_times)]
    cpu = [statistics.median(times[1] for times in side) for side in (before_times, after_times)]
    print(f"runs each                       {options.runs}")
    for label, side in ((f"before ({options.before})", 0), ("with the guards", 1)):
        wall_ms, cpu_ms = wall[side] * 1000, cpu[side] * 1000
        print(f"check {options.checkpoint}, {label:<16} wall {wall_ms:7.1f} ms  cpu {cpu_ms:7.1f} ms")
    print(f"ratio (bar: <= 1.10x)           wall {wall[1] / wall[0]:7.3f}x  cpu {cpu[1] / cpu[0]:7.3f}x")


if __name__ == "__main__":
    main()
