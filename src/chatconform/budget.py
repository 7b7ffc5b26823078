"""The run's token budget, shared by every worker process through a locked file."""

from __future__ import annotations

import fcntl
from pathlib import Path


class TokenLedger:
    """Tokens spent so far by the whole run, against an optional limit."""

    def __init__(self, path: Path, limit: int | None) -> None:
        self.path = path
        self.limit = limit

    def spent(self) -> int:
        with self._locked("r") as handle:
            text = handle.read().strip()
        return int(text) if text else 0

    def exhausted(self) -> bool:
        return self.limit is not None and self.spent() >= self.limit

    def spend(self, tokens: int) -> None:
        if tokens <= 0:
            return
        with self._locked("r+") as handle:
            text = handle.read().strip()
            handle.seek(0)
            handle.write(str((int(text) if text else 0) + tokens))
            handle.truncate()

    def _locked(self, mode: str):
        self.path.touch(exist_ok=True)
        return _LockedFile(self.path, mode)


class _LockedFile:
    def __init__(self, path: Path, mode: str) -> None:
        self._handle = path.open(mode, encoding="ascii")

    def __enter__(self):
        fcntl.flock(self._handle, fcntl.LOCK_EX)
        return self._handle

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
