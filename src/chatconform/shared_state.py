"""State the threads and processes of one run share: a small JSON document under a lock.

Cases run in threads, and a run may also spread them over processes (pytest-xdist
workers); what must hold for the run as a whole (a provider's rate limits, whether the
provider is gone) is kept in a file of the run's report directory and changed under an
exclusive ``flock``, or, for a client made without one, in memory.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class SharedState:
    """A JSON object read and written whole, one change at a time."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._memory: dict[str, Any] = {}
        # flock excludes other processes; threads of this one also queue here.
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def change(self) -> Iterator[dict[str, Any]]:
        """The current document, written back as the caller leaves it (if it raised, not)."""
        with self._lock:
            if self.path is None:
                state = json.loads(json.dumps(self._memory))
                yield state
                self._memory = state
                return
            self.path.touch(exist_ok=True)
            with self.path.open("r+", encoding="utf-8") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    state = _load(handle.read())
                    yield state
                    handle.seek(0)
                    handle.truncate()
                    handle.write(json.dumps(state))
                    # Out of the buffer before the lock goes, or another process reads
                    # the old document and its change overwrites this one.
                    handle.flush()
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def read(self) -> dict[str, Any]:
        """The current document, unchanged (a copy)."""
        with self._lock:
            if self.path is None:
                return json.loads(json.dumps(self._memory))
            if not self.path.exists():
                return {}
            with self.path.open(encoding="utf-8") as handle:
                fcntl.flock(handle, fcntl.LOCK_SH)
                try:
                    return _load(handle.read())
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)


def _load(text: str) -> dict[str, Any]:
    # Written only under the lock, so never half-written; anything else (a file from
    # something other than this module) starts the state afresh rather than the run failing.
    try:
        state = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}
