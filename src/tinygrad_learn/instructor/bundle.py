"""Submission bundles: a learner's work packed into one zip by `submit`, and read back by `grade`.

A bundle holds `exercises/...`, the progress file and `submission.json`, which names the tool and
course versions and the sha256 of every other member. The same work always gives the same bytes:
members are sorted, timestamps and permissions fixed. Reading is defensive: a bundle comes from a
student, so its size, its member names and its hashes are all checked before anything is written.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .. import __version__
from ..errors import TinygradLearnError
from ..manifest import Course
from ..paths import MANIFEST_NAME, STATE_DIR_NAME, Workspace
from ..versioning import suite_version

BUNDLE_FORMAT = "tinygrad-learn-submission"
BUNDLE_FORMAT_VERSION = 1
MANIFEST_MEMBER = "submission.json"
PROGRESS_MEMBER = f"{STATE_DIR_NAME}/progress.yaml"
BUNDLE_SUFFIX = ".zip"
# 1980-01-01 is the earliest time a zip can hold: every member gets it, so bytes depend on content only.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644 << 16
# A course's exercises are a few small text files; anything far larger is not a learner's work.
MAX_FILE_BYTES = 2 * 1024**2
MAX_TOTAL_BYTES = 16 * 1024**2
MAX_MEMBERS = 500
SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints"}


@dataclass(frozen=True)
class BundleManifest:
    tool_version: str
    course_version: str
    files: dict[str, str]
    """Member name -> sha256 of its bytes, as written by `submit`."""


@dataclass(frozen=True)
class OpenedBundle:
    """A bundle unpacked into a workspace-shaped folder, with what its manifest says and whether it holds."""

    workspace: Workspace
    manifest: BundleManifest
    edited: tuple[str, ...]
    """Members whose bytes no longer match their hash, or that the manifest does not list."""


def course_version(course: Course) -> str:
    """A short fingerprint of the course: its manifest and every suite that grades it."""
    digest = hashlib.sha256((course.root / MANIFEST_NAME).read_bytes())
    for checkpoint in course.checkpoints:
        digest.update(checkpoint.id.encode() + b"\0" + suite_version(checkpoint.suite_path).encode())
    return digest.hexdigest()[:12]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _submitted_files(workspace: Workspace) -> dict[str, bytes]:
    """exercises/ (regular files only, no caches or links) and the progress file: nothing else goes in."""
    files: dict[str, bytes] = {}
    if not workspace.exercises.is_dir():
        raise TinygradLearnError("instructor.submit_no_exercises", path=str(workspace.root))
    for path in sorted(workspace.exercises.rglob("*")):
        relative = path.relative_to(workspace.root)
        if path.is_symlink() or not path.is_file() or SKIPPED_PARTS & set(relative.parts) or path.suffix == ".pyc":
            continue
        files[relative.as_posix()] = path.read_bytes()
    if workspace.progress_file.is_file() and not workspace.progress_file.is_symlink():
        files[PROGRESS_MEMBER] = workspace.progress_file.read_bytes()
    too_big = [name for name, data in files.items() if len(data) > MAX_FILE_BYTES]
    if too_big or sum(map(len, files.values())) > MAX_TOTAL_BYTES:
        raise TinygradLearnError("instructor.submit_too_big", files=", ".join(too_big) or "exercises/")
    return files


def build_bundle(course: Course, workspace: Workspace) -> tuple[bytes, int]:
    files = _submitted_files(workspace)
    manifest = {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_FORMAT_VERSION,
        "tool_version": __version__,
        "course_version": course_version(course),
        "files": {name: _sha256(data) for name, data in files.items()},
    }
    members = {MANIFEST_MEMBER: (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode(), **files}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = FILE_MODE
            info.create_system = 3  # the same on every system, so Windows and Linux give the same bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, members[name], compresslevel=9)
    return buffer.getvalue(), len(files)


def write_bundle(course: Course, workspace: Workspace, target: Path) -> tuple[Path, int]:
    """Write the bundle through a temporary file, so a half-written one never appears; returns it and its size."""
    data, count = build_bundle(course, workspace)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_bytes(data)
        temporary.replace(target)
    except OSError as error:
        raise TinygradLearnError("instructor.submit_failed", path=str(target), problem=str(error)) from None
    return target, count


def _safe_member(name: str) -> bool:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name or not path.parts:
        return False
    return name in (MANIFEST_MEMBER, PROGRESS_MEMBER) or path.parts[0] == "exercises"


def _manifest_from(raw: bytes) -> BundleManifest:
    try:
        data: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("submission.json is not JSON") from None
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise ValueError("submission.json is not a tinygrad-learn submission")
    files = data.get("files")
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise ValueError("submission.json has no file list")
    return BundleManifest(str(data.get("tool_version", "")), str(data.get("course_version", "")), dict(files))


def open_bundle(bundle: Path, target: Path) -> OpenedBundle:
    """Unpack `bundle` into `target` (a fresh folder); ValueError says why a bundle cannot be used."""
    try:
        with zipfile.ZipFile(bundle) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS or sum(info.file_size for info in infos) > MAX_TOTAL_BYTES:
                raise ValueError("the bundle is too large to be a submission")
            names = [info.filename for info in infos if not info.is_dir()]
            if MANIFEST_MEMBER not in names:
                raise ValueError("the bundle has no submission.json")
            manifest = _manifest_from(archive.read(MANIFEST_MEMBER))
            edited = []
            for info in infos:
                if info.is_dir() or info.filename == MANIFEST_MEMBER:
                    continue
                if not _safe_member(info.filename) or (info.external_attr >> 16) & 0o170000 == 0o120000:
                    raise ValueError(f"the bundle holds {info.filename!r}, which no submission may hold")
                data = archive.read(info)
                if manifest.files.get(info.filename) != _sha256(data):
                    edited.append(info.filename)
                destination = target / info.filename
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(data)
            edited.extend(sorted(name for name in manifest.files if name not in names))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError) as error:
        raise ValueError(f"the bundle is not a readable zip ({error})") from None
    (target / "exercises").mkdir(exist_ok=True)
    return OpenedBundle(Workspace(target), manifest, tuple(edited))


def is_bundle(path: Path) -> bool:
    return path.is_file() and path.suffix == BUNDLE_SUFFIX
