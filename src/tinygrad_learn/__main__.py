"""`python -m tinygrad_learn` runs the same command line as `tinygrad-learn`."""

from tinygrad_learn.cli import main

main()
