"""How much `tinygrad-learn check step1` costs over bare pytest on the same hidden suite.

Both commands grade the reference solutions of step1 and are run alternately, so a busy machine
slows both alike. Prints the median wall time of each and their ratio (bar: at most 1.3x), and the
median time of `tinygrad-learn --help` (bar: under 0.3 s).

    python benchmarks/check_latency.py [--runs 15]
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
# The course whose solutions are graded: this clone, unless TINYGRAD_LEARN_COURSE names another.
COURSE = Path(os.environ.get("TINYGRAD_LEARN_COURSE") or ROOT)
SUITE = ROOT / "src" / "tinygrad_learn" / "suites" / "test_step1.py"


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {completed.returncode}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs

    with tempfile.TemporaryDirectory() as scratch:
        workspace = Path(scratch) / "workspace"
        subprocess.run(
            [sys.executable, "-m", "tinygrad_learn", "init", str(workspace)], check=True, stdout=subprocess.DEVNULL
        )
        shutil.copytree(COURSE / "solutions", workspace / "exercises", dirs_exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env.update(
            {
                "TINYGRAD_LEARN_EXERCISES": str(workspace / "exercises"),
                "TINYGRAD_LEARN_SOLUTIONS": str(COURSE / "solutions"),
                "TINYGRAD_LEARN_SEED": "1",
            }
        )
        ours = [sys.executable, "-m", "tinygrad_learn", "check", "step1", "--seed", "1"]
        bare = [sys.executable, "-m", "pytest", "-q", "-p", "tinygrad_learn.grading.plugin", str(SUITE)]
        # The same pytest run as the grader starts, without the CLI around it: shows the CLI's own cost.
        lean = [*bare, "-p", "no:cacheprovider", "-p", "no:doctest", "-p", "no:junitxml", "--noconftest"]
        lean_env = {**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        helper = [sys.executable, "-m", "tinygrad_learn", "--help"]
        timed(ours, workspace, env)
        timed(bare, workspace, env)
        ours_times, bare_times, lean_times, help_times = [], [], [], []
        for _ in range(runs):
            ours_times.append(timed(ours, workspace, env))
            bare_times.append(timed(bare, workspace, env))
            lean_times.append(timed(lean, workspace, lean_env))
            help_times.append(timed(helper, workspace, env))

    ours_median = statistics.median(ours_times)
    bare_median = statistics.median(bare_times)
    lean_median = statistics.median(lean_times)
    help_median = statistics.median(help_times)
    print(f"runs each                      {runs}")
    print(f"tinygrad-learn check step1     {ours_median * 1000:7.1f} ms (median)")
    print(f"bare pytest, same suite        {bare_median * 1000:7.1f} ms (median)")
    print(f"ratio                          {ours_median / bare_median:7.2f}x   (bar: <= 1.30x)")
    print(f"pytest with the grader's flags {lean_median * 1000:7.1f} ms (median; no plugin autoload, no cache)")
    print(f"ratio to that                  {ours_median / lean_median:7.2f}x   (the CLI's own cost)")
    print(f"tinygrad-learn --help          {help_median * 1000:7.1f} ms (median, bar: < 300 ms)")


if __name__ == "__main__":
    main()
