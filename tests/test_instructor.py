"""Instructor mode end to end: submit, grade a class (hostile submissions included), every format."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import run_cli
from tests.instructor_kit import (
    CRASH,
    ENDLESS,
    FORK_TEMPLATE,
    HALF,
    MEMORY_BOMB,
    SOLVED,
    STUB,
    check_classroom50,
    check_exercism,
    check_gradescope,
    check_junit,
    claims,
    fast_course,
    make_workspace,
)
from tinygrad_learn.instructor import grade
from tinygrad_learn.sandbox_warm import WarmGrader


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = fast_course(tmp_path)
    monkeypatch.setenv("TINYGRAD_LEARN_COURSE", str(folder))
    return folder


def grade_json(cli: CliRunner, *args: str) -> dict[str, Any]:
    result = run_cli(cli, "grade", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def verdicts(document: dict[str, Any]) -> dict[str, dict[str, bool]]:
    return {s["name"]: {r["id"]: r["passed"] for r in s["results"]} for s in document["students"]}


def submit(cli: CliRunner, workspace: Path, target: Path) -> Path:
    result = run_cli(cli, "--workspace", str(workspace), "submit", "--output", str(target))
    assert result.exit_code == 0, result.output
    return target


# -- submit -------------------------------------------------------------------------------------


def test_submit_is_deterministic_and_holds_only_exercises_and_progress(
    course: Path, tmp_path: Path, cli: CliRunner
) -> None:
    workspace = make_workspace(tmp_path / "alice", SOLVED, claims("alpha", hints=(1, 2)))
    (workspace / "notes.txt").write_text("private")
    (workspace / "exercises" / "__pycache__").mkdir()
    (workspace / "exercises" / "__pycache__" / "mathy.cpython-312.pyc").write_bytes(b"\0")
    first = submit(cli, workspace, tmp_path / "one" / "alice.zip")
    os.utime(workspace / "exercises" / "mathy.py", (1, 1))  # a touched file is the same work
    second = submit(cli, workspace, tmp_path / "two" / "alice.zip")
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        names = sorted(archive.namelist())
        manifest = json.loads(archive.read("submission.json"))
    assert names == [".tinygrad-learn/progress.yaml", "exercises/__init__.py", "exercises/mathy.py", "submission.json"]
    assert set(manifest["files"]) == set(names) - {"submission.json"}
    assert manifest["format_version"] == 1 and manifest["tool_version"] and manifest["course_version"]
    (workspace / "exercises" / "mathy.py").write_text(HALF)
    assert submit(cli, workspace, tmp_path / "three" / "alice.zip").read_bytes() != first.read_bytes()


def test_submit_outside_a_workspace_is_a_usage_error(course: Path, tmp_path: Path, cli: CliRunner) -> None:
    result = run_cli(cli, "--workspace", str(tmp_path), "submit")
    assert result.exit_code == 2 and "Traceback" not in result.output


# -- grade: a class with every kind of submission -----------------------------------------------


def _rewrite_member(bundle: Path, name: str, data: bytes) -> None:
    with zipfile.ZipFile(bundle) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[name] = data
    with zipfile.ZipFile(bundle, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its parent is gone for every purpose that matters here
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@pytest.mark.long
def test_a_class_with_hostile_submissions_gets_the_right_verdicts(course: Path, tmp_path: Path, cli: CliRunner) -> None:
    pid_file = tmp_path / "forked.pids"
    room = tmp_path / "class"
    make_workspace(room / "solved", SOLVED, claims("alpha", "beta", hints=(1,)))
    make_workspace(room / "stub", STUB)
    make_workspace(room / "half", HALF, claims("alpha"))
    make_workspace(room / "forger", STUB, claims("alpha", "beta"))
    make_workspace(room / "endless", ENDLESS)
    make_workspace(room / "hog", MEMORY_BOMB)
    make_workspace(room / "crash", CRASH)
    make_workspace(room / "forker", FORK_TEMPLATE.format(pid_file=str(pid_file)))
    (room / "corrupt.zip").write_bytes(b"PK\x03\x04 this is not a zip at all")
    peeker = make_workspace(tmp_path / "peeker", HALF, claims("alpha", peeked=True))
    submit(cli, peeker, room / "peeker.zip")
    editor = make_workspace(tmp_path / "editor", STUB)
    _rewrite_member(submit(cli, editor, room / "editor.zip"), "exercises/mathy.py", SOLVED.encode())

    document = grade_json(cli, str(room), "--workers", "2", "--seed", "7")
    by_name = {student["name"]: student for student in document["students"]}
    assert verdicts(document) == {
        "corrupt": {},
        "crash": {"alpha": False, "beta": False},
        "editor": {"alpha": True, "beta": True},
        "endless": {"alpha": False, "beta": False},
        "forger": {"alpha": False, "beta": False},
        "forker": {"alpha": False, "beta": False},  # the course refuses `import os`: none of it runs
        "half": {"alpha": True, "beta": False},
        "hog": {"alpha": False, "beta": True},
        "peeker": {"alpha": True, "beta": False},
        "solved": {"alpha": True, "beta": True},
        "stub": {"alpha": False, "beta": False},
    }
    assert by_name["forger"]["claimed_but_failed"] == ["alpha", "beta"]
    assert all(by_name[name]["claimed_but_failed"] == [] for name in by_name if name != "forger")
    assert by_name["editor"]["edited_files"] == ["exercises/mathy.py"]
    assert by_name["peeker"]["edited_files"] == []
    assert "not a readable zip" in by_name["corrupt"]["problem"]
    assert {r["problem"] for r in by_name["endless"]["results"]} == {"timeout"}
    assert by_name["solved"]["medals"] == ["bronze", "silver"] and by_name["half"]["medals"] == ["bronze"]
    assert by_name["solved"]["results"][0]["hints_used"] == [1]
    assert by_name["peeker"]["results"][0]["peeked"] is True
    assert by_name["stub"]["results"][0]["first_failure"].startswith("test_double: NotImplementedError")
    # What the forked child left running was killed with its run.
    pids = [int(line) for line in pid_file.read_text().split()] if pid_file.exists() else []
    deadline = time.monotonic() + 5
    while any(map(_alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [pid for pid in pids if _alive(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert survivors == []


@pytest.mark.skipif(os.name != "posix", reason="pipes and links as a POSIX system makes them")
@pytest.mark.parametrize("trick", ["link out of the submission", "pipe"])
def test_a_file_the_tool_refuses_to_read_fails_that_student_only(
    course: Path, tmp_path: Path, cli: CliRunner, trick: str
) -> None:
    """A cloned repository can hold a link to any file of the machine grading it; a folder can hold
    a pipe. Reading either is refused, which must fail that one student, not the class."""
    room = tmp_path / "room"
    make_workspace(room / "a-solved", SOLVED)
    mathy = make_workspace(room / "b-tricky", SOLVED) / "exercises" / "mathy.py"
    mathy.unlink()
    if trick == "pipe":
        os.mkfifo(mathy)
    else:
        secret = tmp_path / "secret.py"
        secret.write_text(SOLVED, encoding="utf-8")
        mathy.symlink_to(secret)
    make_workspace(room / "c-solved", SOLVED)
    document = grade_json(cli, str(room), "--workers", "2")
    by_name = {student["name"]: student for student in document["students"]}
    assert verdicts(document) == {
        "a-solved": {"alpha": True, "beta": True},
        "b-tricky": {},
        "c-solved": {"alpha": True, "beta": True},
    }
    assert "exercises/mathy.py" in by_name["b-tricky"]["problem"], by_name["b-tricky"]["problem"]


def test_the_checkpoints_of_one_slow_submission_are_shared_among_the_workers(
    course: Path, tmp_path: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A submission that loops in every checkpoint takes each one's whole time limit: with two
    workers, its checkpoints run side by side instead of one after the other on one worker."""
    make_workspace(tmp_path / "room" / "endless", ENDLESS)
    threads: list[str] = []
    real_run = grade.run_checkpoint

    def recording_run(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(grade, "run_checkpoint", recording_run)
    document = grade_json(cli, str(tmp_path / "room"), "--workers", "2")
    assert verdicts(document) == {"endless": {"alpha": False, "beta": False}}
    assert len(threads) == 2 and len(set(threads)) == 2, threads


def test_a_worker_with_several_checkpoints_of_a_submission_forks_them_from_a_warm_process(
    course: Path, tmp_path: Path, cli: CliRunner, warm_processes: list[WarmGrader | None]
) -> None:
    room = tmp_path / "room"
    make_workspace(room / "half", HALF)
    make_workspace(room / "solved", SOLVED)
    document = grade_json(cli, str(room), "--workers", "1", "--seed", "5")
    assert verdicts(document) == {"half": {"alpha": True, "beta": False}, "solved": {"alpha": True, "beta": True}}
    # One warm process for each submission, which never imports another's code; all stopped at the end.
    assert len(warm_processes) == 2 and None not in warm_processes
    assert all(grader.forked == 2 and not grader.alive for grader in warm_processes if grader)
    assert all(grader.process.returncode is not None for grader in warm_processes if grader)


def test_same_seed_repeats_a_run_and_fresh_seeds_differ(course: Path, tmp_path: Path, cli: CliRunner) -> None:
    make_workspace(tmp_path / "room" / "solved", SOLVED)
    seeds = [
        [r["seed"] for r in grade_json(cli, str(tmp_path / "room"), *args)["students"][0]["results"]]
        for args in (("--seed", "5"), ("--seed", "5"), ())
    ]
    assert seeds[0] == seeds[1] != seeds[2]


def test_a_bundle_from_another_course_version_is_graded_and_flagged(
    course: Path, tmp_path: Path, cli: CliRunner
) -> None:
    bundle = submit(cli, make_workspace(tmp_path / "old", SOLVED), tmp_path / "room" / "old.zip")
    (course / "checkpoints.yaml").write_text((course / "checkpoints.yaml").read_text() + "\n# revised\n")
    student = grade_json(cli, str(bundle))["students"][0]
    assert student["course_version_differs"] is True and student["passed"] == 2
    assert any("course version" in flag for flag in student["flags"])


def test_submit_then_grade_agrees_with_check_all(course: Path, tmp_path: Path, cli: CliRunner) -> None:
    workspace = make_workspace(tmp_path / "carol", HALF, {})
    checked = run_cli(cli, "--workspace", str(workspace), "check", "--all", "--json")
    expected = {r["id"]: r["passed"] for r in json.loads(checked.stdout)["results"]}
    bundle = submit(cli, workspace, tmp_path / "carol.zip")
    student = grade_json(cli, str(bundle))["students"][0]
    assert {r["id"]: r["passed"] for r in student["results"]} == expected == {"alpha": True, "beta": False}
    assert student["claimed_but_failed"] == [] and student["edited_files"] == []


def test_checkpoints_option_restricts_the_run(course: Path, tmp_path: Path, cli: CliRunner) -> None:
    make_workspace(tmp_path / "room" / "solved", SOLVED)
    document = grade_json(cli, str(tmp_path / "room"), "--only", "alpha")
    assert document["checkpoints"] == ["alpha"] and verdicts(document) == {"solved": {"alpha": True}}


@pytest.mark.parametrize(
    "args",
    [
        ("nowhere",),
        ("empty",),
        ("room", "--format", "gradescope"),
        ("room", "--only", "gamma"),
        ("room", "--report", "x"),
        ("room", "--output", "table.txt"),
    ],
)
def test_grading_that_cannot_run_exits_2(course: Path, tmp_path: Path, cli: CliRunner, args: tuple[str, ...]) -> None:
    (tmp_path / "empty").mkdir()
    make_workspace(tmp_path / "room" / "a", SOLVED)
    make_workspace(tmp_path / "room" / "b", STUB)
    result = run_cli(cli, "grade", *(str(tmp_path / a) if i == 0 else a for i, a in enumerate(args)))
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_the_table_names_failures_and_flags(course: Path, tmp_path: Path, cli: CliRunner) -> None:
    make_workspace(tmp_path / "room" / "forger", STUB, claims("alpha"))
    result = run_cli(cli, "grade", str(tmp_path / "room"))
    assert result.exit_code == 0
    assert "x!" in result.stdout and "progress claims a pass that the re-grade refutes: alpha" in result.stdout
    assert "NotImplementedError" in result.stdout
    korean = run_cli(cli, "--lang", "ko", "grade", str(tmp_path / "room"))
    assert "진행 기록은 통과라고 하지만" in korean.stdout


# -- formats: one run, every published shape ----------------------------------------------------


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run of a small class, every format written from it (once for all the format tests)."""
    folder = tmp_path_factory.mktemp("graded-class")
    room = folder / "room"
    make_workspace(room / "solved", SOLVED)
    make_workspace(room / "forger", STUB, claims("alpha"))
    make_workspace(room / "half", HALF)
    (room / "corrupt.zip").write_bytes(b"garbage")
    out = folder / "out"
    reports = [f"{fmt}:{out / fmt}" for fmt in ("csv", "json", "junit", "exercism", "gradescope", "classroom50")]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TINYGRAD_LEARN_COURSE", str(fast_course(folder)))
        patch.chdir(folder)
        arguments = ("grade", str(room), "--seed", "3", *(a for r in reports for a in ("--report", r)))
        result = run_cli(CliRunner(), *arguments)
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.xdist_group("graded_class")
def test_csv_is_one_row_per_student_and_a_column_per_checkpoint(graded_class: Path) -> None:
    rows = list(csv.DictReader(io.StringIO((graded_class / "csv").read_text())))
    assert [row["student"] for row in rows] == ["corrupt", "forger", "half", "solved"]
    assert {row["student"]: (row["alpha"], row["beta"], row["passed"]) for row in rows}["half"] == ("1", "0", "1")
    assert rows[-1]["medal"] == "silver" and "alpha" in rows[1]["flags"]


@pytest.mark.xdist_group("graded_class")
def test_json_is_the_documented_contract(graded_class: Path) -> None:
    document = json.loads((graded_class / "json").read_text())
    assert document["format"] == "tinygrad-learn-grade" and document["format_version"] == 1
    assert document["seed"] == 3 and document["checkpoints"] == ["alpha", "beta"]


@pytest.mark.xdist_group("graded_class")
def test_junit_follows_the_junit_xml_elements(graded_class: Path) -> None:
    root = check_junit((graded_class / "junit").read_text())
    names = [suite.get("name") for suite in root]
    assert "half/alpha" in names and "corrupt/submission" in names
    half_beta = root.find("testsuite[@name='half/beta']")
    assert half_beta is not None and half_beta.get("failures") == "1"


@pytest.mark.xdist_group("graded_class")
def test_exercism_results_follow_version_3(graded_class: Path) -> None:
    order = ["alpha: test_double", "alpha: test_double_zero", "beta: test_square"]
    for name in ("solved", "forger", "half"):
        check_exercism(json.loads((graded_class / "exercism" / f"{name}.json").read_text()), order)
    assert json.loads((graded_class / "exercism" / "solved.json").read_text())["status"] == "pass"
    assert json.loads((graded_class / "exercism" / "half.json").read_text())["status"] == "fail"
    corrupt = json.loads((graded_class / "exercism" / "corrupt.json").read_text())
    check_exercism(corrupt, [])
    assert corrupt["status"] == "error"


@pytest.mark.xdist_group("graded_class")
def test_gradescope_results_follow_the_autograder_specification(graded_class: Path) -> None:
    for name in ("solved", "forger", "half", "corrupt"):
        check_gradescope(json.loads((graded_class / "gradescope" / f"{name}.json").read_text()))
    forger = json.loads((graded_class / "gradescope" / "forger.json").read_text())
    assert forger["score"] == 0 and "refutes" in forger["output"]
    assert json.loads((graded_class / "gradescope" / "solved.json").read_text())["score"] == 2


@pytest.mark.xdist_group("graded_class")
def test_classroom50_results_follow_result_v1(graded_class: Path) -> None:
    for name in ("solved", "forger", "half", "corrupt"):
        check_classroom50(json.loads((graded_class / "classroom50" / f"{name}.json").read_text()))
    half = json.loads((graded_class / "classroom50" / "half.json").read_text())
    assert (half["score"], half["max-score"]) == (1, 2)


def test_a_student_build_without_solutions_grades_and_withholds_solutions(
    course: Path, tmp_path: Path, cli: CliRunner
) -> None:
    import shutil

    shutil.rmtree(course / "solutions")
    workspace = make_workspace(tmp_path / "dana", HALF, claims("alpha"))
    result = run_cli(cli, "--workspace", str(workspace), "solution", "alpha")
    assert result.exit_code == 2 and "without its reference solutions" in result.output
    assert run_cli(cli, "--lang", "ko", "--workspace", str(workspace), "solution", "beta", "--peek").exit_code == 2
    assert verdicts(grade_json(cli, str(workspace))) == {"dana": {"alpha": True, "beta": False}}


def _zip(path: Path, members: dict[str, bytes], symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            if name == symlink:
                info.external_attr = (0o120777) << 16
            archive.writestr(info, data)
    return path


def test_hostile_bundles_are_refused_without_touching_anything_else(
    course: Path, tmp_path: Path, cli: CliRunner
) -> None:
    room = tmp_path / "room"
    room.mkdir()
    manifest = json.dumps({"format": "tinygrad-learn-submission", "files": {}}).encode()
    good = {"submission.json": manifest, "exercises/__init__.py": b"", "exercises/mathy.py": SOLVED.encode()}
    _zip(room / "climber.zip", {**good, "exercises/../../escaped.py": b"x = 1\n"})
    _zip(room / "absolute.zip", {**good, "/tmp/absolute.py": b"x = 1\n"})
    _zip(room / "outsider.zip", {**good, "setup.py": b"x = 1\n"})
    _zip(room / "linker.zip", {**good, "exercises/link.py": b"/etc/passwd"}, symlink="exercises/link.py")
    _zip(room / "bomb.zip", {**good, "exercises/big.py": b"0" * (17 * 1024**2)})
    _zip(room / "nomanifest.zip", {"exercises/mathy.py": SOLVED.encode()})
    # A correct engine laid out differently (a package of its own under exercises/) is let through.
    _zip(room / "nested.zip", {**good, "exercises/helpers/__init__.py": b"", "exercises/helpers/more.py": b"y = 2\n"})
    document = grade_json(cli, str(room))
    by_name = {student["name"]: student for student in document["students"]}
    for name in ("climber", "absolute", "outsider", "linker", "bomb", "nomanifest"):
        assert by_name[name]["problem"] and by_name[name]["results"] == [], name
    assert by_name["nested"]["problem"] is None and by_name["nested"]["passed"] == 2
    assert set(by_name["nested"]["edited_files"]) == {
        "exercises/__init__.py",
        "exercises/mathy.py",
        "exercises/helpers/__init__.py",
        "exercises/helpers/more.py",
    }  # a manifest that lists no hashes proves nothing
    assert not (tmp_path / "escaped.py").exists() and not Path("/tmp/absolute.py").exists()


def test_junit_stays_readable_whatever_the_students_code_says(course: Path, tmp_path: Path, cli: CliRunner) -> None:
    noisy = (
        "def double(x):\n    raise ValueError('bell \\x07 nul \\x00 <tag> & \"quote\"')\n\n\n"
        + "def square(x):\n    return x * x\n"
    )
    make_workspace(tmp_path / "room" / "noisy", noisy)
    result = run_cli(cli, "grade", str(tmp_path / "room"), "--format", "junit")
    assert result.exit_code == 0
    root = check_junit(result.stdout)
    failure = root.find(".//failure")
    assert failure is not None and '<tag> & "quote"' in (failure.get("message") or "")
