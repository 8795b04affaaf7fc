"""How fast `grade` re-grades a class: submissions per minute against workers, and against `check`.

Builds a class of N copies of the reference solutions plus a few hostile submissions (one crashes
Python at import, one loops forever in + and backward), then, in interleaved rounds:

- `tinygrad-learn grade CLASS --workers W` for each W in --workers (default 1 and 2);
- `tinygrad-learn grade` on the N solution copies alone (default workers) against N sequential
  runs of `tinygrad-learn check` over the same checkpoints, one workspace after another.

The checkpoints default to the four fast ones (--checkpoints), so a round takes seconds rather
than retraining Week-4 models N times; `--checkpoints all` uses the whole course (and `check
--all`). The last line is the ratio of N sequential checks to one `grade` of the same N.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOOL = [sys.executable, "-m", "tinygrad_learn"]
CRASH_AT_IMPORT = "import os\nos.abort()\n"
LOOP_FOREVER = (
    "\n\ndef _stuck(self, *args):\n    while True:\n        pass\n\n\nValue.__add__ = Value.backward = _stuck\n"
)


def run(args: list[str], cwd: Path | None = None) -> float:
    return timed(args, cwd)[0]


def timed(args: list[str], cwd: Path | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([*TOOL, *args], cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done.stdout


def wrong_verdicts(report: str) -> list[str]:
    """Students whose verdicts are not the expected ones: every copy passes, every hostile one fails."""
    try:
        students = json.loads(report)["students"]
    except (ValueError, KeyError):
        return ["<no report>"]
    wrong = []
    for student in students:
        passed = [result["passed"] for result in student["results"]]
        expected_pass = student["name"].startswith("student")
        if (expected_pass and not all(passed)) or (not expected_pass and all(passed)):
            wrong.append(student["name"])
    return wrong


def build_class(folder: Path, copies: int, hostile: int) -> tuple[Path, Path]:
    """`folder/solved` holds the N solution copies; `folder/class` holds them and the hostile ones."""
    solved, room = folder / "solved", folder / "class"
    solved.mkdir(parents=True)
    for index in range(copies):
        workspace = solved / f"student{index:03d}"
        subprocess.run([*TOOL, "init", str(workspace)], stdout=subprocess.DEVNULL, check=True)
        for source in (REPO / "solutions").glob("*.py"):
            shutil.copy(source, workspace / "exercises" / source.name)
    shutil.copytree(solved, room)
    for index in range(hostile):
        workspace = room / f"hostile{index:02d}"
        shutil.copytree(solved / "student000", workspace)
        engine = workspace / "exercises" / "engine.py"
        if index % 2 == 0:
            engine.write_text(CRASH_AT_IMPORT)
        else:
            engine.write_text(engine.read_text() + LOOP_FOREVER)
    return solved, room


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=8, help="solution copies N (default 8)")
    parser.add_argument("--hostile", type=int, default=2, help="hostile submissions added (default 2)")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare (default 1,2)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--checkpoints", default="step1,step2,step3,project1", help="ids, or all")
    options = parser.parse_args()
    workers = [int(count) for count in options.workers.split(",")]
    every = options.checkpoints == "all"
    only = [] if every else ["--checkpoints", options.checkpoints]
    ids = [] if every else options.checkpoints.split(",")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    print(f"class: {options.copies} solution copies + {options.hostile} hostile; checkpoints: {options.checkpoints}")
    with tempfile.TemporaryDirectory(prefix="grade-throughput-") as scratch:
        solved, room = build_class(Path(scratch), options.copies, options.hostile)
        size = options.copies + options.hostile
        by_workers: dict[int, list[float]] = {count: [] for count in workers}
        grade_times: list[float] = []
        check_times: list[float] = []
        wrong: set[str] = set()
        for round_number in range(options.rounds):
            for count in workers if round_number % 2 == 0 else reversed(workers):
                elapsed, report = timed(["grade", str(room), "--workers", str(count), "--format", "json", *only])
                by_workers[count].append(elapsed)
                wrong.update(wrong_verdicts(report))
            grade_times.append(run(["grade", str(solved), "--format", "json", *only]))
            started = time.perf_counter()
            for workspace in sorted(solved.iterdir()):
                if every:
                    run(["check", "--all"], cwd=workspace)
                else:
                    for checkpoint in ids:
                        run(["check", checkpoint], cwd=workspace)
            check_times.append(time.perf_counter() - started)
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
        print(f"verdicts: {'all as expected' if not wrong else 'WRONG for ' + ', '.join(sorted(wrong))}")
        base = statistics.median(by_workers[workers[0]])
        for count in workers:
            median = statistics.median(by_workers[count])
            print(
                f"grade, {count} worker(s): median {median:.1f}s for {size} submissions = "
                f"{size / median * 60:.1f} submissions/minute ({base / median:.2f}x of {workers[0]} worker(s))"
            )
        grade_median, check_median = statistics.median(grade_times), statistics.median(check_times)
        print(f"grade of {options.copies} solution copies (default workers): median {grade_median:.1f}s")
        print(f"{options.copies} sequential checks of the same: median {check_median:.1f}s")
        print(f"ratio sequential check / grade: {check_median / grade_median:.2f}x")


if __name__ == "__main__":
    main()
