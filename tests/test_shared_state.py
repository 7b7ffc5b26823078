"""Tests of the state a run's threads and processes share (chatconform.shared_state)."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

from chatconform.shared_state import SharedState


def _add(path: Path | None, state: SharedState | None, times: int) -> None:
    shared = state or SharedState(path)
    for _ in range(times):
        with shared.change() as document:
            document["n"] = document.get("n", 0) + 1


def test_processes_sharing_a_file_lose_no_change(tmp_path: Path) -> None:
    path = tmp_path / ".state"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_add, args=(path, None, 50)) for _ in range(4)]
    for worker in workers:
        worker.start()
    _add(path, None, 50)
    for worker in workers:
        worker.join(timeout=30)
    assert SharedState(path).read() == {"n": 250}


def test_threads_sharing_one_state_lose_no_change(tmp_path: Path) -> None:
    for state in (SharedState(), SharedState(tmp_path / ".state")):
        threads = [threading.Thread(target=_add, args=(None, state, 100)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert state.read() == {"n": 800}


def test_a_change_that_raises_is_not_kept(tmp_path: Path) -> None:
    for state in (SharedState(), SharedState(tmp_path / ".state")):
        with state.change() as document:
            document["n"] = 1
        try:
            with state.change() as document:
                document["n"] = 2
                raise RuntimeError("interrupted")
        except RuntimeError:
            pass
        assert state.read() == {"n": 1}


def test_a_file_that_is_not_the_state_starts_it_afresh(tmp_path: Path) -> None:
    path = tmp_path / ".state"
    for text in ("not json", "[1, 2]", ""):
        path.write_text(text)
        assert SharedState(path).read() == {}
        with SharedState(path).change() as document:
            document["n"] = 1
        assert SharedState(path).read() == {"n": 1}
    assert SharedState(tmp_path / "absent").read() == {}
