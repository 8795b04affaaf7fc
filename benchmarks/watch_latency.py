"""How long `tinygrad-learn watch` takes from saving a file to printing the verdict, beside a
cold `tinygrad-learn check` of the same checkpoint.

Makes a workspace with `init`, copies the reference solutions in, starts `tinygrad-learn watch
step2` as a subprocess, then saves exercises/engine.py several times (a comment line added each
time, so it keeps passing) and reads the watch's output until the verdict line of each save
appears. Between two saves it runs `tinygrad-learn check step2` in the same workspace, so both
sides meet the same load. Prints every latency, the medians, how much of a watch answer is the
grading run itself, and on the last line the ratio of the medians (bar: watch <= 0.25x check).

    python benchmarks/watch_latency.py [--saves 9] [--checkpoint step2] [--poll]
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BAR = 0.25
GRADING = re.compile(r"checks in (\d+\.\d+)s")
QUIET = 0.5
"""Seconds between two saves, so each save is checked on its own."""
TIMEOUT = 30.0


def verdict_pattern(checkpoint: str) -> re.Pattern[str]:
    name = re.escape(checkpoint)
    return re.compile(rf"\b{name} (passed|still passes|failed)\b|\b{name}: \d+ of \d+ checks failed")


def wait_for_verdict(
    lines: queue.Queue[tuple[float, str] | None], verdict: re.Pattern[str]
) -> tuple[float, float | None]:
    """The time the next verdict line arrived, and the grading run's own duration it reports."""
    deadline = time.perf_counter() + TIMEOUT
    while True:
        item = lines.get(timeout=max(0.01, deadline - time.perf_counter()))
        if item is None:
            raise SystemExit("watch ended before printing a verdict")
        arrived, line = item
        if verdict.search(line):
            grading = GRADING.search(line)
            return arrived, float(grading.group(1)) if grading else None


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--saves", type=int, default=9)
    parser.add_argument("--checkpoint", default="step2")
    parser.add_argument("--poll", action="store_true", help="watch with --poll (file contents compared too)")
    options = parser.parse_args()
    course = Path(os.environ.get("TINYGRAD_LEARN_COURSE", ROOT))

    with tempfile.TemporaryDirectory() as scratch:
        workspace = Path(scratch) / "workspace"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env.update({"TINYGRAD_LEARN_WIDTH": "200", "TINYGRAD_LEARN_LANG": "en"})
        init = [sys.executable, "-m", "tinygrad_learn", "init", str(workspace)]
        subprocess.run(init, check=True, env=env, stdout=subprocess.DEVNULL)
        shutil.copytree(course / "solutions", workspace / "exercises", dirs_exist_ok=True)
        engine = workspace / "exercises" / "engine.py"
        command = [sys.executable, "-m", "tinygrad_learn", "watch", options.checkpoint]
        cold_check = [sys.executable, "-m", "tinygrad_learn", "check", options.checkpoint]
        verdict = verdict_pattern(options.checkpoint)
        if options.poll:
            command.append("--poll")
        watch = subprocess.Popen(
            command,
            cwd=workspace,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
        )
        lines: queue.Queue[tuple[float, str] | None] = queue.Queue()

        def pump() -> None:
            assert watch.stdout is not None
            for line in watch.stdout:
                lines.put((time.perf_counter(), line))
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        latencies = []
        gradings = []
        colds = []
        try:
            wait_for_verdict(lines, verdict)  # the check watch runs when it starts
            for number in range(options.saves):
                time.sleep(QUIET)
                with open(engine, "a", encoding="utf-8") as handle:
                    handle.write(f"# save {number}\n")
                saved = time.perf_counter()
                arrived, grading = wait_for_verdict(lines, verdict)
                latencies.append(arrived - saved)
                if grading is not None:
                    gradings.append(grading)
                time.sleep(QUIET)
                started = time.perf_counter()
                subprocess.run(cold_check, cwd=workspace, env=env, stdout=subprocess.DEVNULL, check=False)
                colds.append(time.perf_counter() - started)
        finally:
            assert watch.stdin is not None
            try:
                watch.stdin.write("q\n")
                watch.stdin.close()
                watch.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                watch.kill()

    print(f"checkpoint                     {options.checkpoint}, {len(latencies)} saves, interleaved with checks")
    print("watch, each                    " + " ".join(f"{value * 1000:.0f}" for value in latencies) + " ms")
    print("cold check, each               " + " ".join(f"{value * 1000:.0f}" for value in colds) + " ms")
    median = statistics.median(latencies)
    cold = statistics.median(colds)
    print(f"watch: save to verdict         {median * 1000:7.1f} ms (median)")
    if gradings:
        grading = statistics.median(gradings)
        print(f"  of which the grading run     {grading * 1000:7.1f} ms (median, as the verdict reports it)")
        print(f"  the rest: noticing the save  {(median - grading) * 1000:7.1f} ms (and printing)")
    print(f"cold check: start to exit      {cold * 1000:7.1f} ms (median)")
    ratio = median / cold
    print(f"ratio watch / check            {ratio:.3f}x (bar: <= {BAR}x: {'met' if ratio <= BAR else 'NOT met'})")


if __name__ == "__main__":
    main()
