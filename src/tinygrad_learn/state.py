"""Where a learner stands: each checkpoint's status, the current checkpoint, and the medal track."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .manifest import Checkpoint, Course, Medal
from .progress import Entry, Snapshot, files_hash
from .versioning import suite_version


@dataclass(frozen=True)
class CheckpointStatus:
    checkpoint: Checkpoint
    entry: Entry
    stale: bool
    """Passed once, but its files or its suite changed since: `verify` re-checks it."""

    @property
    def state(self) -> str:
        return self.entry.status or "not_started"


@dataclass(frozen=True)
class MedalStatus:
    medal: Medal
    missing: tuple[str, ...]

    @property
    def earned(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class Standing:
    statuses: tuple[CheckpointStatus, ...]
    medals: tuple[MedalStatus, ...]

    @property
    def current(self) -> Checkpoint | None:
        """The first checkpoint not passed yet; None when the course is done."""
        for status in self.statuses:
            if not status.entry.passed:
                return status.checkpoint
        return None

    @property
    def passed_count(self) -> int:
        return sum(status.entry.passed for status in self.statuses)

    def status_of(self, checkpoint_id: str) -> CheckpointStatus:
        return next(status for status in self.statuses if status.checkpoint.id == checkpoint_id)


def medal_track(course: Course, passed: set[str]) -> tuple[MedalStatus, ...]:
    """Each medal with the checkpoints it still needs; a medal counts passed checkpoints only."""
    return tuple(
        MedalStatus(medal, tuple(name for name in medal.requires if name not in passed)) for medal in course.medals
    )


def earned_medals(course: Course, snapshot: Snapshot) -> set[str]:
    passed = {key for key, entry in snapshot.entries.items() if entry.passed}
    return {status.medal.id for status in medal_track(course, passed) if status.earned}


def standing(course: Course, snapshot: Snapshot, exercises: Path) -> Standing:
    statuses = []
    for checkpoint in course.checkpoints:
        entry = snapshot.entry(checkpoint.id)
        stale = entry.passed and (
            entry.files_hash != files_hash(exercises, checkpoint.files) or _suite_changed(entry, checkpoint)
        )
        statuses.append(CheckpointStatus(checkpoint, entry, stale))
    passed = {status.checkpoint.id for status in statuses if status.entry.passed}
    return Standing(tuple(statuses), medal_track(course, passed))


def _suite_changed(entry: Entry, checkpoint: Checkpoint) -> bool:
    """The suite that passed this entry is not the one installed now (an entry from before versions: no)."""
    if entry.suite_version is None:
        return False
    try:
        return entry.suite_version != suite_version(checkpoint.suite_path)
    except OSError:
        return True
