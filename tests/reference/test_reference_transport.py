"""The reference's transport faults on a real loopback server, and what the recording
client makes of each: bounded in time and memory, with no error in the server's log."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import httpx
import pytest
from reference_helpers import AUTH
from transport_helpers import BODY, chat

from chatconform.client import Limits, RecordingClient
from chatconform.reference import ReferenceServer, transport
from chatconform.reference.transport import BROKEN_CHARACTER, HUGE_BODY_BYTES, RESET_AFTER_EVENTS


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def server_log_stays_clean() -> Iterator[None]:
    """A fault is made on purpose: uvicorn must log no error (or traceback) for it."""
    handler = Records()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in handler.records] == []


def client(server: ReferenceServer, **limits: float) -> RecordingClient:
    """A recording client with short timeouts, whose waits between attempts are noted
    rather than slept (the faults care only that the request is sent again)."""
    return RecordingClient(
        server.base_url,
        headers=AUTH,
        limits=Limits(
            **{"connect_timeout_s": 2, "read_timeout_s": 2, "total_timeout_s": 4, **limits}
        ),
        sleep=lambda seconds: None,
        jitter=lambda: 0.5,
    )


def test_slowloris_trickles_the_answer_one_byte_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport, "TRICKLE_S", 0.002)
    with ReferenceServer(faults={"slowloris"}, pace_s=0.0) as server:
        timeout = httpx.Timeout(5.0)
        with (
            httpx.Client(timeout=timeout) as http,
            http.stream(
                "POST", f"{server.base_url}/chat/completions", json=BODY, headers=AUTH
            ) as r,
        ):
            reads = list(r.iter_raw())
    body = b"".join(reads)
    # A byte at a time; a busy client may find two or three waiting at one read.
    assert len(reads) >= len(body) // 4
    answer = json.loads(body)
    assert answer["object"] == "chat.completion"


def test_slowloris_is_cut_by_the_read_timeout_in_bounded_time() -> None:
    with (
        ReferenceServer(faults={"slowloris"}, pace_s=0.0) as server,
        client(server, read_timeout_s=0.5) as recording,
    ):
        started = time.monotonic()
        exchange = recording.request("POST", "chat/completions", json=BODY)
    assert (
        time.monotonic() - started < 4
    )  # a byte comes every 5 s: only the read timeout ends it this soon
    assert exchange.status == 200
    assert exchange.error == "stalled: no data for 0.5 s after the headers"


def test_a_trickle_faster_than_the_read_timeout_is_cut_by_the_total_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each byte beats the read timeout, so only the total bounds the request: at most
    the total plus one read timeout."""
    monkeypatch.setattr(transport, "TRICKLE_S", 0.1)
    with (
        ReferenceServer(faults={"slowloris"}, pace_s=0.0) as server,
        client(server, read_timeout_s=1.0, total_timeout_s=1.0) as recording,
    ):
        started = time.monotonic()
        exchange = recording.request("POST", "chat/completions", json=BODY)
    # The trickle alone would take over 30 s.
    assert time.monotonic() - started < 4
    assert exchange.error == "total timeout: response still arriving after 1 s"
    assert 0 < len(exchange.body) < 20


def test_reset_midstream_resets_after_the_first_events() -> None:
    with (
        ReferenceServer(faults={"reset-midstream"}, pace_s=0.0) as server,
        client(server) as recording,
    ):
        exchange = recording.request(
            "POST", "chat/completions", json={**BODY, "stream": True}, stream=True
        )
    assert exchange.status == 200
    assert exchange.error is not None
    assert "Connection reset by peer" in exchange.error, exchange.error
    assert len(exchange.events) == RESET_AFTER_EVENTS


def test_truncated_body_stops_short_of_its_content_length() -> None:
    with (
        ReferenceServer(faults={"truncated-body"}, pace_s=0.0) as server,
        client(server) as recording,
    ):
        exchange = recording.request("POST", "chat/completions", json=BODY)
    assert exchange.status == 200
    promised = int(exchange.headers["content-length"])
    assert len(exchange.body) == promised // 2
    assert exchange.error is not None
    assert f"received {promised // 2} bytes, expected {promised}" in exchange.error


def test_invalid_utf8_breaks_one_character_of_the_stream() -> None:
    with ReferenceServer(faults={"invalid-utf8"}, pace_s=0.0) as server:
        raw = chat(server, stream=True).raw
    assert raw.count(BROKEN_CHARACTER) == 1
    text = raw.decode("utf-8", "replace")
    assert text.count("\ufffd") == 1
    # Everything else is the faithful stream.
    assert raw.replace(BROKEN_CHARACTER, b"").decode("utf-8").endswith("data: [DONE]\n\n")


def test_huge_body_is_40_mb_of_valid_json_the_client_cuts_at_its_cap() -> None:
    with ReferenceServer(faults={"huge-body"}, pace_s=0.0) as server:
        whole = json.loads(chat(server).raw)
        with client(server) as recording:
            started = time.monotonic()
            exchange = recording.request("POST", "chat/completions", json=BODY)
    assert whole["object"] == "chat.completion"
    assert len(whole["choices"][0]["message"]["content"]) > HUGE_BODY_BYTES - 1000
    assert time.monotonic() - started < 6
    assert exchange.truncated
    assert len(exchange.body) == Limits().max_body_bytes
    assert exchange.headers["content-length"] == str(HUGE_BODY_BYTES)


def test_gzip_lie_is_recorded_as_an_encoding_error_not_an_outage() -> None:
    with ReferenceServer(faults={"gzip-lie"}, pace_s=0.0) as server, client(server) as recording:
        exchange = recording.request("POST", "chat/completions", json=BODY)
    assert exchange.status == 200
    assert exchange.headers["content-encoding"] == "gzip"
    assert exchange.encoding_error == "Error -3 while decompressing data: incorrect header check"


def test_html_502_is_a_proxy_page() -> None:
    with ReferenceServer(faults={"html-502"}, pace_s=0.0) as server:
        seen = chat(server)
    assert seen.status == 502
    assert b"<title>502 Bad Gateway</title>" in seen.raw


def test_rate_limited_is_answered_after_the_retry_after() -> None:
    with (
        ReferenceServer(faults={"rate-limited"}, pace_s=0.0) as server,
        client(server) as recording,
    ):
        exchange = recording.request("POST", "chat/completions", json=BODY)
    assert (exchange.status, exchange.attempts) == (200, 2)
    assert exchange.retry_wait_s == 1.0


def test_flaky_503_is_answered_when_sent_again() -> None:
    with ReferenceServer(faults={"flaky-503"}, pace_s=0.0) as server, client(server) as recording:
        exchanges = [recording.request("POST", "chat/completions", json=BODY) for _ in range(3)]
    assert [(e.status, e.attempts) for e in exchanges] == [(200, 1), (200, 1), (200, 2)]
    assert exchanges[-1].retry_wait_s == 0.75


def test_a_server_dying_half_way_refuses_the_rest_and_the_client_stops_sending() -> None:
    with (
        ReferenceServer(faults={"connection-refused-midrun"}, pace_s=0.0) as server,
        client(server) as recording,
    ):
        started = time.monotonic()
        exchanges = [recording.request("POST", "chat/completions", json=BODY) for _ in range(20)]
        # The server's loop ends on its own once it died.
        time.sleep(0.3)
        assert server._thread is not None and not server._thread.is_alive()
    assert time.monotonic() - started < 5
    answered = [e for e in exchanges if e.status == 200]
    assert len(answered) == transport.DIE_AFTER_REQUESTS
    failed = exchanges[len(answered) :]
    assert all(e.status is None for e in failed)
    assert failed[-1].error is not None
    assert failed[-1].error.startswith("not sent: provider unreachable: 3 requests in a row")
    assert failed[-1].attempts == 0
