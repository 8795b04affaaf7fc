"""Your autograd engine. Each checkpoint asks you to fill in part of these files.

Files import each other relatively, for example `from .engine import Value`.
"""
