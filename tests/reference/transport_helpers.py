"""Helpers for the transport faults: what a client on loopback sees of a chat request.

The transport faults live on the wire (a reset, a body shorter than its length, bytes
trickled over seconds), so they are observed through a real ``ReferenceServer``, never
the in-process test client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from reference_helpers import AUTH, COUNT_TO_5, MODEL, Api

from chatconform.reference import ReferenceServer
from chatconform.reference.transport import DIE_AFTER_REQUESTS, FLAKY_EVERY, HUGE_BODY_BYTES

BODY = {"model": MODEL, "messages": COUNT_TO_5, "max_tokens": 30}


@dataclass(frozen=True)
class Seen:
    """A chat request as a client saw it: the status (or the transport error's type),
    the headers, the raw body (as sent, not decoded) and how long it took."""

    status: int | str
    headers: dict[str, str]
    raw: bytes


def chat(server: ReferenceServer, *, stream: bool = False, read_timeout_s: float = 5.0) -> Seen:
    timeout = httpx.Timeout(5.0, read=read_timeout_s)
    try:
        with (
            httpx.Client(timeout=timeout) as client,
            client.stream(
                "POST",
                f"{server.base_url}/chat/completions",
                json={**BODY, "stream": stream},
                headers=AUTH,
            ) as response,
        ):
            raw = b"".join(response.iter_raw())
            return Seen(response.status_code, dict(response.headers), raw)
    except httpx.HTTPError as exc:
        return Seen(type(exc).__name__, {}, b"")


def on_loopback(
    observe: Callable[[ReferenceServer], Any],
) -> Callable[[Api], Any]:
    """An observation of a test ``Api``'s faults, made on a real server with them."""

    def run(api: Api) -> Any:
        with ReferenceServer(faults=api.faults, pace_s=0.0) as server:
            return observe(server)

    return run


def _status_and(header: str) -> Callable[[ReferenceServer], tuple[int | str, str | None, bytes]]:
    """The status, one header and the body's first byte of a plain chat request."""

    def observe(server: ReferenceServer) -> tuple[int | str, str | None, bytes]:
        seen = chat(server)
        return seen.status, seen.headers.get(header), seen.raw[:1]

    return observe


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


WIRE_EFFECTS: dict[str, tuple[Callable[[Api], Any], Any, Any]] = {
    "slowloris": (
        on_loopback(lambda s: chat(s, read_timeout_s=0.5).status),
        200,
        "ReadTimeout",
    ),
    "reset-midstream": (
        on_loopback(lambda s: chat(s, stream=True).status),
        200,
        "ReadError",
    ),
    "truncated-body": (
        on_loopback(lambda s: chat(s).status),
        200,
        "RemoteProtocolError",
    ),
    "invalid-utf8": (
        on_loopback(lambda s: _utf8(chat(s, stream=True).raw)),
        True,
        False,
    ),
    "huge-body": (
        on_loopback(lambda s: len(chat(s).raw) == HUGE_BODY_BYTES),
        False,
        True,
    ),
    "gzip-lie": (
        on_loopback(_status_and("content-encoding")),
        (200, None, b"{"),
        (200, "gzip", b"{"),
    ),
    "html-502": (
        on_loopback(_status_and("content-type")),
        (200, "application/json", b"{"),
        (502, "text/html", b"<"),
    ),
    "rate-limited": (
        on_loopback(
            lambda s: [
                (seen.status, seen.headers.get("retry-after")) for seen in (chat(s), chat(s))
            ]
        ),
        [(200, None), (200, None)],
        [(429, "1"), (200, None)],
    ),
    "flaky-503": (
        on_loopback(lambda s: [chat(s).status for _ in range(FLAKY_EVERY + 1)]),
        [200] * (FLAKY_EVERY + 1),
        [200] * (FLAKY_EVERY - 1) + [503, 200],
    ),
    "connection-refused-midrun": (
        on_loopback(
            lambda s: [isinstance(chat(s).status, int) for _ in range(DIE_AFTER_REQUESTS + 1)]
        ),
        [True] * (DIE_AFTER_REQUESTS + 1),
        [True] * DIE_AFTER_REQUESTS + [False],
    ),
}
