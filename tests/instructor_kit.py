"""A class of generated submissions for the fixture course, and checkers of the published result shapes.

The checkers follow the formats' own documents: Gradescope's autograder specification
(results.json), Exercism's test-runner interface (results.json version 3), Classroom 50's
result.json contract (classroom50/result/v1), and the JUnit XML elements that GitLab, Jenkins and
the GitHub reporters read (testsuites > testsuite > testcase > failure/error).
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import yaml

FIXTURE_COURSE = Path(__file__).parent / "fixture_course"

SOLVED = "def double(x):\n    return x * 2\n\n\ndef square(x):\n    return x * x\n"
STUB = (FIXTURE_COURSE / "exercises" / "mathy.py").read_text(encoding="utf-8")
HALF = "def double(x):\n    return x * 2\n\n\ndef square(x):\n    raise NotImplementedError('beta')\n"
ENDLESS = "def double(x):\n    while True:\n        pass\n\n\ndef square(x):\n    while True:\n        pass\n"
MEMORY_BOMB = "def double(x):\n    hog = [0] * (10 ** 10)\n    return x * 2\n\n\ndef square(x):\n    return x * x\n"
CRASH = "import os\nos.abort()\n"
# The forked child runs on in a new session after the test run ends; it leaves its pid where the test finds it.
FORK_TEMPLATE = (
    "import os, time\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    with open({pid_file!r}, 'a') as f:\n"
    "        f.write(str(os.getpid()) + '\\n')\n"
    "    while True:\n"
    "        time.sleep(0.1)\n" + SOLVED
)


def fast_course(tmp_path: Path, time_limit: float = 1) -> Path:
    """The fixture course with a short time limit, so hostile submissions cost seconds, not minutes:
    one second of CPU is still four times what grading a correct alpha or beta takes."""
    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    manifest = course / "checkpoints.yaml"
    manifest.write_text(manifest.read_text().replace("time_limit: 10", f"time_limit: {time_limit}"))
    return course


def make_workspace(folder: Path, mathy: str, progress: dict[str, Any] | None = None) -> Path:
    (folder / "exercises").mkdir(parents=True)
    shutil.copy(FIXTURE_COURSE / "exercises" / "__init__.py", folder / "exercises" / "__init__.py")
    (folder / "exercises" / "mathy.py").write_text(mathy, encoding="utf-8")
    if progress is not None:
        (folder / ".tinygrad-learn").mkdir()
        document = {"schema_version": 1, "checkpoints": progress}
        (folder / ".tinygrad-learn" / "progress.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    return folder


def claims(*ids: str, hints: tuple[int, ...] = (), peeked: bool = False) -> dict[str, Any]:
    entry: dict[str, Any] = {"status": "passed", "attempts": 3}
    if hints:
        entry["hints_used"] = list(hints)
    if peeked:
        entry["peeked"] = True
    return {checkpoint: dict(entry) for checkpoint in ids}


# -- published shapes ---------------------------------------------------------------------------

VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def check_gradescope(document: dict[str, Any]) -> None:
    """Gradescope autograder specification: results.json."""
    assert isinstance(document.get("score"), (int, float)) or all("score" in test for test in document["tests"])
    assert isinstance(document.get("execution_time", 0), int)
    assert isinstance(document.get("output", ""), str)
    assert document.get("visibility", "visible") in VISIBILITY
    assert isinstance(document.get("extra_data", {}), dict)
    for test in document.get("tests", []):
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
        assert 0 <= test["score"] <= test["max_score"]
        assert test.get("status", "passed") in {"passed", "failed"}
        assert isinstance(test.get("name", ""), str) and isinstance(test.get("number", ""), str)
        assert isinstance(test.get("output", ""), str)
        assert test.get("visibility", "visible") in VISIBILITY
    for entry in document.get("leaderboard", []):
        assert isinstance(entry["name"], str) and isinstance(entry["value"], (int, float, str))
        assert entry.get("order", "desc") in {"asc", "desc"}


def check_exercism(document: dict[str, Any], suite_order: list[str]) -> None:
    """Exercism test-runner interface, results.json version 3 (tests in test-file order)."""
    assert document["version"] == 3
    assert document["status"] in {"pass", "fail", "error"}
    if document["status"] == "error":
        assert isinstance(document["message"], str) and document["message"]
        assert len(document["message"]) <= 65535
        return
    assert document.get("message") is None
    tests = document["tests"]
    assert [test["name"] for test in tests] == suite_order
    for test in tests:
        assert set(test) <= {"name", "status", "message", "output", "test_code", "task_id"}
        assert isinstance(test["name"], str) and test["status"] in {"pass", "fail", "error"}
        assert test["message"] is None or isinstance(test["message"], str)
        assert test["output"] is None or (isinstance(test["output"], str) and len(test["output"]) <= 500)
        assert isinstance(test["test_code"], str)
        assert isinstance(test["task_id"], int) and test["task_id"] >= 1
        if test["status"] != "pass":
            assert test["message"]
    overall = "pass" if all(test["status"] == "pass" for test in tests) else "fail"
    assert document["status"] == overall


CLASSROOM50_KEYS = {
    "schema", "classroom", "assignment", "submission", "commit", "release", "review", "datetime", "score", "max-score",
    "tests",
}  # fmt: skip


def check_classroom50(document: dict[str, Any]) -> None:
    """Classroom 50's result.json contract (classroom50/result/v1); owner and assignment_type come from its runner."""
    assert CLASSROOM50_KEYS <= set(document) <= CLASSROOM50_KEYS | {"owner", "assignment_type", "graded_at"}
    assert document["schema"] == "classroom50/result/v1"
    for key in ("classroom", "assignment", "submission", "commit", "release", "review", "datetime"):
        assert isinstance(document[key], str)
    assert isinstance(document["score"], int) and isinstance(document["max-score"], int)
    assert document["score"] == sum(test["score"] for test in document["tests"])
    assert document["max-score"] == sum(test["max-score"] for test in document["tests"])
    for test in document["tests"]:
        assert isinstance(test["test-name"], str) and test["test-name"]
        assert isinstance(test["passed"], bool)
        assert isinstance(test["score"], int) and isinstance(test["max-score"], int)


def check_junit(text: str) -> ElementTree.Element:
    """The JUnit XML elements every CI reader relies on, with counts that agree with the cases."""
    root = ElementTree.fromstring(text)
    assert root.tag == "testsuites"
    total = {"tests": 0, "failures": 0, "errors": 0}
    for suite in root:
        assert suite.tag == "testsuite" and suite.get("name")
        cases = suite.findall("testcase")
        counts = {
            "tests": len(cases),
            "failures": sum(case.find("failure") is not None for case in cases),
            "errors": sum(case.find("error") is not None for case in cases),
        }
        for key, value in counts.items():
            assert int(suite.get(key, "-1")) == value, (suite.get("name"), key)
            total[key] += value
        float(suite.get("time", "0"))
        for case in cases:
            assert case.get("name") and case.get("classname")
            for outcome in case:
                assert outcome.tag in {"failure", "error", "skipped", "system-out", "system-err"}
                if outcome.tag in {"failure", "error"}:
                    assert outcome.get("message") is not None
    for key, value in total.items():
        assert int(root.get(key, "-1")) == value
    return root
