"""What the guards against tampering cost `tinygrad-learn check`: this tree against an older one.

The older tree (by default the commit before the import check, the audit hook and Landlock) is
unpacked from git into a temporary folder and put first on PYTHONPATH, so both sides run the same
Python and the same course; `check step2` on the reference solutions runs alternately on each,
so a busy machine slows both alike. Prints the median of each and their ratio (bar: at most 1.10x).

    python benchmarks/guard_cost.py [--runs 15] [--before REV] [--checkpoint step2]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "11a4492"


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {completed.returncode}")
    return elapsed


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
        after_times, before_times = [], []
        for _ in range(options.runs):
            before_times.append(timed(command, workspace, before_env))
            after_times.append(timed(command, workspace, after_env))

    before_median = statistics.median(before_times)
    after_median = statistics.median(after_times)
    print(f"runs each                           {options.runs}")
    print(f"check {options.checkpoint}, before ({options.before})      {before_median * 1000:7.1f} ms (median)")
    print(f"check {options.checkpoint}, with the guards      {after_median * 1000:7.1f} ms (median)")
    print(f"ratio                               {after_median / before_median:7.3f}x   (bar: <= 1.10x)")


if __name__ == "__main__":
    main()
