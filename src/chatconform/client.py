"""The recording client: the one place requests are sent and exchanges recorded."""

from __future__ import annotations

import dataclasses
import functools
import json as jsonlib
import random
import socket
import ssl
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import httpx

from chatconform import __version__
from chatconform.breaker import Breaker, Outcome
from chatconform.config import ProviderConfig
from chatconform.exchange import Exchange, RecordedRequest, StreamEvent
from chatconform.rate import RateLimiter, RateLimits, backoff_s, estimated_tokens, retry_after_s
from chatconform.redaction import Redactor
from chatconform.shared_state import SharedState
from chatconform.sse import SSEDecoder

# Refusals that say "later", retried: rate limited, unavailable, Anthropic's overloaded.
RETRY_STATUSES = frozenset({429, 503, 529})
# The longest a wait for the run's rate limits sleeps before the breaker is asked again.
_ADMIT_SLICE_S = 1.0
# Where in a run's report directory its processes share their rate control.
RATE_FILE = ".rate-limits.json"
BREAKER_FILE = ".breaker.json"
# Reads a response as it arrives; a reason to stop reading, or None to go on.
Cut = Callable[[Exchange], str | None]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The trust store as httpx loads it (certifi, or SSL_CERT_FILE), loaded once per
    process: loading it costs tens of milliseconds, and each new client would."""
    return httpx.create_ssl_context()


def http_transport(**options: Any) -> httpx.HTTPTransport | None:
    """An httpx transport with Nagle's algorithm off, as curl and urllib3 have it; None
    where the environment names a proxy (httpx honours HTTP(S)_PROXY and NO_PROXY only
    for a client made without a transport of its own, so that one keeps httpx's).

    httpcore writes a request's headers and its body in two sends; with Nagle on, the
    body waits for the ACK of the headers, which the server may delay ~40 ms: every
    request would carry that, and the latencies measured with it.
    """
    proxies = urllib.request.getproxies()
    if any(proxies.get(scheme) for scheme in ("http", "https", "all")):
        return None
    return httpx.HTTPTransport(
        verify=tls_context(),
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        **options,
    )


# Headers every request of a dialect carries, whatever the provider's config adds.
DIALECT_HEADERS = {"anthropic": {"anthropic-version": "2023-06-01"}}


def auth_headers(auth: str, key: str | None) -> dict[str, str]:
    """The key as the dialect's auth style sends it."""
    if not key:
        return {}
    return {"x-api-key": key} if auth == "x-api-key" else {"authorization": f"Bearer {key}"}


def provider_headers(provider: ProviderConfig, dialect: str) -> dict[str, str]:
    """What every request to ``provider`` in ``dialect`` carries: the dialect's own
    headers, the configured ones, and the key as the dialect's auth style sends it."""
    spoken = provider.dialects[dialect]
    return {
        **DIALECT_HEADERS.get(dialect, {}),
        **spoken.header_values(),
        **auth_headers(spoken.auth, provider.api_key()),
    }


@dataclass(frozen=True)
class Limits:
    """Bounds on every request: time, size and retries."""

    connect_timeout_s: float = 10.0
    # Longest silence tolerated between two reads: a stalled stream is cut here.
    read_timeout_s: float = 60.0
    total_timeout_s: float = 120.0
    max_body_bytes: int = 4 * 1024 * 1024
    max_retries: int = 2
    # The longest Retry-After honoured: a provider asking for more is not retried.
    max_retry_wait_s: float = 20.0
    # The longest backoff between attempts when the provider asks for no wait.
    max_backoff_s: float = 8.0


class RecordingClient:
    """Sends requests to one provider and records each as an ``Exchange``.

    Secrets are redacted here, once, before anything is stored. Transport
    failures are recorded on the exchange (``error``), never raised. Requests wait
    for the run's ``RateLimiter`` and are not sent once its ``Breaker`` tripped; both
    may be shared by several clients, and one client by several threads.
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
        limiter: RateLimiter | None = None,
        breaker: Breaker | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.limits = limits or Limits()
        self._redactor = redactor or Redactor()
        self._headers = {"user-agent": f"chatconform/{__version__}", **(headers or {})}
        self._sleep = sleep
        self.limiter = limiter or RateLimiter()
        self.breaker = breaker or Breaker()
        self._jitter = jitter
        self._http = httpx.Client(
            timeout=httpx.Timeout(
                connect=self.limits.connect_timeout_s,
                read=self.limits.read_timeout_s,
                write=self.limits.read_timeout_s,
                pool=self.limits.connect_timeout_s,
            ),
            transport=transport or http_transport(),
            follow_redirects=False,
            verify=tls_context(),
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
        """Send one request (retrying 429/503/529 within bounds) and record what came back.

        ``headers`` are merged over the client's; a value of None removes one
        (the missing-key probe). ``stream`` decodes the body as server-sent
        events as it arrives, timing each event; ``cut`` is asked after each read
        and closes the connection once it gives a reason (an answer far over its
        cap), so a provider that ignores a limit can neither run up cost nor hang.
        Each attempt first waits for the run's rate limits; once the breaker has
        tripped, nothing is sent and the exchange's ``error`` says why.
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
        tokens = estimated_tokens(json, content)
        attempt, rate_wait, retry_wait, held_until = 0, 0.0, 0.0, 0.0
        exchange: Exchange | None = None
        while True:
            waited, refusal = self._admit(tokens, held_until)
            rate_wait += waited
            if refusal is not None:
                # Tripped while this request waited to retry: its last answer stands.
                if exchange is None:
                    exchange = Exchange(
                        request=recorded,
                        streamed=stream,
                        sent_at=time.time(),
                        attempts=0,
                        error=f"not sent: {refusal}",
                    )
                break
            attempt += 1
            exchange, connected = self._send_once(recorded, url, sent_headers, content, stream, cut)
            exchange.attempts = attempt
            wait = self._retry_wait(exchange, attempt)
            if wait is None:
                self._count(exchange, connected)
                break
            if retry_after_s(exchange.headers) is not None:
                # Every request of the run holds off, not only this one: the limit is
                # the key's. This one waits it out here, as its retry wait.
                held_until = self.limiter.hold(wait)
            self._sleep(wait)
            retry_wait += wait
        exchange.rate_wait_s, exchange.retry_wait_s = rate_wait, retry_wait
        return exchange

    def _admit(self, tokens: int, held_until: float) -> tuple[float, str | None]:
        """Wait until the run's rate limits admit the request: the seconds waited, and
        why the request is not to be sent at all (the breaker tripped), if so."""
        waited = 0.0
        while (refusal := self.breaker.tripped()) is None:
            wait = self.limiter.try_admit(tokens, held_until)
            if wait <= 0:
                break
            # In slices: a run that stops (the breaker trips) stops waiting too.
            wait = min(wait, _ADMIT_SLICE_S)
            self._sleep(wait)
            waited += wait
        return waited, refusal

    def _retry_wait(self, exchange: Exchange, attempt: int) -> float | None:
        """The wait before attempt ``attempt + 1``, or None when there is none to make."""
        if exchange.status not in RETRY_STATUSES or attempt > self.limits.max_retries:
            return None
        asked = retry_after_s(exchange.headers)
        if asked is None:
            return backoff_s(attempt, self._jitter(), max_s=self.limits.max_backoff_s)
        if asked > self.limits.max_retry_wait_s:
            return None  # the provider asks for longer than a run can afford
        return asked

    def _count(self, exchange: Exchange, connected: bool) -> None:
        """Tell the breaker what the request came to."""
        if exchange.status in RETRY_STATUSES:
            cause = "rate limited" if exchange.status == 429 else "provider unavailable"
            self.breaker.record(Outcome.REFUSED, f"{cause}: HTTP {exchange.status}")
        elif exchange.status is not None:
            self.breaker.record(Outcome.ANSWERED, "")
        elif connected:
            self.breaker.record(Outcome.CONNECTED, exchange.error or "")
        else:
            self.breaker.record(Outcome.UNREACHABLE, exchange.error or "")

    def _send_once(
        self,
        recorded: RecordedRequest,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        stream: bool,
        cut: Cut | None = None,
    ) -> tuple[Exchange, bool]:
        """One attempt, and whether a connection was made (for the breaker)."""
        exchange = Exchange(request=recorded, streamed=stream, sent_at=time.time())
        connected = True
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
            exchange.error = _describe_timeout(exc, exchange, limits, len(body))
            connected = not isinstance(exc, httpx.ConnectTimeout)
        except httpx.DecodingError as exc:
            # The bytes arrived, and are not what Content-Encoding says: a finding, not
            # an outage (see the dialects' transport checks).
            encoding = exchange.headers.get("content-encoding", "")
            exchange.encoding_error = self._redactor.text(str(exc) or type(exc).__name__)
            exchange.error = (
                f"body not decodable as Content-Encoding {encoding!r}: {exchange.encoding_error}"
            )
        # RuntimeError: the client was closed under a case still in flight (an interrupted
        # run tears its session down); recorded like any request that could not be made.
        except (httpx.HTTPError, httpx.InvalidURL, RuntimeError) as exc:
            connected = not isinstance(exc, httpx.ConnectError | RuntimeError)
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
        return exchange, connected


def shared_controls(report_dir: str | Path | None, limits: RateLimits) -> dict[str, Any]:
    """The ``limiter`` and ``breaker`` every client of a run shares (keyword arguments of
    ``RecordingClient``): kept in the run's report directory, so that each process of
    the run (xdist workers) keeps to the same limits and stops on the same breaker."""
    directory = None if report_dir is None else Path(report_dir)
    return {
        "limiter": RateLimiter(limits, SharedState(directory and directory / RATE_FILE)),
        "breaker": run_breaker(directory),
    }


def run_breaker(report_dir: Path | None) -> Breaker:
    """The breaker of the run kept in ``report_dir`` (in memory without one): the one its
    clients stop on, whichever process or thread trips it."""
    return Breaker(SharedState(report_dir and report_dir / BREAKER_FILE))


def request_body(json: Any, content: bytes | None) -> bytes | None:
    """The bytes a request sends: ``json`` encoded, else ``content``. A replay of the run
    encodes its requests here too, so that they match the recorded ones byte for byte."""
    return jsonlib.dumps(json).encode() if json is not None else content


def _describe_timeout(
    exc: httpx.TimeoutException, exchange: Exchange, limits: Limits, received: int
) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connect timeout: no connection within {limits.connect_timeout_s:g} s"
    if exchange.status is None:
        return f"read timeout: no response within {limits.read_timeout_s:g} s"
    if exchange.streamed:
        got = f"{len(exchange.events)} events"
    else:
        got = f"{received} bytes of the body" if received else "the headers"
    return f"stalled: no data for {limits.read_timeout_s:g} s after {got}"
