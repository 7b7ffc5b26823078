"""Tests of the run's breaker (chatconform.breaker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from chatconform.breaker import REFUSED_STREAK, UNREACHABLE_STREAK, Breaker, Outcome
from chatconform.shared_state import SharedState


def test_trips_after_connection_failures_in_a_row() -> None:
    breaker = Breaker()
    for n in range(UNREACHABLE_STREAK):
        assert breaker.tripped() is None
        breaker.record(Outcome.UNREACHABLE, f"ConnectError: {n}")
    assert breaker.tripped() == (
        f"provider unreachable: {UNREACHABLE_STREAK} requests in a row could not connect "
        f"(last: ConnectError: {UNREACHABLE_STREAK - 1})"
    )


def test_trips_after_refusals_in_a_row() -> None:
    breaker = Breaker()
    for _ in range(REFUSED_STREAK):
        assert breaker.tripped() is None
        breaker.record(Outcome.REFUSED, "rate limited: HTTP 429")
    assert breaker.tripped() == (
        f"rate limited: HTTP 429 for {REFUSED_STREAK} requests in a row, after their retries"
    )


def test_an_answer_ends_both_streaks() -> None:
    breaker = Breaker()
    for _ in range(3):
        for _ in range(UNREACHABLE_STREAK - 1):
            breaker.record(Outcome.UNREACHABLE, "refused")
        for _ in range(REFUSED_STREAK - 1):
            breaker.record(Outcome.REFUSED, "rate limited: HTTP 429")
        breaker.record(Outcome.ANSWERED, "")
    assert breaker.tripped() is None


def test_a_connection_that_then_fails_ends_only_the_unreachable_streak() -> None:
    breaker = Breaker()
    for _ in range(UNREACHABLE_STREAK - 1):
        breaker.record(Outcome.UNREACHABLE, "refused")
    breaker.record(Outcome.CONNECTED, "ReadError: reset")
    breaker.record(Outcome.UNREACHABLE, "refused")
    assert breaker.tripped() is None
    for _ in range(REFUSED_STREAK - 1):
        breaker.record(Outcome.REFUSED, "provider unavailable: HTTP 503")
    breaker.record(Outcome.CONNECTED, "stalled")
    breaker.record(Outcome.REFUSED, "provider unavailable: HTTP 503")
    assert breaker.tripped() == (
        f"provider unavailable: HTTP 503 for {REFUSED_STREAK} requests in a row, "
        "after their retries"
    )


def test_once_tripped_it_stays_tripped_with_its_first_reason() -> None:
    breaker = Breaker()
    for _ in range(UNREACHABLE_STREAK):
        breaker.record(Outcome.UNREACHABLE, "refused")
    reason = breaker.tripped()
    breaker.record(Outcome.ANSWERED, "")
    assert breaker.tripped() == reason


def test_breakers_sharing_a_file_count_one_streak(tmp_path: Path) -> None:
    """Workers of one run each have a breaker over the run's state file."""
    workers = [Breaker(SharedState(tmp_path / ".breaker")) for _ in range(UNREACHABLE_STREAK)]
    for worker in workers:
        assert worker.tripped() is None
        worker.record(Outcome.UNREACHABLE, "refused")
    assert all(worker.tripped() for worker in workers)


class AlwaysRateLimited(BaseHTTPRequestHandler):
    """A provider out of quota: every request answered 429, asking for no wait."""

    def _refuse(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        body = json.dumps(
            {
                "error": {
                    "message": "quota exceeded",
                    "type": "requests",
                    "code": "rate_limit_exceeded",
                }
            }
        ).encode()
        self.send_response(429)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("retry-after", "0")
        self.end_headers()
        self.wfile.write(body)
        self.server.requests += 1  # type: ignore[attr-defined]

    do_GET = do_POST = _refuse

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_run_against_a_provider_refusing_everything_ends_at_once_inconclusive(
    tmp_path: Path,
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), AlwaysRateLimited)
    server.requests = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    command = [
        sys.executable, "-m", "chatconform", "run",
        "--base-url", f"http://127.0.0.1:{server.server_port}/v1",
        "--model", "m", "--api-key-env", "CC_BREAKER_KEY",
        "--only", "openai/text", "--concurrency", "1",
        "--reports", str(tmp_path),
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command,
            env={**os.environ, "CC_BREAKER_KEY": "k"},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.shutdown()
        thread.join()
    (found,) = tmp_path.glob("*/results.json")
    results = json.loads(found.read_text())
    cases = results["cases"]
    assert len(cases) > REFUSED_STREAK
    assert {c["verdict"] for c in cases} == {"inconclusive"}
    assert all("rate limited" in c["reason"] for c in cases), [c["reason"] for c in cases]
    # The preflight, then the streak's requests with their retries: nothing after.
    assert server.requests == 1 + REFUSED_STREAK * 3  # type: ignore[attr-defined]
    assert results["waits"]["retries"] == REFUSED_STREAK * 2
    assert (
        f": Nothing judged: {len(cases)} inconclusive (rate limited: {len(cases)} cases)\n"
        in done.stdout
    ), done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 0, done.stdout + done.stderr
