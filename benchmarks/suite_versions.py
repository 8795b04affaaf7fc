"""What versioning every suite of the course costs a command that starts fresh (`list`, `progress`).

A suite's version covers the suite and only the shared grading code it reaches
(tinygrad_learn.versioning). The simpler alternative hashed the suite and all of testkit and
suitekit. Each side runs in a fresh interpreter, alternately with a baseline that only imports the
modules, so a busy machine slows all three alike. Prints the median cost of each over the
baseline, and their ratio on the last line.

    python benchmarks/suite_versions.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

BASELINE = "import tinygrad_learn.paths, tinygrad_learn.versioning"
WHOLE_FILES = """
import hashlib
from tinygrad_learn.paths import SUITES_DIR
from tinygrad_learn.versioning import GRADING_DIR
for suite in sorted(SUITES_DIR.glob('test_*.py')):
    digest = hashlib.sha256(suite.read_bytes())
    for name in ('testkit.py', 'suitekit.py'):
        digest.update((GRADING_DIR / name).read_bytes())
"""
REACHED_CODE = """
from tinygrad_learn.paths import SUITES_DIR
from tinygrad_learn.versioning import suite_version
for suite in sorted(SUITES_DIR.glob('test_*.py')):
    suite_version(suite)
"""


def timed(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    times: dict[str, list[float]] = {"baseline": [], "whole files": [], "reached code": []}
    for _ in range(runs):
        for name, code in (("baseline", BASELINE), ("whole files", WHOLE_FILES), ("reached code", REACHED_CODE)):
            times[name].append(timed(code))
    base = statistics.median(times["baseline"])
    whole = statistics.median(times["whole files"]) - base
    reached = statistics.median(times["reached code"]) - base
    print(f"baseline (imports only): {base * 1000:.1f} ms")
    print(f"whole files:  +{whole * 1000:.1f} ms")
    print(f"reached code: +{reached * 1000:.1f} ms")
    ratio = f"{reached / whole:.1f}x" if whole > 0 else "n/a (whole files cost nothing measurable)"
    print(f"reached code / whole files, over the baseline: {ratio}")


if __name__ == "__main__":
    main()
