"""Record the course's pristine stubs in stubs.lock, after a course author changed exercises/.

`init` and `reset` copy a stub only when its bytes match this lock (or git HEAD has bytes that
do), so a stub edited by a learner in a clone never becomes anyone's fresh exercise.

    python tools/lock_stubs.py
"""

from __future__ import annotations

from pathlib import Path

from tinygrad_learn.stubs import LOCK_NAME, lock_text

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    (ROOT / LOCK_NAME).write_text(lock_text(ROOT), encoding="utf-8")
    print(f"wrote {ROOT / LOCK_NAME}")
