"""Jupyter support: the IPython extension (`%load_ext tinygrad_learn`) and notebooks per lesson.

The magics need IPython (the `notebook` extra); generating a notebook (`generate.py`) needs nothing
beyond the core install.
"""

from __future__ import annotations


def load_ipython_extension(ipython: object) -> None:
    from .magics import NotebookSession

    NotebookSession().register(ipython)
