"""`tinygrad-learn --help` and `import tinygrad_learn`: this tree against an earlier commit, interleaved.

The earlier commit's `src/` is exported with `git archive`, and this tree's `src/` copied, into
the same temporary folder; each is put first on PYTHONPATH in turn, so both sides run with the same
interpreter, the same installed packages and the same file system: only the package's code
differs. Runs alternate (before, after, before, ...) so a busy machine slows both alike. The
last line is the ratio of the medians of `--help` (after / before).
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
COMMANDS = {
    "--help": ["-m", "tinygrad_learn", "--help"],
    "import tinygrad_learn": ["-c", "import tinygrad_learn"],
}


def export(ref: str, target: Path) -> Path:
    archive = subprocess.run(["git", "archive", ref, "src"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / "src"


def timed(arguments: list[str], source: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(source))
    began = time.perf_counter()
    subprocess.run([sys.executable, *arguments], env=env, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main", help="the git ref to compare with (default: main)")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        after = Path(folder) / "after" / "src"
        shutil.copytree(ROOT / "src", after, ignore=shutil.ignore_patterns("__pycache__"))
        sides = {"before": export(args.before, Path(folder) / "before"), "after": after}
        medians: dict[tuple[str, str], float] = {}
        for label, arguments in COMMANDS.items():
            for source in sides.values():
                timed(arguments, source)  # warm the file cache and compile the bytecode once
            samples: dict[str, list[float]] = {side: [] for side in sides}
            for _ in range(args.runs):
                for side, source in sides.items():
                    samples[side].append(timed(arguments, source))
            for side in sides:
                medians[(label, side)] = statistics.median(samples[side])
                print(f"{label:24} {side:6} median {medians[(label, side)] * 1000:7.1f} ms over {args.runs} runs")
    ratio = medians[("--help", "after")] / medians[("--help", "before")]
    print(f"--help after/before ({args.before}): {ratio:.3f}")


if __name__ == "__main__":
    main()
