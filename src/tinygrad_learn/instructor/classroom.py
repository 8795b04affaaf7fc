"""Platform wiring written by `classroom init`: a GitHub Actions workflow, a GitLab CI file, or a
Gradescope autograder zip, each of which installs this version of the tool and runs `grade`.

Every platform grades the same way: the student's repository (or upload) is a workspace or a
bundle, `grade` re-grades it in the sandbox with fresh seeds, and the platform gets its own report.
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..errors import TinygradLearnError
from .bundle import FIXED_TIME

PACKAGE = f"tinygrad-learn=={__version__}"
JUNIT_FILE = "tinygrad-learn-junit.xml"
JSON_FILE = "tinygrad-learn-grade.json"
SUMMARY_FILE = "tinygrad-learn-summary.txt"
GRADE_COMMAND = f"tinygrad-learn grade . --format table --report junit:{JUNIT_FILE} --report json:{JSON_FILE}"

GITHUB_WORKFLOW = f"""\
# Grades this repository with tinygrad-learn on every push: fresh random values, in a sandbox,
# on GitHub's own runners. Written by `tinygrad-learn classroom init --platform github`.
name: tinygrad-learn grade
on: [push, workflow_dispatch]
permissions:
  contents: read
  checks: write
jobs:
  grade:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    env:
      TINYGRAD_LEARN_PACKAGE: "{PACKAGE}"
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
          cache: pip
          cache-dependency-path: .github/workflows/tinygrad-learn.yml
      - name: Install tinygrad-learn
        id: install
        run: python -m pip install "$TINYGRAD_LEARN_PACKAGE"
      - name: Grade
        id: grade
        run: |
          {GRADE_COMMAND} > {SUMMARY_FILE}
          cat {SUMMARY_FILE}
          {{ echo '```'; cat {SUMMARY_FILE}; echo '```'; }} >> "${{GITHUB_STEP_SUMMARY:-/dev/null}}"
      - name: Publish the JUnit report
        if: always()
        uses: mikepenz/action-junit-report@v5
        with:
          report_paths: {JUNIT_FILE}
      - name: Keep the reports
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: tinygrad-learn-grade
          path: |
            {JUNIT_FILE}
            {JSON_FILE}
            {SUMMARY_FILE}
"""

GITLAB_CI = f"""\
# Grades this repository with tinygrad-learn on every push: fresh random values, in a sandbox,
# on GitLab's runners. Written by `tinygrad-learn classroom init --platform gitlab`.
tinygrad-learn-grade:
  image: python:3.12
  variables:
    TINYGRAD_LEARN_PACKAGE: "{PACKAGE}"
    PIP_CACHE_DIR: "$CI_PROJECT_DIR/.cache/pip"
  cache:
    key: tinygrad-learn-{__version__}
    paths:
      - .cache/pip
  before_script:
    - python -m pip install "$TINYGRAD_LEARN_PACKAGE"
  script:
    - {GRADE_COMMAND} | tee {SUMMARY_FILE}
  artifacts:
    when: always
    reports:
      junit: {JUNIT_FILE}
    paths:
      - {JUNIT_FILE}
      - {JSON_FILE}
      - {SUMMARY_FILE}
"""

GRADESCOPE_SETUP = f"""\
#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image.
set -euo pipefail
python3 -m pip install "${{TINYGRAD_LEARN_PACKAGE:-{PACKAGE}}}"
"""

# AUTOGRADER_ROOT exists so the script can be tried outside Gradescope; there it is /autograder.
GRADESCOPE_RUN = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission: grade it and write results/results.json.
set -uo pipefail
root="${AUTOGRADER_ROOT:-/autograder}"
mkdir -p "$root/results"
tinygrad-learn grade "$root/submission" --format gradescope --output "$root/results/results.json"
status=$?
if [ "$status" -ne 0 ] && [ ! -s "$root/results/results.json" ]; then
  message="tinygrad-learn could not grade this submission (exit $status): see the autograder output."
  printf '{"score": 0, "output": "%s"}\\n' "$message" > "$root/results/results.json"
fi
exit 0
"""

GRADESCOPE_ZIP = "tinygrad-learn-autograder.zip"


@dataclass(frozen=True)
class Wiring:
    platform: str
    files: tuple[Path, ...]


def autograder_zip() -> bytes:
    """setup.sh and run_autograder at the root of the zip, executable, with fixed timestamps."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("run_autograder", GRADESCOPE_RUN), ("setup.sh", GRADESCOPE_SETUP)):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
    return buffer.getvalue()


def init_platform(platform: str, folder: Path) -> Wiring:
    files: dict[Path, bytes] = {
        "github": {Path(".github/workflows/tinygrad-learn.yml"): GITHUB_WORKFLOW.encode()},
        "gitlab": {Path(".gitlab-ci.yml"): GITLAB_CI.encode()},
        "gradescope": {Path(GRADESCOPE_ZIP): autograder_zip()},
    }[platform]
    targets = {folder / name: data for name, data in files.items()}
    for target in targets:
        if target.exists():
            raise TinygradLearnError("instructor.classroom_exists", path=str(target))
    try:
        for target, data in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    except OSError as error:
        raise TinygradLearnError("instructor.classroom_failed", path=str(folder), problem=str(error)) from None
    return Wiring(platform, tuple(targets))
