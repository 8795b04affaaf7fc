"""Mutation testing of the reference solutions against the hidden suites.

For each checkpoint, small deliberate bugs (mutants) are planted in the solution code the
checkpoint grades, one at a time, and the checkpoint's suite is run against each mutated copy. A
suite that fails has *killed* the mutant; a mutant that passes has *survived*, which means either
the suite misses a bug a learner could make, or the change does not alter behaviour (an
equivalent mutant, which tools/mutation-survivors.yaml may list with its reason).

    python tools/mutate.py [CHECKPOINT ...] [--seed N] [--jobs 2] [--limit-per-file N] [--json]

The report is not a test: the exit code is 0 unless the tool itself cannot run.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "checkpoints.yaml"
SOLUTIONS = ROOT / "solutions"
SUITES = ROOT / "src" / "tinygrad_learn" / "suites"
GRADING_INI = ROOT / "src" / "tinygrad_learn" / "grading" / "pytest.ini"
SURVIVORS_FILE = ROOT / "tools" / "mutation-survivors.yaml"

# A mutant can turn a loop into one that allocates without end; cap each run's address space.
MEMORY_LIMIT = 3 * 1024**3

ARITHMETIC_SWAPS: dict[type[ast.operator], list[type[ast.operator]]] = {
    ast.Add: [ast.Sub],
    ast.Sub: [ast.Add],
    ast.Mult: [ast.Div],
    ast.Div: [ast.Mult],
    ast.Pow: [ast.Mult],
    ast.FloorDiv: [ast.Div],
}
NON_COMMUTATIVE = (ast.Sub, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult, ast.LShift, ast.RShift)
COMPARISON_FLIPS: dict[type[ast.cmpop], list[type[ast.cmpop]]] = {
    ast.Gt: [ast.GtE, ast.Lt],
    ast.GtE: [ast.Gt, ast.LtE],
    ast.Lt: [ast.LtE, ast.Gt],
    ast.LtE: [ast.Lt, ast.GtE],
    ast.Eq: [ast.NotEq],
    ast.NotEq: [ast.Eq],
    ast.Is: [ast.IsNot],
    ast.IsNot: [ast.Is],
    ast.In: [ast.NotIn],
    ast.NotIn: [ast.In],
}
AUGMENTED_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
}
# Removing these only produces a NameError or an ImportError, which every suite catches at once.
NEVER_REMOVED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.Pass)


# ---------------------------------------------------------------------------------------------
# The course


@dataclass(frozen=True)
class Checkpoint:
    id: str
    files: list[str]
    tasks: list[str]
    suite: str
    time_limit: float


def load_checkpoints() -> list[Checkpoint]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return [
        Checkpoint(
            id=entry["id"],
            files=list(entry.get("files") or []),
            tasks=[str(task) for task in entry.get("tasks") or []],
            # The manifest's convention: test_<id, - as _>.py unless the checkpoint names its suite.
            suite=entry.get("suite") or f"test_{entry['id'].replace('-', '_')}.py",
            time_limit=float(entry.get("time_limit") or 30),
        )
        for entry in data["checkpoints"]
    ]


@dataclass(frozen=True)
class Equivalent:
    checkpoint: str
    file: str
    before: str
    after: str
    reason: str
    line: int | None  # only needed when the same line text occurs more than once in the file


def load_equivalents(path: Path) -> list[Equivalent]:
    """Known-equivalent survivors: mutations that cannot change what the program does.

    Each entry: checkpoint, file, before and after (the lines as the report prints them), reason,
    and optionally line (the line number, for text that occurs more than once in the file).
    """
    if not path.exists():
        return []
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [
        Equivalent(
            checkpoint=str(entry["checkpoint"]),
            file=str(entry["file"]),
            before=" ".join(str(entry["before"]).split()),
            after=" ".join(str(entry["after"]).split()),
            reason=str(entry["reason"]),
            line=int(entry["line"]) if entry.get("line") is not None else None,
        )
        for entry in entries
    ]


# ---------------------------------------------------------------------------------------------
# Where to mutate: the functions and classes a checkpoint's tasks name


def find_targets(tree: ast.Module, tasks: list[str], file: str) -> list[ast.AST]:
    """The nodes a checkpoint grades in `file`; the whole module if no task names anything in it."""
    if file in tasks or Path(file).name in tasks:
        return [tree]
    targets: list[ast.AST] = []
    for task in tasks:
        owner, _, member = task.rpartition(".")
        if owner:
            for node in tree.body:
                if isinstance(node, ast.ClassDef) and node.name == owner:
                    targets.extend(child for child in node.body if _defines(child, member))
        else:
            targets.extend(node for node in tree.body if _defines(node, member))
    return targets or [tree]


def _defines(node: ast.stmt, name: str) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name == name
    if isinstance(node, ast.Assign):
        return any(isinstance(target, ast.Name) and target.id == name for target in node.targets)
    if isinstance(node, ast.AnnAssign):
        return isinstance(node.target, ast.Name) and node.target.id == name
    return False


@dataclass
class Site:
    """A node that may be replaced: `parent.field` (or `parent.field[index]`) holds it."""

    parent: ast.AST
    field: str
    index: int | None
    node: ast.AST
    scope: str  # "module", "class" or "function": where the node lives

    def replace(self, new: ast.AST | None) -> None:
        value = self.node if new is None else new
        if self.index is None:
            setattr(self.parent, self.field, value)
        else:
            getattr(self.parent, self.field)[self.index] = value


def sites(tree: ast.Module, targets: list[ast.AST]) -> Iterator[Site]:
    """Every node inside a target, with its parent, in source order."""
    target_ids = {id(target) for target in targets}

    def walk(node: ast.AST, inside: bool, scope: str) -> Iterator[Site]:
        for name, value in ast.iter_fields(node):
            children = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
            for index, child in children:
                if not isinstance(child, ast.AST):
                    continue
                child_inside = inside or id(child) in target_ids
                if child_inside:
                    yield Site(node, name, index, child, scope)
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                    child_scope = "function"
                elif isinstance(child, ast.ClassDef):
                    child_scope = "class"
                else:
                    child_scope = scope
                yield from walk(child, child_inside, child_scope)

    yield from walk(tree, id(tree) in target_ids, "module")


# ---------------------------------------------------------------------------------------------
# The mutation operators: each returns the nodes that may stand in place of one node


def _like(new: ast.AST, old: ast.AST) -> ast.AST:
    return ast.fix_missing_locations(ast.copy_location(new, old))


def _is_docstring(node: ast.AST) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def replacements(site: Site) -> Iterator[tuple[str, ast.AST]]:
    """(kind, new node) for every mutant of the node at `site`."""
    node = site.node
    if isinstance(node, ast.BinOp):
        yield from _binop_mutants(node)
    elif isinstance(node, ast.AugAssign):
        yield "augmented assignment", _like(ast.Assign(targets=[node.target], value=node.value), node)
        swapped = AUGMENTED_SWAPS.get(type(node.op))
        if swapped is not None:
            yield "augmented assignment", _like(ast.AugAssign(node.target, swapped(), node.value), node)
    elif isinstance(node, ast.Constant):
        yield from _constant_mutants(node)
    elif isinstance(node, ast.Compare):
        for position, op in enumerate(node.ops):
            for flipped in COMPARISON_FLIPS.get(type(op), []):
                ops = list(node.ops)
                ops[position] = flipped()
                yield "comparison", _like(ast.Compare(node.left, ops, node.comparators), node)
    elif isinstance(node, ast.BoolOp):
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield "boolean", _like(ast.BoolOp(other, node.values), node)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "boolean", node.operand
    elif isinstance(node, ast.Call):
        yield from _call_mutants(node)
    elif isinstance(node, ast.Return) and node.value is not None:
        yield "return value", _like(ast.Return(value=None), node)
        first = _first_operand(node.value)
        if first is not None:
            yield "return value", _like(ast.Return(value=first), node)
    if _removable(site):
        yield "removed statement", _like(ast.Pass(), node)


def _binop_mutants(node: ast.BinOp) -> Iterator[tuple[str, ast.AST]]:
    for swapped in ARITHMETIC_SWAPS.get(type(node.op), []):
        yield "arithmetic operator", _like(ast.BinOp(node.left, swapped(), node.right), node)
    if isinstance(node.op, (ast.Add, ast.Sub)):
        yield "dropped term", node.left
        yield "dropped term", node.right
    if isinstance(node.op, NON_COMMUTATIVE):
        yield "swapped operands", _like(ast.BinOp(node.right, node.op, node.left), node)


def _constant_mutants(node: ast.Constant) -> Iterator[tuple[str, ast.AST]]:
    value = node.value
    if isinstance(value, bool):
        yield "boolean", _like(ast.Constant(not value), node)
    elif isinstance(value, (int, float)):
        yield "constant", _like(ast.Constant(value + 1), node)
        if value == 1:
            yield "constant", _like(ast.Constant(type(value)(0)), node)


def _call_mutants(node: ast.Call) -> Iterator[tuple[str, ast.AST]]:
    positional = node.args
    for i in range(len(positional) - 1):
        if isinstance(positional[i], ast.Starred) or isinstance(positional[i + 1], ast.Starred):
            continue
        args = list(positional)
        args[i], args[i + 1] = args[i + 1], args[i]
        yield "swapped arguments", _like(ast.Call(node.func, args, node.keywords), node)


def _first_operand(value: ast.expr) -> ast.expr | None:
    if isinstance(value, ast.BinOp):
        return value.left
    if isinstance(value, ast.BoolOp):
        return value.values[0]
    if isinstance(value, ast.Compare):
        return value.left
    if isinstance(value, ast.UnaryOp):
        return value.operand
    if isinstance(value, ast.Call) and value.args and not isinstance(value.args[0], ast.Starred):
        return value.args[0]
    return None


def _removable(site: Site) -> bool:
    return (
        site.scope in ("function", "class")
        and site.index is not None
        and isinstance(site.node, ast.stmt)
        and not isinstance(site.node, NEVER_REMOVED)
        and not _is_docstring(site.node)
    )


# ---------------------------------------------------------------------------------------------
# Mutants of one file


@dataclass(frozen=True)
class Mutant:
    file: str  # relative to solutions/
    line: int
    kind: str
    before: str
    after: str
    source: str


def mutants_of(file: str, tasks: list[str]) -> list[Mutant]:
    """Every distinct mutant of `solutions/<file>` inside the checkpoint's tasks, in source order."""
    original = (SOLUTIONS / file).read_text(encoding="utf-8")
    tree = ast.parse(original)
    baseline = ast.unparse(tree)
    baseline_lines = baseline.splitlines()
    seen = {baseline}
    found = []
    for site in list(sites(tree, find_targets(tree, tasks, file))):
        for kind, new in replacements(site):
            site.replace(new)
            try:
                source = ast.unparse(tree)
            finally:
                site.replace(None)
            if source in seen:
                continue
            seen.add(source)
            before, after = changed_lines(baseline_lines, source.splitlines())
            line = getattr(site.node, "lineno", 0)
            found.append(Mutant(file, line, kind, before, after, source))
    return found


def changed_lines(old: list[str], new: list[str]) -> tuple[str, str]:
    """The lines that differ between two unparsed sources, joined, without indentation."""
    before: list[str] = []
    after: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag != "equal":
            before.extend(line.strip() for line in old[i1:i2])
            after.extend(line.strip() for line in new[j1:j2])
    return " / ".join(before), " / ".join(after)


# ---------------------------------------------------------------------------------------------
# Running a suite against a (mutated) copy of solutions/


@dataclass(frozen=True)
class RunResult:
    passed: bool
    timed_out: bool
    output: str


def limit_memory() -> None:
    """Cap this process's address space; every suite run inherits the cap.

    Set once in the parent rather than in each child: a pre-exec hook is unsafe with threads.
    """
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > MEMORY_LIMIT:
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, hard))
    except (ValueError, OSError):
        pass  # some systems refuse an address-space limit; the timeout still applies


def run_suite(checkpoint: Checkpoint, seed: int, mutant: Mutant | None) -> RunResult:
    """Run the checkpoint's suite on a copy of solutions/, with `mutant` written into it."""
    with tempfile.TemporaryDirectory(prefix="tinygrad-learn-mutant-") as temp:
        exercises = Path(temp) / "exercises"
        shutil.copytree(SOLUTIONS, exercises, ignore=shutil.ignore_patterns("__pycache__"))
        if mutant is not None:
            (exercises / mutant.file).write_text(mutant.source, encoding="utf-8")
        env = dict(os.environ)
        env.pop("TINYGRAD_LEARN_CHANNEL_FD", None)
        env.update(
            TINYGRAD_LEARN_EXERCISES=str(exercises),
            TINYGRAD_LEARN_SOLUTIONS=str(SOLUTIONS),
            TINYGRAD_LEARN_SEED=str(seed),
            PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
            PYTHONDONTWRITEBYTECODE="1",
            OPENBLAS_NUM_THREADS="1",
            OMP_NUM_THREADS="1",
        )
        command = [
            sys.executable, "-m", "pytest", "-q", "-x",
            "-p", "no:cacheprovider", "-p", "tinygrad_learn.grading.plugin",
            "-c", str(GRADING_INI), "--rootdir", temp,
            str(SUITES / checkpoint.suite),
        ]  # fmt: skip
        try:
            completed = subprocess.run(
                command,
                cwd=temp,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=checkpoint.time_limit,
            )
        except subprocess.TimeoutExpired:
            return RunResult(passed=False, timed_out=True, output="")
        return RunResult(completed.returncode == 0, False, completed.stdout + completed.stderr)


# ---------------------------------------------------------------------------------------------
# The report


@dataclass
class Survivor:
    file: str
    line: int
    kind: str
    before: str
    after: str
    equivalent: str | None


@dataclass
class CheckpointReport:
    id: str
    suite: str
    status: str  # "ok", "no suite", "no solution files", "solution fails"
    mutants: int = 0
    killed: int = 0
    timeouts: int = 0
    survivors: list[Survivor] = field(default_factory=list)
    seconds: float = 0.0
    detail: str = ""

    @property
    def survived(self) -> int:
        return len(self.survivors)

    @property
    def equivalents(self) -> int:
        return sum(1 for survivor in self.survivors if survivor.equivalent is not None)

    def killed_percent(self) -> float | None:
        return 100.0 * self.killed / self.mutants if self.mutants else None

    def killed_percent_excluding_equivalents(self) -> float | None:
        counted = self.mutants - self.equivalents
        return 100.0 * self.killed / counted if counted else None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "suite": self.suite,
            "status": self.status,
            "mutants": self.mutants,
            "killed": self.killed,
            "timeouts": self.timeouts,
            "survived": self.survived,
            "equivalent": self.equivalents,
            "killed_percent": _rounded(self.killed_percent()),
            "killed_percent_excluding_equivalent": _rounded(self.killed_percent_excluding_equivalents()),
            "seconds": round(self.seconds, 2),
            "survivors": [vars(survivor) for survivor in self.survivors],
            "detail": self.detail,
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _equivalence(checkpoint: str, mutant: Mutant, equivalents: list[Equivalent]) -> str | None:
    for entry in equivalents:
        if (
            entry.checkpoint == checkpoint
            and entry.file == mutant.file
            and entry.before == " ".join(mutant.before.split())
            and entry.after == " ".join(mutant.after.split())
            and entry.line in (None, mutant.line)
        ):
            return entry.reason
    return None


def select_mutants(checkpoint: Checkpoint, limit: int | None, seed: int) -> list[Mutant]:
    chosen = []
    for file in checkpoint.files:
        if not (SOLUTIONS / file).exists():
            continue
        found = mutants_of(file, checkpoint.tasks)
        if limit is not None and len(found) > limit:
            picked = set(random.Random(f"{seed}:{checkpoint.id}:{file}").sample(range(len(found)), limit))
            found = [mutant for i, mutant in enumerate(found) if i in picked]
        chosen.extend(found)
    return chosen


def mutate_checkpoint(
    checkpoint: Checkpoint,
    *,
    seed: int,
    jobs: int,
    limit: int | None,
    equivalents: list[Equivalent],
    progress: Callable[[str], None],
) -> CheckpointReport:
    report = CheckpointReport(checkpoint.id, checkpoint.suite, "ok")
    started = time.monotonic()
    if not (SUITES / checkpoint.suite).exists():
        report.status = "no suite"
        return report
    if not any((SOLUTIONS / file).exists() for file in checkpoint.files):
        report.status = "no solution files"
        return report
    baseline = run_suite(checkpoint, seed, None)
    if not baseline.passed:
        report.status = "solution fails"
        report.detail = "timed out" if baseline.timed_out else baseline.output[-2000:]
        report.seconds = time.monotonic() - started
        return report
    mutants = select_mutants(checkpoint, limit, seed)
    progress(f"{checkpoint.id}: {len(mutants)} mutants")
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda mutant: run_suite(checkpoint, seed, mutant), mutants))
    for mutant, result in zip(mutants, results, strict=True):
        report.mutants += 1
        if result.passed:
            reason = _equivalence(checkpoint.id, mutant, equivalents)
            report.survivors.append(
                Survivor(mutant.file, mutant.line, mutant.kind, mutant.before, mutant.after, reason)
            )
        else:
            report.killed += 1
            report.timeouts += result.timed_out
    report.seconds = time.monotonic() - started
    return report


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def render(reports: list[CheckpointReport], seed: int) -> str:
    lines = [f"mutation testing, seed {seed}", ""]
    for report in reports:
        if report.status != "ok":
            lines.append(f"{report.id}: skipped ({report.status})")
            if report.detail:
                lines.extend("    " + line for line in report.detail.strip().splitlines()[-15:])
            continue
        lines.append(
            f"{report.id} ({report.suite}): {report.mutants} mutants, {report.killed} killed"
            f" ({report.timeouts} by timeout), {report.survived} survived;"
            f" killed {_percent(report.killed_percent())},"
            f" {_percent(report.killed_percent_excluding_equivalents())} excluding"
            f" {report.equivalents} listed equivalent; {report.seconds:.1f}s"
        )
        for survivor in report.survivors:
            status = "equivalent" if survivor.equivalent else "SURVIVED"
            lines.append(f"    {status} {survivor.file}:{survivor.line} [{survivor.kind}]")
            lines.append(f"        - {survivor.before}")
            lines.append(f"        + {survivor.after}")
            if survivor.equivalent:
                lines.append(f"        equivalent ({survivor.equivalent})")
    graded = [report for report in reports if report.status == "ok"]
    total = sum(report.mutants for report in graded)
    killed = sum(report.killed for report in graded)
    equivalent = sum(report.equivalents for report in graded)
    if total:
        lines += [
            "",
            f"total: {total} mutants, {killed} killed, {total - killed} survived;"
            f" killed {100.0 * killed / total:.1f}%,"
            f" {_percent(100.0 * killed / (total - equivalent) if total > equivalent else None)}"
            f" excluding {equivalent} listed equivalent",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mutation testing of solutions/ against the hidden suites.")
    parser.add_argument("checkpoints", nargs="*", metavar="CHECKPOINT", help="ids (default: every one)")
    parser.add_argument("--seed", type=int, default=None, help="TINYGRAD_LEARN_SEED for every run")
    parser.add_argument("--jobs", type=int, default=2, help="suites run at the same time")
    parser.add_argument("--limit-per-file", type=int, default=None, metavar="N", help="at most N mutants a file")
    parser.add_argument("--json", action="store_true", help="print a machine-readable report")
    parser.add_argument("--survivors", type=Path, default=SURVIVORS_FILE, help="known-equivalent survivors")
    args = parser.parse_args(argv)

    course = load_checkpoints()
    by_id = {checkpoint.id: checkpoint for checkpoint in course}
    unknown = [name for name in args.checkpoints if name not in by_id]
    if unknown:
        parser.error(f"unknown checkpoint(s): {', '.join(unknown)}")
    chosen = [by_id[name] for name in args.checkpoints] if args.checkpoints else course
    seed = args.seed if args.seed is not None else random.randrange(1, 100_000)
    equivalents = load_equivalents(args.survivors)
    limit_memory()

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    reports = [
        mutate_checkpoint(
            checkpoint,
            seed=seed,
            jobs=max(1, args.jobs),
            limit=args.limit_per_file,
            equivalents=equivalents,
            progress=progress,
        )
        for checkpoint in chosen
    ]
    if args.json:
        print(json.dumps({"seed": seed, "checkpoints": [report.as_json() for report in reports]}, indent=2))
    else:
        print(render(reports, seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
