"""Jupyter support: the IPython magics (`%load_ext tinygrad_learn`, see `commands`) and a notebook
per lesson (`generate`).

The magics need IPython (the `notebook` extra); generating a notebook needs nothing beyond the
core install.
"""
