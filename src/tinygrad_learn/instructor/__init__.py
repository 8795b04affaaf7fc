"""Instructor mode: `submit` packs a learner's work, `grade` re-grades a class, `classroom` wires platforms.

The names below are all the command line needs to parse its options, so that `--help` and the
learner's own commands never pay for importing the grading side.
"""

CLASS_FORMATS = ("table", "csv", "json", "junit")
STUDENT_FORMATS = ("exercism", "gradescope", "classroom50")
FORMATS = CLASS_FORMATS + STUDENT_FORMATS
PLATFORMS = ("github", "gitlab", "gradescope")
