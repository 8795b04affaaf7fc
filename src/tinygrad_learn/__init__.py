"""tinygrad-learn: build a tiny autograd engine, one self-graded checkpoint at a time."""

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """`%load_ext tinygrad_learn`, the notebook's entry point (as `cli.main` is the command line's):
    the magics are imported only now, so the CLI starts as fast as before."""
    from .notebook.commands import load_ipython_extension as load

    load(ipython)
