"""The recording client: the one place requests are sent and exchanges recorded."""

from __future__ import annotations

import dataclasses
import datetime
import email.utils
import json as jsonlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from chatconform import __version__
from chatconform.exchange import Exchange, RecordedRequest, StreamEvent
from chatconform.redaction import Redactor
from chatconform.sse import SSEDecoder

RETRY_STATUSES = frozenset({429, 503})
# Reads a response as it arrives; a reason to stop reading, or None to go on.
Cut = Callable[[Exchange], str | None]


@dataclass(frozen=True)
class Limits:
    """Bounds on every request: time, size and retries."""

    connect_timeout_s: float = 10.0
    # Longest silence tolerated between two reads: a stalled stream is cut here.
    read_timeout_s: float = 60.0
    total_timeout_s: float = 120.0
    max_body_bytes: int = 4 * 1024 * 1024
    max_retries: int = 2
    max_retry_wait_s: float = 20.0


class RecordingClient:
    """Sends requests to one provider and records each as an ``Exchange``.

    Secrets are redacted here, once, before anything is stored. Transport
    failures are recorded on the exchange (``error``), never raised.
    """

    # Whether requests go nowhere (a replay of a run's archive): see chatconform.replay.
    offline: ClassVar[bool] = False

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        redactor: Redactor | None = None,
        limits: Limits | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.limits = limits or Limits()
        self._redactor = redactor or Redactor()
        self._headers = {"user-agent": f"chatconform/{__version__}", **(headers or {})}
        self._sleep = sleep
        self._http = httpx.Client(
            timeout=httpx.Timeout(
                connect=self.limits.connect_timeout_s,
                read=self.limits.read_timeout_s,
                write=self.limits.read_timeout_s,
                pool=self.limits.connect_timeout_s,
            ),
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RecordingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        cut: Cut | None = None,
    ) -> Exchange:
        """Send one request (retrying 429/503 within bounds) and record what came back.

        ``headers`` are merged over the client's; a value of None removes one
        (the missing-key probe). ``stream`` decodes the body as server-sent
        events as it arrives, timing each event; ``cut`` is asked after each read
        and closes the connection once it gives a reason (an answer far over its
        cap), so a provider that ignores a limit can neither run up cost nor hang.
        """
        merged = {**self._headers, **(headers or {})}
        sent_headers = {k: v for k, v in merged.items() if v is not None}
        if json is not None:
            sent_headers.setdefault("content-type", "application/json")
        content = request_body(json, content)
        url = self.url(path)
        recorded = RecordedRequest(
            method=method,
            # A base URL may carry a credential (?key=, a signed ?sig=): recorded redacted.
            url=self._redactor.text(url),
            headers=self._redactor.headers(sent_headers),
            body=self._redactor.bytes(content or b""),
        )
        attempt = 0
        while True:
            attempt += 1
            exchange = self._send_once(recorded, url, sent_headers, content, stream, cut)
            exchange.attempts = attempt
            wait = self._retry_wait(exchange, attempt)
            if wait is None:
                return exchange
            self._sleep(wait)

    def _retry_wait(self, exchange: Exchange, attempt: int) -> float | None:
        if exchange.status not in RETRY_STATUSES or attempt > self.limits.max_retries:
            return None
        wait = _parse_retry_after(exchange.headers.get("retry-after"))
        if wait is None:
            wait = 2.0 ** (attempt - 1)
        if wait > self.limits.max_retry_wait_s:
            return None  # the provider asks for longer than a run can afford
        return wait

    def _send_once(
        self,
        recorded: RecordedRequest,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        stream: bool,
        cut: Cut | None = None,
    ) -> Exchange:
        exchange = Exchange(request=recorded, streamed=stream, sent_at=time.time())
        limits = self.limits
        started = time.monotonic()
        deadline = started + limits.total_timeout_s
        decoder = SSEDecoder() if stream else None
        body = bytearray()
        try:
            with self._http.stream(
                recorded.method, url, headers=headers, content=content
            ) as response:
                exchange.status = response.status_code
                # headers(), not text(): a provider's set-cookie is a credential too.
                exchange.headers = self._redactor.headers(
                    {k.lower(): v for k, v in response.headers.items()}
                )
                # iter_bytes, not iter_raw: the body is the entity with its
                # content-encoding undone (a gzip-ing provider's JSON is still
                # JSON), and it also works for responses already read in memory.
                for chunk in response.iter_bytes():
                    now = time.monotonic() - started
                    if exchange.first_byte_s is None:
                        exchange.first_byte_s = now
                    room = limits.max_body_bytes - len(body)
                    if len(chunk) > room:
                        chunk = chunk[:room]
                        exchange.truncated = True
                    body += chunk
                    if decoder is not None:
                        # Redacted per event, not per chunk: a secret split
                        # across two reads must not escape redaction.
                        exchange.events.extend(
                            StreamEvent(
                                self._redactor.text(e.data),
                                None if e.event is None else self._redactor.text(e.event),
                                None if e.id is None else self._redactor.text(e.id),
                                e.retry,
                                now,
                            )
                            for e in decoder.feed(chunk)
                        )
                    if exchange.truncated:
                        break
                    if cut is not None and (reason := cut(exchange)):
                        exchange.cut = reason
                        break
                    if time.monotonic() > deadline:
                        exchange.error = (
                            f"total timeout: response still arriving after "
                            f"{limits.total_timeout_s:g} s"
                        )
                        break
        except httpx.TimeoutException as exc:
            exchange.error = _describe_timeout(exc, exchange, limits)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            exchange.error = self._redactor.text(error)
        # Redacted whole, once: a secret may straddle two reads, or the end of what was
        # read (the size limit, the suite's cut, a stall, the total timeout).
        exchange.body = self._redactor.cut_bytes(bytes(body))
        exchange.elapsed_s = time.monotonic() - started
        if decoder is not None:
            # A secret spelt out over several deltas is in no single event: found joined.
            datas, exchange.body = self._redactor.stream(
                [e.data for e in exchange.events], exchange.body
            )
            exchange.events = [
                e if d == e.data else dataclasses.replace(e, data=d)
                for e, d in zip(exchange.events, datas, strict=True)
            ]
            tail = self._redactor.cut_bytes(decoder.unterminated().encode())
            exchange.unterminated_tail = tail.decode("utf-8", "replace")
        return exchange


def request_body(json: Any, content: bytes | None) -> bytes | None:
    """The bytes a request sends: ``json`` encoded, else ``content``. A replay of the run
    encodes its requests here too, so that they match the recorded ones byte for byte."""
    return jsonlib.dumps(json).encode() if json is not None else content


def _describe_timeout(exc: httpx.TimeoutException, exchange: Exchange, limits: Limits) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connect timeout: no connection within {limits.connect_timeout_s:g} s"
    if exchange.status is None:
        return f"read timeout: no response within {limits.read_timeout_s:g} s"
    got = f"{len(exchange.events)} events" if exchange.streamed else "part of the body"
    return f"stalled: no data for {limits.read_timeout_s:g} s after {got}"


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        # "-0000" parses naive; HTTP dates are UTC, never the local time zone.
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - time.time())
