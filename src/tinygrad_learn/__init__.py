"""tinygrad-learn: build a tiny autograd engine, one self-graded checkpoint at a time."""

__version__ = "0.1.0"
