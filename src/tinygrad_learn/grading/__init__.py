"""Everything that runs inside a sandboxed child: the pytest plugin, its ini file, the testkit and
suitekit that suites are written with, the worker entry of graph, bench and train, and
`protocol`, the records that cross the channel between such a child and the tool.

The names of the environment variables that connect the parent and the grading run live here,
so the parent can use them without importing pytest.
"""

EXERCISES_ENV = "TINYGRAD_LEARN_EXERCISES"
SOLUTIONS_ENV = "TINYGRAD_LEARN_SOLUTIONS"
SEED_ENV = "TINYGRAD_LEARN_SEED"
CHANNEL_ENV = "TINYGRAD_LEARN_CHANNEL_FD"
NO_LANDLOCK_ENV = "TINYGRAD_LEARN_NO_LANDLOCK"
"""Set (to anything) only by the project's own tests, to prove the other guards hold without Landlock."""
