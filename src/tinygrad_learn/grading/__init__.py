"""Everything that runs inside the grading subprocess: the pytest plugin, its ini file, and the
testkit and suitekit that suites are written with.

The names of the environment variables that connect the parent and the grading run live here,
so the parent can use them without importing pytest.
"""

EXERCISES_ENV = "TINYGRAD_LEARN_EXERCISES"
SOLUTIONS_ENV = "TINYGRAD_LEARN_SOLUTIONS"
SEED_ENV = "TINYGRAD_LEARN_SEED"
CHANNEL_ENV = "TINYGRAD_LEARN_CHANNEL_FD"
