"""Tests of rate control (chatconform.rate): the run's limiter, Retry-After, backoff."""

from __future__ import annotations

import base64
import email.utils
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chatconform.rate import (
    BLOB_TOKENS,
    WINDOW_S,
    RateLimiter,
    RateLimits,
    backoff_s,
    estimated_tokens,
    retry_after_s,
)
from chatconform.shared_state import SharedState

NOW = 1_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def test_without_limits_every_request_goes_at_once() -> None:
    limiter = RateLimiter(clock=Clock())
    assert [limiter.try_admit(10_000) for _ in range(100)] == [0.0] * 100


def test_rpm_admits_that_many_per_sliding_minute() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimits(rpm=3), clock=clock)
    for step in range(3):
        clock.now = NOW + step * 10
        assert limiter.try_admit(0) == 0.0
    clock.now = NOW + 30
    # The fourth waits for the first to leave the window, and is not counted meanwhile.
    assert limiter.try_admit(0) == WINDOW_S - 30
    assert limiter.try_admit(0) == WINDOW_S - 30
    clock.now = NOW + WINDOW_S + 0.001
    assert limiter.try_admit(0) == 0.0
    assert limiter.try_admit(0) == pytest.approx(10 - 0.001)


def test_tpm_waits_until_enough_tokens_leave_the_window() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimits(tpm=1000), clock=clock)
    assert limiter.try_admit(400) == 0.0
    clock.now = NOW + 20
    assert limiter.try_admit(400) == 0.0
    clock.now = NOW + 40
    # 800 spent: 500 more fit once the first 400 leave (at 60), not before.
    assert limiter.try_admit(500) == 20.0
    assert limiter.try_admit(100) == 0.0  # 900 of 1000
    assert limiter.try_admit(800) == 40.0  # both 400s must go (at 80)


def test_a_request_larger_than_the_tpm_limit_goes_alone() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimits(tpm=100), clock=clock)
    assert limiter.try_admit(500) == 0.0
    assert limiter.try_admit(1) == WINDOW_S
    clock.now = NOW + WINDOW_S + 1
    assert limiter.try_admit(500) == 0.0


def test_a_hold_stops_everyone_but_the_request_that_waits_it_out() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    until = limiter.hold(5)
    assert until == NOW + 5
    assert limiter.try_admit(0) == 5.0
    assert limiter.try_admit(0, waited_until=until) == 0.0
    # A longer hold given meanwhile by another request still applies to it.
    assert limiter.hold(2) == until
    limiter.hold(0)
    clock.now = NOW + 1
    later = limiter.hold(9)
    assert limiter.try_admit(0, waited_until=until) == later - clock.now


def test_limits_hold_across_limiters_sharing_a_file(tmp_path: Path) -> None:
    """Each process of a run makes its own limiter over the run's one state file."""
    path = tmp_path / ".rate"
    clock = Clock()
    first, second = (RateLimiter(RateLimits(rpm=2), SharedState(path), clock) for _ in range(2))
    assert first.try_admit(0) == 0.0
    assert second.try_admit(0) == 0.0
    assert first.try_admit(0) == WINDOW_S
    second.hold(90)
    assert first.try_admit(0) == 90


def test_threads_never_exceed_the_rpm_limit(tmp_path: Path) -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimits(rpm=50), SharedState(tmp_path / ".rate"), clock)
    admitted: list[float] = []

    def ask() -> None:
        for _ in range(20):
            if limiter.try_admit(0) == 0.0:
                admitted.append(clock.now)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 50


def test_estimated_tokens_are_the_cap_plus_a_quarter_of_the_body() -> None:
    payload = {"model": "m", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    body = json.dumps(payload).encode()
    assert estimated_tokens(payload, body) == 16 + len(body) // 4
    assert estimated_tokens({"max_completion_tokens": 64}, None) == 64
    assert estimated_tokens({"max_tokens": True}, None) == 0


def test_a_base64_image_counts_as_a_fixed_number_of_tokens() -> None:
    image = base64.b64encode(bytes(range(256)) * 400).decode()
    payload = {"max_tokens": 8, "image": f"data:image/png;base64,{image}"}
    body = json.dumps(payload).encode()
    rest = len(body) - len(image)
    assert estimated_tokens(payload, body) == 8 + rest // 4 + BLOB_TOKENS


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": " 1.5 "}, 1.5),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after-ms": "120"}, 0.12),
        ({"retry-after-ms": "120", "retry-after": "3"}, 0.12),
        ({"retry-after-ms": "soon", "retry-after": "3"}, 3.0),
        ({}, None),
        ({"retry-after": ""}, None),
        ({"retry-after": "-3"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "tomorrow"}, None),
    ],
)
def test_retry_after_forms(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_s(headers, NOW) == seconds


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    later = email.utils.format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after_s({"retry-after": later}, now.timestamp()) == 30.0
    earlier = email.utils.format_datetime(now - timedelta(seconds=30), usegmt=True)
    assert retry_after_s({"retry-after": earlier}, now.timestamp()) == 0.0
    # "-0000" parses without a zone: still UTC, never local time.
    naive = (now + timedelta(seconds=10)).strftime("%a, %d %b %Y %H:%M:%S -0000")
    assert retry_after_s({"retry-after": naive}, now.timestamp()) == 10.0


@pytest.mark.parametrize(
    ("attempt", "jitter", "seconds"),
    [(1, 1.0, 1.0), (1, 0.0, 0.5), (2, 0.5, 1.5), (3, 1.0, 4.0), (4, 1.0, 8.0), (9, 1.0, 8.0)],
)
def test_backoff_doubles_up_to_its_cap_with_jitter(
    attempt: int, jitter: float, seconds: float
) -> None:
    assert backoff_s(attempt, jitter) == seconds
