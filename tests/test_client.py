"""Tests of the recording client (chatconform.client.RecordingClient).

In-process fakes (httpx.MockTransport) for recording, redaction and retries;
raw socket servers on loopback for the timeouts that only a real wire shows.
"""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from chatconform.breaker import REFUSED_STREAK, UNREACHABLE_STREAK
from chatconform.client import Limits, RecordingClient, http_transport
from chatconform.exchange import Exchange
from chatconform.rate import RateLimiter, RateLimits
from chatconform.redaction import OTHER_CREDENTIAL, REDACTED, Redactor
from chatconform.reference import ReferenceServer

SECRET = "sk-test-0123456789abcdef"
Handler = Callable[[httpx.Request], httpx.Response]


def mock_client(handler: Handler, **kwargs: object) -> RecordingClient:
    kwargs.setdefault("redactor", Redactor([SECRET]))
    kwargs.setdefault("headers", {"Authorization": f"Bearer {SECRET}"})
    return RecordingClient(
        "http://provider.test/v1/", transport=httpx.MockTransport(handler), **kwargs
    )


def sse_response(*chunks: bytes, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, headers={"content-type": "text/event-stream"}, content=iter(chunks)
    )


class Sleeps(list[float]):
    """A fake ``sleep`` that records the waits asked of it."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def answers(*responses: httpx.Response) -> tuple[Handler, list[httpx.Request]]:
    """A handler giving the responses in order, and the requests it saw."""
    seen: list[httpx.Request] = []
    pending = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return pending.pop(0)

    return handler, seen


# --- recording ---------------------------------------------------------------


def test_records_status_lowercased_headers_and_body() -> None:
    handler, seen = answers(
        httpx.Response(201, headers={"Content-Type": "application/json", "X-Thing": "1"}, json={})
    )
    with mock_client(handler) as client:
        exchange = client.request("POST", "/chat/completions", json={"model": "m"})
    assert exchange.status == 201
    assert exchange.headers["content-type"] == "application/json"
    assert exchange.headers["x-thing"] == "1"
    assert exchange.json() == {}
    assert exchange.error is None
    assert exchange.attempts == 1
    assert exchange.request.url == "http://provider.test/v1/chat/completions"
    assert exchange.request.json() == {"model": "m"}
    assert seen[0].headers["content-type"] == "application/json"
    assert json.loads(seen[0].content) == {"model": "m"}


def test_header_given_as_none_is_not_sent() -> None:
    handler, seen = answers(httpx.Response(401))
    with mock_client(handler) as client:
        exchange = client.request("GET", "models", headers={"Authorization": None})
    assert "authorization" not in seen[0].headers
    assert "Authorization" not in exchange.request.headers


def test_secret_is_sent_but_redacted_in_the_recorded_request() -> None:
    handler, seen = answers(httpx.Response(200))
    with mock_client(handler) as client:
        exchange = client.request("POST", "x", json={"note": SECRET})
    assert seen[0].headers["authorization"] == f"Bearer {SECRET}"
    assert exchange.request.headers["Authorization"] == f"Bearer {REDACTED}"
    assert SECRET.encode() not in exchange.request.body
    assert exchange.request.json() == {"note": REDACTED}


def test_secret_echoed_in_response_body_and_headers_is_redacted() -> None:
    handler, _ = answers(
        httpx.Response(
            401,
            headers={"X-Echo": f"key={SECRET}", "Set-Cookie": "session=abc123"},
            json={"error": {"message": f"bad key {SECRET}"}},
        )
    )
    with mock_client(handler) as client:
        exchange = client.request("GET", "models")
    assert SECRET.encode() not in exchange.body
    assert exchange.json()["error"]["message"] == f"bad key {REDACTED}"
    assert exchange.headers["x-echo"] == f"key={REDACTED}"
    assert exchange.headers["set-cookie"] == OTHER_CREDENTIAL


def test_secret_split_across_reads_is_redacted_in_body_and_events() -> None:
    event = f'data: {{"echo": "{SECRET}"}}\n\n'.encode()
    cut = event.index(SECRET.encode()) + 5
    handler, _ = answers(sse_response(event[:cut], event[cut:]))
    with mock_client(handler) as client:
        exchange = client.request("POST", "x", stream=True)
    assert SECRET.encode() not in exchange.body
    assert [e.data for e in exchange.events] == [f'{{"echo": "{REDACTED}"}}']


def test_secret_cut_by_truncation_is_redacted() -> None:
    body = b"x" * 10 + SECRET.encode() + b"y" * 10
    handler, _ = answers(httpx.Response(200, content=iter([body])))
    with mock_client(handler, limits=Limits(max_body_bytes=20)) as client:
        exchange = client.request("GET", "x")
    assert exchange.truncated
    assert exchange.body == b"x" * 10 + REDACTED.encode()


def test_secret_beginning_where_reading_stopped_is_redacted() -> None:
    # Not truncated by size: a stream cut by the suite or a stall ends anywhere too.
    handler, _ = answers(httpx.Response(200, content=iter([b"data: x", SECRET[:10].encode()])))
    with mock_client(handler) as client:
        exchange = client.request("POST", "x", stream=True)
    assert not exchange.truncated
    assert exchange.body == b"data: x" + REDACTED.encode()
    assert exchange.unterminated_tail == "data: x" + REDACTED


def test_secret_echoed_json_escaped_is_redacted_and_the_body_stays_json() -> None:
    slashy = "sk-test/0123+456789abcdef"
    slash_escaped = slashy.replace("/", "\\/")
    all_escaped = "".join(f"\\u{ord(c):04X}" for c in slashy)
    handler, _ = answers(
        httpx.Response(200, content=f'{{"a": "{slash_escaped}", "b": "{all_escaped}"}}')
    )
    with mock_client(handler, redactor=Redactor([slashy])) as client:
        exchange = client.request("GET", "x")
    assert exchange.json() == {"a": REDACTED, "b": REDACTED}


def test_secret_split_across_deltas_is_cut_out_of_events_and_body() -> None:
    pieces = ["5 (key:", f" {SECRET[:6]}", SECRET[6:12], f"{SECRET[12:]})"]
    events = [
        f'data: {{"choices":[{{"delta":{{"content":{json.dumps(p)}}}}}]}}\n\n'.encode()
        for p in pieces
    ]
    handler, _ = answers(sse_response(*events, b"data: [DONE]\n\n"))
    with mock_client(handler) as client:
        exchange = client.request("POST", "x", stream=True)
    contents = [json.loads(e.data)["choices"][0]["delta"]["content"] for e in exchange.events[:-1]]
    assert "".join(contents) == f"5 (key: {REDACTED})"
    assert SECRET[6:12].encode() not in exchange.body
    assert exchange.body.endswith(b"data: [DONE]\n\n")


def test_credential_in_the_url_is_sent_but_recorded_redacted() -> None:
    handler, seen = answers(httpx.Response(200))
    with mock_client(handler) as client:
        exchange = client.request("GET", "models?key=AIza-other-credential")
    assert seen[0].url.params["key"] == "AIza-other-credential"
    assert "AIza" not in exchange.request.url and REDACTED in exchange.request.url


def test_credential_header_with_another_key_is_replaced() -> None:
    handler, seen = answers(httpx.Response(401))
    with mock_client(handler) as client:
        exchange = client.request("GET", "models", headers={"x-api-key": "sk-wrong-key-999"})
    assert seen[0].headers["x-api-key"] == "sk-wrong-key-999"
    assert exchange.request.headers["x-api-key"] == OTHER_CREDENTIAL
    assert "sk-wrong-key-999" not in json.dumps(exchange.request.headers)


def test_gzip_encoded_body_is_recorded_decoded() -> None:
    payload = json.dumps({"object": "chat.completion"}).encode()
    handler, _ = answers(
        httpx.Response(
            200,
            headers={"content-type": "application/json", "content-encoding": "gzip"},
            content=iter([gzip.compress(payload)]),
        )
    )
    with mock_client(handler) as client:
        exchange = client.request("GET", "x")
    assert exchange.json() == {"object": "chat.completion"}


# --- retries -----------------------------------------------------------------


def test_retries_429_honouring_retry_after_seconds() -> None:
    handler, seen = answers(
        httpx.Response(429, headers={"retry-after": "3"}),
        httpx.Response(200, json={"ok": True}),
    )
    sleeps = Sleeps()
    with mock_client(handler, sleep=sleeps) as client:
        exchange = client.request("GET", "x")
    assert exchange.status == 200
    assert exchange.attempts == 2
    assert sleeps == [3.0]
    assert len(seen) == 2


def test_retries_503_honouring_retry_after_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=6)
    handler, _ = answers(
        httpx.Response(503, headers={"retry-after": email.utils.format_datetime(when, True)}),
        httpx.Response(200),
    )
    sleeps = Sleeps()
    with mock_client(handler, sleep=sleeps) as client:
        exchange = client.request("GET", "x")
    assert exchange.status == 200
    assert exchange.attempts == 2
    assert len(sleeps) == 1
    # HTTP dates have whole seconds: the wait is the 6 s less under one second.
    assert 4.5 <= sleeps[0] <= 6.0


def test_retry_after_date_in_the_past_waits_zero() -> None:
    handler, _ = answers(
        httpx.Response(429, headers={"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        httpx.Response(200),
    )
    sleeps = Sleeps()
    with mock_client(handler, sleep=sleeps) as client:
        assert client.request("GET", "x").status == 200
    assert sleeps == [0.0]


def test_without_retry_after_backs_off_exponentially_then_gives_up() -> None:
    handler, seen = answers(*(httpx.Response(429) for _ in range(4)))
    sleeps = Sleeps()
    with mock_client(
        handler, sleep=sleeps, limits=Limits(max_retries=3), jitter=lambda: 1.0
    ) as client:
        exchange = client.request("GET", "x")
    assert sleeps == [1.0, 2.0, 4.0]
    assert exchange.status == 429
    assert exchange.attempts == 4
    assert len(seen) == 4


def test_gives_up_when_retry_after_exceeds_the_bound() -> None:
    handler, seen = answers(httpx.Response(429, headers={"retry-after": "120"}))
    sleeps = Sleeps()
    with mock_client(handler, sleep=sleeps, limits=Limits(max_retry_wait_s=20)) as client:
        exchange = client.request("GET", "x")
    assert exchange.status == 429
    assert exchange.attempts == 1
    assert sleeps == []
    assert len(seen) == 1


def test_no_retries_when_max_retries_is_zero() -> None:
    handler, seen = answers(httpx.Response(503, headers={"retry-after": "1"}))
    sleeps = Sleeps()
    with mock_client(handler, sleep=sleeps, limits=Limits(max_retries=0)) as client:
        exchange = client.request("GET", "x")
    assert (exchange.status, exchange.attempts, sleeps, len(seen)) == (503, 1, [], 1)


@pytest.mark.parametrize("status", [400, 500, 502])
def test_other_statuses_are_not_retried(status: int) -> None:
    handler, seen = answers(httpx.Response(status, headers={"retry-after": "1"}))
    sleeps = Sleeps()
    with mock_client(handler, sleep=sleeps) as client:
        exchange = client.request("GET", "x")
    assert exchange.status == status
    assert exchange.attempts == 1
    assert sleeps == []
    assert len(seen) == 1


def test_backoff_is_jittered_between_half_and_all_of_the_doubling() -> None:
    handler, _ = answers(*(httpx.Response(503) for _ in range(4)))
    sleeps = Sleeps()
    with mock_client(
        handler, sleep=sleeps, limits=Limits(max_retries=3), jitter=lambda: 0.0
    ) as client:
        client.request("GET", "x")
    assert sleeps == [0.5, 1.0, 2.0]


def test_backoff_stops_doubling_at_its_cap() -> None:
    handler, _ = answers(*(httpx.Response(529) for _ in range(6)))
    sleeps = Sleeps()
    limits = Limits(max_retries=5, max_backoff_s=3.0)
    with mock_client(handler, sleep=sleeps, limits=limits, jitter=lambda: 1.0) as client:
        exchange = client.request("GET", "x")
    assert (exchange.status, exchange.attempts) == (529, 6)
    assert sleeps == [1.0, 2.0, 3.0, 3.0, 3.0]


def test_retry_after_ms_is_honoured_before_retry_after() -> None:
    handler, _ = answers(
        httpx.Response(429, headers={"retry-after-ms": "250", "retry-after": "1"}),
        httpx.Response(200),
    )
    sleeps = Sleeps()
    with mock_client(handler, sleep=sleeps) as client:
        exchange = client.request("GET", "x")
    assert sleeps == [0.25]
    assert (exchange.retry_wait_s, exchange.rate_wait_s) == (0.25, 0.0)


# --- rate control and the breaker -------------------------------------------


class FakeClock:
    """Wall-clock time that only ``sleep`` moves on, recording each wait."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def paced_client(
    handler: Handler, clock: FakeClock, limits: RateLimits | None = None, **kwargs: object
) -> RecordingClient:
    kwargs.setdefault("limiter", RateLimiter(limits, clock=clock))
    return mock_client(handler, sleep=clock.sleep, jitter=lambda: 1.0, **kwargs)


def test_requests_over_the_rpm_limit_wait_for_the_window_and_say_so() -> None:
    handler, seen = answers(*(httpx.Response(200) for _ in range(3)))
    clock = FakeClock()
    with paced_client(handler, clock, RateLimits(rpm=2)) as client:
        exchanges = [client.request("GET", "x") for _ in range(3)]
    assert [e.rate_wait_s for e in exchanges] == [0.0, 0.0, 60.0]
    assert sum(clock.sleeps) == 60.0
    assert max(clock.sleeps) <= 1.0  # in slices, asking the breaker between them
    assert len(seen) == 3


def test_a_retry_after_holds_the_other_requests_of_the_run() -> None:
    """Two clients of one run share a limiter; while one waits out a Retry-After, the
    other, asked to send, waits for it too (the wait is the key's, not the request's)."""
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    other_handler, _ = answers(httpx.Response(200))
    other = paced_client(other_handler, clock, limiter=limiter)
    during: list[Exchange] = []

    def sleep_while_the_other_sends(seconds: float) -> None:
        if not during:
            during.append(other.request("GET", "y"))
        clock.sleep(seconds)

    handler, _ = answers(httpx.Response(429, headers={"retry-after": "5"}), httpx.Response(200))
    with mock_client(handler, sleep=sleep_while_the_other_sends, limiter=limiter) as client:
        exchange = client.request("GET", "x")
    other.close()
    assert (exchange.status, exchange.retry_wait_s, exchange.rate_wait_s) == (200, 5.0, 0.0)
    assert during[0].status == 200
    assert during[0].rate_wait_s == 5.0


def test_connection_failures_in_a_row_stop_the_run_sending() -> None:
    sent: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    with mock_client(refuse) as client:
        exchanges = [client.request("POST", "chat/completions", json={}) for _ in range(5)]
    assert len(sent) == UNREACHABLE_STREAK
    assert [e.attempts for e in exchanges] == [1] * UNREACHABLE_STREAK + [0, 0]
    assert exchanges[-1].error == (
        f"not sent: provider unreachable: {UNREACHABLE_STREAK} requests in a row could not "
        "connect (last: ConnectError: [Errno 111] Connection refused)"
    )
    assert exchanges[-1].status is None
    assert exchanges[-1].request.method == "POST"


def test_an_answer_between_connection_failures_keeps_the_run_sending() -> None:
    failing = iter([True, True, False] * 3)
    sent: list[httpx.Request] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if next(failing):
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200)

    with mock_client(flaky) as client:
        exchanges = [client.request("GET", "x") for _ in range(9)]
    assert len(sent) == 9
    assert all(not (e.error or "").startswith("not sent") for e in exchanges)


def test_a_provider_refusing_everything_ends_the_run_in_bounded_time() -> None:
    """Every request answered 429: a few requests spend their retries, then the rest are
    not sent, and the whole costs a bounded wait, not one per case."""
    sent: list[httpx.Request] = []

    def always_429(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(429, headers={"retry-after": "2"})

    clock = FakeClock()
    with paced_client(always_429, clock) as client:
        exchanges = [client.request("GET", "x") for _ in range(60)]
    retried = REFUSED_STREAK * (Limits().max_retries + 1)
    assert len(sent) == retried
    assert sum(clock.sleeps) == REFUSED_STREAK * Limits().max_retries * 2.0
    assert [e.status for e in exchanges[:REFUSED_STREAK]] == [429] * REFUSED_STREAK
    assert {e.error for e in exchanges[REFUSED_STREAK:]} == {
        f"not sent: rate limited: HTTP 429 for {REFUSED_STREAK} requests in a row, "
        "after their retries"
    }


def test_body_not_encoded_as_its_content_encoding_says_is_recorded() -> None:
    handler, _ = answers(
        httpx.Response(
            200,
            headers={"content-encoding": "gzip", "content-type": "application/json"},
            # An iterator: bytes given whole would be decoded (and fail) right here.
            content=iter([b'{"object": "chat.completion"}']),
        )
    )
    with mock_client(handler) as client:
        exchange = client.request("GET", "x")
    assert exchange.status == 200
    assert exchange.encoding_error == "Error -3 while decompressing data: incorrect header check"
    assert exchange.error == (
        "body not decodable as Content-Encoding 'gzip': "
        "Error -3 while decompressing data: incorrect header check"
    )


def test_one_client_serves_many_threads() -> None:
    """Cases in flight together share a client (and its limiter): every request is sent
    once, recorded once, and counted once against the limit."""
    handler_lock = threading.Lock()
    seen: list[str] = []

    def echo(request: httpx.Request) -> httpx.Response:
        with handler_lock:
            seen.append(request.url.path)
        return httpx.Response(200, json={"path": request.url.path})

    limiter = RateLimiter(RateLimits(rpm=10_000))
    with mock_client(echo, limiter=limiter) as client:

        def send(n: int) -> str:
            return client.request("GET", f"r{n}").json()["path"]

        with ThreadPoolExecutor(8) as pool:
            paths = list(pool.map(send, range(200)))
    assert paths == [f"/v1/r{n}" for n in range(200)]
    assert sorted(seen) == sorted(paths)
    assert limiter.try_admit(0) == 0.0
    assert len(limiter._state.read()["sent"]) == 201


# --- size, streams, transport errors ----------------------------------------


def test_body_over_the_limit_is_cut_and_marked_truncated() -> None:
    handler, _ = answers(httpx.Response(200, content=iter([b"a" * 60, b"b" * 60])))
    with mock_client(handler, limits=Limits(max_body_bytes=100)) as client:
        exchange = client.request("GET", "x")
    assert exchange.truncated
    assert exchange.body == b"a" * 60 + b"b" * 40


def test_body_at_the_limit_is_not_truncated() -> None:
    handler, _ = answers(httpx.Response(200, content=iter([b"a" * 50, b"b" * 50])))
    with mock_client(handler, limits=Limits(max_body_bytes=100)) as client:
        exchange = client.request("GET", "x")
    assert not exchange.truncated
    assert len(exchange.body) == 100


def test_stream_decodes_events_with_non_decreasing_arrival_times() -> None:
    def chunks() -> Iterator[bytes]:
        yield b'data: {"n": 1}\n\n'
        time.sleep(0.01)
        yield b'data: {"n": 2}\n\ndata: {"n'
        time.sleep(0.01)
        yield b'": 3}\n\ndata: [DONE]\n\n'

    handler, _ = answers(
        httpx.Response(200, headers={"content-type": "text/event-stream"}, content=chunks())
    )
    with mock_client(handler) as client:
        exchange = client.request("POST", "x", json={"stream": True}, stream=True)
    assert exchange.streamed
    assert [e.data for e in exchange.events] == ['{"n": 1}', '{"n": 2}', '{"n": 3}', "[DONE]"]
    times = [e.t for e in exchange.events]
    assert times == sorted(times)
    assert times[2] > times[0]
    assert exchange.first_byte_s is not None
    assert exchange.first_byte_s <= times[0]
    assert exchange.unterminated_tail == ""
    assert exchange.body.endswith(b"data: [DONE]\n\n")


@pytest.mark.parametrize("ending", [b"data: [DONE]\n", b"data: [DONE]"])
def test_stream_missing_its_final_blank_line_sets_unterminated_tail(ending: bytes) -> None:
    handler, _ = answers(sse_response(b"data: {}\n\n", ending))
    with mock_client(handler) as client:
        exchange = client.request("POST", "x", stream=True)
    assert [e.data for e in exchange.events] == ["{}"]
    assert exchange.unterminated_tail == "data: [DONE]"


def test_requests_go_out_with_nagle_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # httpcore writes headers and body in two sends: with Nagle on, the body waited for
    # the ACK of the headers, which a server may delay ~40 ms.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    with (
        ReferenceServer() as server,
        httpx.Client(transport=http_transport()) as client,
        client.stream("GET", f"{server.base_url}/models") as response,
    ):
        sock = response.extensions["network_stream"].get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


class Proxy(BaseHTTPRequestHandler):
    """A forward proxy that answers every request itself, noting the URL asked for."""

    def do_GET(self) -> None:
        self.server.asked.append(self.path)  # type: ignore[attr-defined]
        body = b'{"object": "list", "data": []}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_a_proxy_named_by_the_environment_carries_the_requests(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    proxy.asked = []  # type: ignore[attr-defined]
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    monkeypatch.setenv(variable, f"http://127.0.0.1:{proxy.server_port}")
    try:
        with RecordingClient("http://provider.test/v1") as client:
            exchange = client.request("GET", "models")
    finally:
        proxy.shutdown()
    assert exchange.status == 200, exchange.error
    assert proxy.asked == ["http://provider.test/v1/models"]  # type: ignore[attr-defined]


def test_transport_error_is_recorded_not_raised() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with mock_client(refuse) as client:
        exchange = client.request("GET", "x")
    assert exchange.status is None
    assert exchange.error == "ConnectError: connection refused"
    assert exchange.body == b""
    assert exchange.excerpt().startswith("no response: ConnectError")


# --- real loopback servers ---------------------------------------------------

Scenario = Callable[[socket.socket, threading.Event], None]


class LoopbackServer:
    """A raw HTTP server on 127.0.0.1 that plays one scenario per connection."""

    def __init__(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self.stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            _read_request(conn)
            # OSError: the client hung up, as it should once it gives up.
            with contextlib.suppress(OSError):
                self._scenario(conn, self.stop)

    def close(self) -> None:
        self.stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=2)


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(4096)
        if not piece:
            return
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            remaining = int(value) - len(body)
            while remaining > 0:
                remaining -= len(conn.recv(4096))


SSE_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"


@pytest.fixture
def serve() -> Iterator[Callable[[Scenario], LoopbackServer]]:
    servers: list[LoopbackServer] = []

    def start(scenario: Scenario) -> LoopbackServer:
        servers.append(LoopbackServer(scenario))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_stalled_stream_is_cut_with_events_kept(
    serve: Callable[[Scenario], LoopbackServer],
) -> None:
    def two_events_then_stall(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(SSE_HEAD + b'data: {"n": 1}\n\ndata: {"n": 2}\n\n')
        stop.wait()

    server = serve(two_events_then_stall)
    limits = Limits(connect_timeout_s=1, read_timeout_s=0.5, total_timeout_s=5)
    started = time.monotonic()
    with RecordingClient(server.url, limits=limits) as client:
        exchange = client.request("POST", "chat/completions", json={}, stream=True)
    assert time.monotonic() - started < 2
    assert exchange.status == 200
    assert exchange.error is not None
    assert exchange.error.startswith("stalled"), exchange.error
    assert "2 events" in exchange.error
    assert [e.data for e in exchange.events] == ['{"n": 1}', '{"n": 2}']


def test_server_that_never_answers_is_a_read_timeout(
    serve: Callable[[Scenario], LoopbackServer],
) -> None:
    server = serve(lambda conn, stop: stop.wait())
    limits = Limits(connect_timeout_s=1, read_timeout_s=0.3, total_timeout_s=5)
    started = time.monotonic()
    with RecordingClient(server.url, limits=limits) as client:
        exchange = client.request("GET", "models")
    assert time.monotonic() - started < 2
    assert exchange.status is None
    assert exchange.error is not None
    assert exchange.error.startswith("read timeout"), exchange.error


def test_refused_connection_is_recorded() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    limits = Limits(connect_timeout_s=1, read_timeout_s=1, total_timeout_s=2)
    with RecordingClient(f"http://127.0.0.1:{port}", limits=limits) as client:
        exchange = client.request("GET", "models")
    assert exchange.status is None
    assert exchange.error is not None
    assert exchange.error.startswith("ConnectError"), exchange.error


def test_endless_stream_is_cut_by_the_total_timeout(
    serve: Callable[[Scenario], LoopbackServer],
) -> None:
    def forever(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(SSE_HEAD)
        n = 0
        while not stop.wait(0.02):
            n += 1
            conn.sendall(f'data: {{"n": {n}}}\n\n'.encode())

    server = serve(forever)
    limits = Limits(connect_timeout_s=1, read_timeout_s=0.5, total_timeout_s=0.5)
    started = time.monotonic()
    with RecordingClient(server.url, limits=limits) as client:
        exchange = client.request("POST", "chat/completions", json={}, stream=True)
    assert time.monotonic() - started < 2
    assert exchange.status == 200
    assert exchange.error is not None
    assert "total timeout" in exchange.error
    assert len(exchange.events) >= 5
    assert exchange.events[-1].t <= exchange.elapsed_s
