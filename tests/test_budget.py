"""Tests of the run's shared token budget (chatconform.budget.TokenLedger)."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

from chatconform.budget import TokenLedger


def test_fresh_ledger_has_spent_nothing(tmp_path: Path) -> None:
    ledger = TokenLedger(tmp_path / "tokens", limit=10)
    assert ledger.spent() == 0
    assert not ledger.exhausted()


def test_spend_accumulates_until_exhausted(tmp_path: Path) -> None:
    ledger = TokenLedger(tmp_path / "tokens", limit=10)
    ledger.spend(4)
    ledger.spend(5)
    assert ledger.spent() == 9
    assert not ledger.exhausted()
    ledger.spend(1)
    assert ledger.exhausted()


def test_zero_and_negative_spends_are_ignored(tmp_path: Path) -> None:
    ledger = TokenLedger(tmp_path / "tokens", limit=None)
    ledger.spend(0)
    ledger.spend(-5)
    assert ledger.spent() == 0


def test_no_limit_is_never_exhausted(tmp_path: Path) -> None:
    ledger = TokenLedger(tmp_path / "tokens", limit=None)
    ledger.spend(10**9)
    assert not ledger.exhausted()


def test_two_ledgers_on_the_same_file_share_the_spend(tmp_path: Path) -> None:
    first = TokenLedger(tmp_path / "tokens", limit=100)
    second = TokenLedger(tmp_path / "tokens", limit=100)
    first.spend(60)
    assert second.spent() == 60
    second.spend(40)
    assert first.spent() == 100
    assert first.exhausted()
    assert second.exhausted()


def test_shorter_total_after_longer_one_leaves_no_stale_digits(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("99")
    ledger = TokenLedger(path, limit=None)
    ledger.spend(1)
    assert path.read_text() == "100"
    assert ledger.spent() == 100


def test_concurrent_spends_from_threads_sum_exactly(tmp_path: Path) -> None:
    ledger = TokenLedger(tmp_path / "tokens", limit=None)

    def spend_many() -> None:
        for _ in range(50):
            ledger.spend(3)

    threads = [threading.Thread(target=spend_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ledger.spent() == 8 * 50 * 3


def _spend_in_process(path: str, times: int) -> None:
    ledger = TokenLedger(Path(path), limit=None)
    for _ in range(times):
        ledger.spend(7)


def test_concurrent_spends_from_processes_sum_exactly(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_spend_in_process, args=(str(path), 100)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
        assert worker.exitcode == 0
    assert TokenLedger(path, limit=None).spent() == 4 * 100 * 7


def test_what_requests_in_flight_hold_counts_against_the_budget(tmp_path: Path) -> None:
    ledger = TokenLedger(tmp_path / "tokens", limit=100)
    assert ledger.hold(60)
    # A second request that could take the run past its budget is not sent: beside what
    # is spent, it could never fit; beside what is held, it waits (here not at all).
    assert not ledger.hold(101)
    assert not ledger.hold(50, wait_s=0)
    assert ledger.spent() == 0
    assert ledger.hold(40)
    assert ledger.exhausted()
    # Answered: what it held goes back, what it cost is spent.
    ledger.settle(60, 25)
    assert ledger.spent() == 25
    assert not ledger.exhausted()
    assert ledger.hold(35)
    assert not ledger.hold(1, wait_s=0)


def test_a_hold_waits_for_requests_in_flight_to_settle(tmp_path: Path) -> None:
    ledger = TokenLedger(tmp_path / "tokens", limit=100)
    assert ledger.hold(80)
    settled = threading.Timer(0.2, lambda: ledger.settle(80, 10))
    settled.start()
    # Only the hold of the request in flight stands in the way: its answer frees it.
    assert ledger.hold(50, wait_s=10)
    settled.join()
    assert ledger.spent() == 10


def test_holding_threads_never_overcommit_the_budget(tmp_path: Path) -> None:
    ledger = TokenLedger(tmp_path / "tokens", limit=1000)
    granted: list[int] = []

    def ask() -> None:
        for _ in range(50):
            if ledger.hold(7, wait_s=0):
                granted.append(7)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 994  # 142 holds of 7: the most that fit in 1000
    assert (tmp_path / "tokens").read_text() == "0 994"
