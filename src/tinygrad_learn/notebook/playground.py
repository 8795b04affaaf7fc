"""The "try it" cell: the learner's exercise module imported into the kernel, fresh each call.

Only for playing: what is imported here is never graded (the magics grade the files).
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

from ..errors import TinygradLearnError
from ..paths import find_workspace

chosen_workspace: Path | None = None
"""Set by `%tinygrad_learn workspace DIR`; else the workspace above the notebook's folder."""
_loads = itertools.count()


def load_exercise(name: str) -> ModuleType:
    """`exercises/<name>.py` of the workspace, under a new package name so every call sees the file as it is now."""
    exercises = find_workspace(chosen_workspace).exercises
    if not (exercises / f"{name.removesuffix('.py')}.py").is_file():
        raise TinygradLearnError("notebook.exercise_no_file", file=name)
    package = f"_tinygrad_learn_try_{next(_loads)}"
    spec = importlib.util.spec_from_file_location(
        package, exercises / "__init__.py", submodule_search_locations=[str(exercises)]
    )
    if spec is None or spec.loader is None:
        raise TinygradLearnError("notebook.exercise_no_file", file="__init__.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module
    spec.loader.exec_module(module)
    return importlib.import_module(f"{package}.{name.removesuffix('.py')}")
