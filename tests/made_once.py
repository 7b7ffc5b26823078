"""Expensive test inputs (whole runs of the suite) made once per test session, however
many pytest-xdist workers need them.

pytest-xdist's ``--dist loadgroup`` would keep such tests on one worker, but it silently
stops grouping on pytest 9.2 (pytest-dev/pytest-xdist#1386), and a worker tears its
session fixtures down whenever it does not yet know its next test. So the first worker
to need a directory makes it under a lock in the directory all workers share, and the
others, or the same worker again, find it made.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

DONE = ".made"


def made_once(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """``root/name``, filled by ``make(directory)`` once for the whole session."""
    root = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's directory, above each worker's own
    target = root / name
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / DONE).exists():
            # A failed attempt leaves no mark: the next test that needs it tries again.
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            make(target)
            (target / DONE).touch()
    return target
