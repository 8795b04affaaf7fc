"""The result files of `grade`, all made from one `ClassGrade` (documented in docs/grading-formats.md).

Class-wide formats (csv, json, junit) give one document for the whole run; the platform formats
(exercism, gradescope, classroom50) describe one submission each, as their platforms expect.
Every format carries its version, so a gradebook script can tell what it reads.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timezone
from typing import Any

from ..i18n import Translator
from ..runner import TestOutcome
from ..verdict import custom_message, inline
from .grade import CheckpointGrade, ClassGrade, StudentGrade

JSON_FORMAT_VERSION = 1
CSV_FORMAT_VERSION = 1
JUNIT_FORMAT_VERSION = 1
GRADESCOPE_FORMAT_VERSION = 1
EXERCISM_SPEC_VERSION = 3
CLASSROOM50_SCHEMA = "classroom50/result/v1"
EXERCISM_MESSAGE_LIMIT = 65535
# Characters XML 1.0 cannot hold at all: a student's message with one would make the report unreadable.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def test_message(test: TestOutcome, t: Translator) -> str:
    """One failed check in plain words, in the report's language."""
    failure = test.failure
    if failure is None:
        key = {"skipped": "failure.skipped", "xfailed": "failure.xfailed", "missing": "failure.missing_test"}
        return t(key.get(test.outcome, "failure.error"), message="")
    params = failure.get("params") or {}
    kind = str(failure.get("key", ""))
    if kind == "exception":
        return t("failure.raised", type=params.get("type", "Exception"), message=params.get("message", ""))
    if kind == "custom":
        return custom_message(params, t.language)
    if kind == "tampered":
        return t("integrity.failure.tampered", **params)
    return t(f"failure.{kind}", **{k: inline(v) for k, v in params.items()})


def first_failure(grade: CheckpointGrade, t: Translator) -> str | None:
    """What a teacher needs to see first: the run's own problem, else the first failed check."""
    result = grade.result
    if result.passed:
        return None
    if result.problem:
        params: dict[str, Any] = {"limit": grade.checkpoint.time_limit, "signal": 0, "message": "", "exit_code": None}
        params.update({k: v for k, v in result.problem_detail.items() if k != "params"})
        params.setdefault("limit_mb", 0)
        params.setdefault("names", "")
        for key in (f"problem.{result.problem}", f"integrity.problem.{result.problem}"):
            text = t(key, **params)
            if text != key:
                return text
        return result.problem
    failed = result.failed_tests
    return f"{failed[0].name}: {test_message(failed[0], t)}" if failed else t("failure.error")


def student_flags(student: StudentGrade, t: Translator) -> list[str]:
    flags = []
    if student.problem:
        flags.append(t("instructor.flag_unreadable", problem=student.problem))
    if student.edited_files:
        flags.append(t("instructor.flag_edited", files=", ".join(student.edited_files)))
    if student.claimed_but_failed:
        flags.append(t("instructor.flag_claimed", ids=", ".join(student.claimed_but_failed)))
    if student.course_version_differs:
        flags.append(t("instructor.flag_course_version", version=student.submitted_course_version or "?"))
    if student.progress_damaged:
        flags.append(t("instructor.flag_progress_damaged"))
    return flags


def _top_medal(student: StudentGrade) -> str:
    return student.medals[-1] if student.medals else ""


# -- class-wide formats -------------------------------------------------------------------------


def json_report(grade: ClassGrade, t: Translator) -> dict[str, Any]:
    return {
        "format": "tinygrad-learn-grade",
        "format_version": JSON_FORMAT_VERSION,
        "tool_version": grade.tool_version,
        "course_version": grade.course_version,
        "seed": grade.seed,
        "checkpoints": [checkpoint.id for checkpoint in grade.checkpoints],
        "students": [
            {
                "name": student.name,
                "source": student.source.name,
                "problem": student.problem,
                "edited_files": list(student.edited_files),
                "submitted_course_version": student.submitted_course_version,
                "course_version_differs": student.course_version_differs,
                "progress_damaged": student.progress_damaged,
                "claimed_but_failed": list(student.claimed_but_failed),
                "passed": student.passed_count,
                "total": len(grade.checkpoints),
                "medals": list(student.medals),
                "flags": student_flags(student, t),
                "results": [_checkpoint_json(item, t) for item in student.checkpoints],
            }
            for student in grade.students
        ],
    }


def _checkpoint_json(item: CheckpointGrade, t: Translator) -> dict[str, Any]:
    """The fields of `check --json` for one checkpoint, plus what the student's own progress said."""
    return {
        "id": item.checkpoint.id,
        "passed": item.passed,
        "claimed": item.claimed,
        "claimed_but_failed": item.claimed_but_failed,
        "seed": item.result.seed,
        "duration": round(item.result.duration, 3),
        "problem": item.result.problem,
        "first_failure": first_failure(item, t),
        "attempts": item.entry.attempts,
        "hints_used": list(item.entry.hints_used),
        "peeked": item.entry.peeked,
        "tests": [{"name": test.name, "outcome": test.outcome, "failure": test.failure} for test in item.result.tests],
    }


def csv_report(grade: ClassGrade, t: Translator) -> str:
    """One row a student, one column a checkpoint (1 passed, 0 not), then totals and flags."""
    ids = [checkpoint.id for checkpoint in grade.checkpoints]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *ids, "passed", "total", "medal", "hints_used", "solutions_peeked", "flags"])
    for student in grade.students:
        by_id = {item.checkpoint.id: item for item in student.checkpoints}
        writer.writerow(
            [
                student.name,
                *(int(by_id[i].passed) if i in by_id else 0 for i in ids),
                student.passed_count,
                len(ids),
                _top_medal(student),
                sum(len(item.entry.hints_used) for item in student.checkpoints),
                sum(item.entry.peeked for item in student.checkpoints),
                "; ".join(student_flags(student, t)),
            ]
        )
    return buffer.getvalue()


def junit_report(grade: ClassGrade, t: Translator) -> str:
    """JUnit XML: one testsuite per student and checkpoint, one testcase per check."""
    root = ElementTree.Element("testsuites", name="tinygrad-learn grade")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for student in grade.students:
        if student.problem:
            suite = _suite(root, student.name, "submission", 1, 0, 1, 0.0)
            name = _xml_text(student.name)
            case = ElementTree.SubElement(suite, "testcase", classname=name, name="submission", time="0")
            problem = _xml_text(student.problem)
            ElementTree.SubElement(case, "error", message=problem, type="unreadable").text = problem
            totals["tests"] += 1
            totals["errors"] += 1
            continue
        for item in student.checkpoints:
            tests = item.result.tests
            errors = 0 if tests else 1
            failures = sum(test.outcome != "passed" for test in tests)
            suite = _suite(
                root, student.name, item.checkpoint.id, max(1, len(tests)), failures, errors, item.result.duration
            )
            properties = ElementTree.SubElement(suite, "properties")
            for key, value in (
                ("format-version", JUNIT_FORMAT_VERSION),
                ("seed", item.result.seed),
                ("claimed", str(item.claimed).lower()),
                ("claimed-but-failed", str(item.claimed_but_failed).lower()),
                ("hints-used", len(item.entry.hints_used)),
                ("solution-peeked", str(item.entry.peeked).lower()),
            ):
                ElementTree.SubElement(properties, "property", name=key, value=str(value))
            classname = _xml_text(f"{student.name}.{item.checkpoint.id}")
            for test in tests:
                case = ElementTree.SubElement(suite, "testcase", classname=classname, name=test.name, time="0")
                if test.outcome != "passed":
                    message = _xml_text(test_message(test, t))
                    ElementTree.SubElement(case, "failure", message=message, type=test.outcome).text = message
            if not tests:
                message = _xml_text(first_failure(item, t) or "")
                case = ElementTree.SubElement(suite, "testcase", classname=classname, name="run", time="0")
                ElementTree.SubElement(
                    case, "error", message=message, type=item.result.problem or "error"
                ).text = message
            totals["tests"] += max(1, len(tests))
            totals["failures"] += failures
            totals["errors"] += errors
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{grade.duration:.3f}")
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _xml_text(text: str) -> str:
    return NOT_XML.sub("\ufffd", text)


def _suite(
    root: ElementTree.Element, student: str, name: str, tests: int, failures: int, errors: int, duration: float
) -> ElementTree.Element:
    return ElementTree.SubElement(
        root,
        "testsuite",
        name=_xml_text(f"{student}/{name}"),
        tests=str(tests),
        failures=str(failures),
        errors=str(errors),
        skipped="0",
        time=f"{duration:.3f}",
    )


# -- one submission each ------------------------------------------------------------------------


def exercism_report(student: StudentGrade, t: Translator) -> dict[str, Any]:
    """Exercism's test-runner results.json, version 3: each checkpoint is a task, in course order."""
    if student.problem:
        return {
            "version": EXERCISM_SPEC_VERSION,
            "status": "error",
            "message": student.problem[:EXERCISM_MESSAGE_LIMIT],
        }
    tests = []
    ran_any = False
    for task_id, item in enumerate(student.checkpoints, start=1):
        outcomes = item.result.tests or (TestOutcome("run", "error"),)
        ran_any = ran_any or bool(item.result.tests)
        for test in outcomes:
            status = "pass" if test.outcome == "passed" else "fail" if test.outcome == "failed" else "error"
            message = None
            if status != "pass":
                message = test_message(test, t) if item.result.tests else first_failure(item, t)
            tests.append(
                {
                    "name": f"{item.checkpoint.id}: {test.name}",
                    "status": status,
                    "message": message,
                    # What a run prints can quote the hidden suite, so none of it is shown to students.
                    "output": None,
                    "test_code": f"{item.checkpoint.suite}::{test.name}",
                    "task_id": task_id,
                }
            )
    if not ran_any:
        problems = "; ".join(first_failure(item, t) or "" for item in student.checkpoints)
        return {"version": EXERCISM_SPEC_VERSION, "status": "error", "message": problems[:EXERCISM_MESSAGE_LIMIT]}
    status = "pass" if all(test["status"] == "pass" for test in tests) else "fail"
    return {"version": EXERCISM_SPEC_VERSION, "status": status, "message": None, "tests": tests}


def gradescope_report(student: StudentGrade, t: Translator) -> dict[str, Any]:
    """Gradescope's results.json: one test (worth 1) per checkpoint, flags in the overall output."""
    tests = [
        {
            "name": f"{item.checkpoint.id}: {item.checkpoint.title.get(t.language)}",
            "number": str(number),
            "score": 1.0 if item.passed else 0.0,
            "max_score": 1.0,
            "status": "passed" if item.passed else "failed",
            "output": first_failure(item, t) or t("instructor.passed"),
            "visibility": "visible",
        }
        for number, item in enumerate(student.checkpoints, start=1)
    ]
    flags = student_flags(student, t)
    output = t("instructor.summary", passed=student.passed_count, total=len(student.checkpoints))
    return {
        "score": float(student.passed_count),
        "execution_time": round(sum(item.result.duration for item in student.checkpoints)),
        "output": "\n".join([output, *flags]),
        "visibility": "visible",
        "extra_data": {
            "format_version": GRADESCOPE_FORMAT_VERSION,
            "medals": list(student.medals),
            "claimed_but_failed": list(student.claimed_but_failed),
            "edited_files": list(student.edited_files),
        },
        "tests": tests,
        "leaderboard": [{"name": "Checkpoints passed", "value": student.passed_count}],
    }


def classroom50_report(student: StudentGrade, t: Translator) -> dict[str, Any]:
    """Classroom 50's result.json (classroom50/result/v1); identity comes from the runner's environment."""
    commit = os.environ.get("COMMIT_URL", "")
    tests = [
        {
            "test-name": item.checkpoint.id,
            "passed": item.passed,
            "score": int(item.passed),
            "max-score": 1,
            # Extra fields on a test are kept by Classroom 50 as diagnostics.
            "message": first_failure(item, t) or "",
            "claimed-but-failed": item.claimed_but_failed,
        }
        for item in student.checkpoints
    ]
    return {
        "schema": CLASSROOM50_SCHEMA,
        "classroom": os.environ.get("CLASSROOM", ""),
        "assignment": os.environ.get("ASSIGNMENT", ""),
        "submission": os.environ.get("SUBMISSION_TAG", ""),
        "commit": commit,
        "release": os.environ.get("RELEASE_URL", ""),
        "review": os.environ.get("REVIEW_URL") or commit,
        "datetime": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "score": sum(test["score"] for test in tests),
        "max-score": len(tests),
        "tests": tests,
    }


STUDENT_RENDERERS = {"exercism": exercism_report, "gradescope": gradescope_report, "classroom50": classroom50_report}


def render(fmt: str, grade: ClassGrade, language: str) -> dict[str, str]:
    """The documents of one format: {"": text} for a class-wide format, {student: text} for the others."""
    t = Translator(language)
    if fmt == "csv":
        return {"": csv_report(grade, t)}
    if fmt == "json":
        return {"": json.dumps(json_report(grade, t), indent=2, ensure_ascii=False) + "\n"}
    if fmt == "junit":
        return {"": junit_report(grade, t)}
    renderer = STUDENT_RENDERERS[fmt]
    return {
        student.name: json.dumps(renderer(student, t), indent=2, ensure_ascii=False) + "\n"
        for student in grade.students
    }
