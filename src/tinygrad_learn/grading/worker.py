"""The child side of a worker run (graph, bench, train): read the job, run it, report over the channel.

Started by the sandbox like every child that runs learner code; the job is a `WorkerJob` on
standard input, and every record goes back as a JSON line of `grading.protocol`.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

from tinygrad_learn.grading import CHANNEL_ENV
from tinygrad_learn.grading.confine import confine
from tinygrad_learn.grading.protocol import FinishRecord, WorkerJob, error_record

ENTRY = "from tinygrad_learn.grading.worker import main; main()"
"""What the sandbox runs with `python -c` to start a worker."""


def main() -> None:
    channel = os.fdopen(int(os.environ.pop(CHANNEL_ENV)), "w", encoding="utf-8", closefd=True)

    def send(record: Any) -> None:
        channel.write(json.dumps(record, ensure_ascii=False) + "\n")
        channel.flush()

    job: WorkerJob = json.loads(sys.stdin.readline())
    confine()  # before the learner's code is imported (grading/confine.py)
    module_name, function_name = str(job["target"]).split(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
        function(job["payload"], send)
    except BaseException as error:  # the learner's code may raise anything, SystemExit included
        send(error_record(error))
    finish: FinishRecord = {"kind": "finish"}
    send(finish)
    channel.close()
