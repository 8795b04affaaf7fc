"""The operating system's sandbox for a child that runs learner code: Landlock, on Linux.

The child restricts itself, before any learner code is imported, and every process it starts
inherits the restriction: it may read (and run) only the Python installation, its libraries, the
tool's package and the folders the run was given, and write only its scratch folder. The
workspace, the progress file, the course and `/proc` of other processes are out of reach; so is
the network where the kernel's Landlock ABI has network rules (4 and later), and signals to
processes outside the sandbox where it has scopes (6 and later).

Where the kernel has no Landlock (another system, an old kernel, a container that forbids it)
`restrict` changes nothing and says why; the audit hook and the plugin's guard still apply.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tinygrad_learn.grading import NO_LANDLOCK_ENV

DISABLE_ENV = NO_LANDLOCK_ENV

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446  # the same number on every architecture
_VERSION_FLAG = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_ALL_BEFORE_ABI2 = (1 << 13) - 1
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_NET_ALL = (1 << 0) | (1 << 1)
_SCOPE_ALL = (1 << 0) | (1 << 1)
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV

SYSTEM_LIBRARIES = ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib", "/etc/ld.so.cache")
SYSTEM_FILES = ("/dev/null", "/dev/urandom", "/dev/random", "/proc/cpuinfo", "/sys/devices/system/cpu")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@dataclass(frozen=True)
class Status:
    """Whether this process can restrict itself, and with which ABI; `reason` when it cannot."""

    abi: int
    reason: str = ""

    @property
    def available(self) -> bool:
        return self.abi > 0


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def status() -> Status:
    if os.environ.get(DISABLE_ENV):
        return Status(0, f"turned off by {DISABLE_ENV}")
    libc = _libc()
    if libc is None:
        return Status(0, f"not Linux ({sys.platform})")
    abi = libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_VERSION_FLAG))
    if abi < 0:
        return Status(0, os.strerror(ctypes.get_errno()))
    return Status(int(abi))


def _handled(abi: int) -> tuple[int, int, int]:
    fs = _ALL_BEFORE_ABI2
    if abi >= 2:
        fs |= _REFER
    if abi >= 3:
        fs |= _TRUNCATE
    if abi >= 5:
        fs |= _IOCTL_DEV
    return fs, (_NET_ALL if abi >= 4 else 0), (_SCOPE_ALL if abi >= 6 else 0)


def restrict(readable: Iterable[str], writable: Iterable[str]) -> Status:
    """Restrict this process (and its future children) to `readable` and `writable` paths."""
    found = status()
    libc = _libc()
    if not found.available or libc is None:
        return found
    fs, net, scoped = _handled(found.abi)
    attr = _RulesetAttr(fs, net, scoped)
    size = ctypes.sizeof(_RulesetAttr) if found.abi >= 6 else (16 if found.abi >= 4 else 8)
    ruleset = libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return Status(0, os.strerror(ctypes.get_errno()))
    try:
        read_rights = _EXECUTE | _READ_FILE | _READ_DIR
        for path in dict.fromkeys(readable):
            _allow(libc, ruleset, path, read_rights)
        for path in dict.fromkeys(writable):
            _allow(libc, ruleset, path, fs)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return Status(0, os.strerror(ctypes.get_errno()))
        if libc.syscall(_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) != 0:
            return Status(0, os.strerror(ctypes.get_errno()))
    finally:
        os.close(ruleset)
    return found


def _allow(libc: ctypes.CDLL, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a path this system does not have
    try:
        if not os.path.isdir(path):
            rights &= _FILE_RIGHTS
        rule = _PathBeneathAttr(rights, fd)
        libc.syscall(_ADD_RULE, ruleset, ctypes.c_uint32(_RULE_PATH_BENEATH), ctypes.byref(rule), ctypes.c_uint32(0))
    finally:
        os.close(fd)


def python_paths() -> list[str]:
    """What any Python child must read: the installation, its libraries and this package."""
    package = Path(__file__).resolve().parents[1]
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    libraries = [
        entry for entry in sys.path if entry and ("-packages" in entry or any(entry.startswith(p) for p in prefixes))
    ]
    executable = os.path.realpath(sys.executable)
    return [
        *prefixes,
        *libraries,
        str(package),
        executable,
        os.path.dirname(executable),
        *SYSTEM_LIBRARIES,
        *SYSTEM_FILES,
    ]
