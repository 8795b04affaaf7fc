"""Everything that runs inside the grading subprocess: the pytest plugin and its ini file."""
