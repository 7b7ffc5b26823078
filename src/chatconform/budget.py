"""The run's token budget, shared by every worker process (and thread) through a locked file."""

from __future__ import annotations

import fcntl
import time
from pathlib import Path
from typing import IO

# How long a request waits for others in flight to settle what they hold, and how often
# it looks: their answers take seconds; what they really cost is usually far less.
HOLD_WAIT_S = 120.0
HOLD_POLL_S = 0.05


class TokenLedger:
    """Tokens spent so far by the whole run, and held by requests in flight, against an
    optional limit.

    A request holds what it may cost before it is sent and gives it back when its
    answer's real cost is spent: with cases in flight together, the run stops sending
    before the budget is passed, not once requests already sent have passed it.
    """

    def __init__(self, path: Path, limit: int | None) -> None:
        self.path = path
        self.limit = limit

    def spent(self) -> int:
        with self._locked("r") as handle:
            return _read(handle)[0]

    def exhausted(self) -> bool:
        if self.limit is None:
            return False
        with self._locked("r") as handle:
            spent, held = _read(handle)
        return spent + held >= self.limit

    def hold(self, tokens: int, wait_s: float = HOLD_WAIT_S) -> bool:
        """Set ``tokens`` aside for a request about to be sent; False (nothing held) when
        the budget cannot cover them beside what is spent. While only what requests in
        flight hold stands in the way, wait up to ``wait_s`` for them to settle."""
        deadline = time.monotonic() + wait_s
        while True:
            with self._locked("r+") as handle:
                spent, held = _read(handle)
                if self.limit is None or spent + held + max(tokens, 0) <= self.limit:
                    _write(handle, spent, held + max(tokens, 0))
                    return True
            if spent + tokens > self.limit or time.monotonic() >= deadline:
                return False
            time.sleep(HOLD_POLL_S)

    def settle(self, held: int, tokens: int) -> None:
        """Give back what a request held, and spend what its answer cost."""
        if held <= 0 and tokens <= 0:
            return
        with self._locked("r+") as handle:
            spent, holding = _read(handle)
            _write(handle, spent + max(tokens, 0), max(holding - max(held, 0), 0))

    def spend(self, tokens: int) -> None:
        self.settle(0, tokens)

    def _locked(self, mode: str) -> _LockedFile:
        self.path.touch(exist_ok=True)
        return _LockedFile(self.path, mode)


def _read(handle: IO[str]) -> tuple[int, int]:
    """The file holds ``spent`` or ``spent held``."""
    fields = handle.read().split()
    spent = int(fields[0]) if fields else 0
    held = int(fields[1]) if len(fields) > 1 else 0
    return spent, held


def _write(handle: IO[str], spent: int, held: int) -> None:
    handle.seek(0)
    handle.write(f"{spent} {held}" if held else str(spent))
    handle.truncate()


class _LockedFile:
    def __init__(self, path: Path, mode: str) -> None:
        self._handle = path.open(mode, encoding="ascii")

    def __enter__(self) -> IO[str]:
        fcntl.flock(self._handle, fcntl.LOCK_EX)
        return self._handle

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
