"""A provider that answers from a recorded run after a set delay: the harness measured, not a model.

The reference provider recognises images and paces streams: its own CPU time would
be counted as the harness's. This one serves each request the response recorded for
the same method, path and body in a run's wire archive, after ``latency_s`` (then the
whole body at once), so a run against it costs the latency and the harness, nothing
else. A request the run did not record (the CLI's preflight) is passed on to
``upstream`` after the same delay, and counted. ``first_token_s`` instead sends a stream's headers at once and its body after
that delay: a time to first token to measure the harness's TTFT against.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import uvicorn

from chatconform.archive import Archive, exchange_from_record
from chatconform.exchange import Exchange
from chatconform.redaction import Redactor

LOOPBACK = "127.0.0.1"
Send = Callable[[dict[str, Any]], Awaitable[None]]
# Hop-by-hop and framing headers are uvicorn's to set for the body it sends.
# The recorded body is decoded: a recorded Content-Encoding no longer applies to it.
_FRAMING = {
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "date",
    "server",
}


# The credentials a request carried, as its record has them: the errors suite sends the
# same body with a wrong key or none, and those answers are not the answers to the key.
_CREDENTIALS = ("authorization", "x-api-key", "api-key")


def _key(method: str, path: str, body: bytes, headers: dict[str, str]) -> str:
    credentials = " ".join(f"{h}={headers.get(h)}" for h in _CREDENTIALS)
    return f"{method} {path} {hashlib.sha256(body).hexdigest()} {credentials}"


class CannedProvider:
    """An ASGI app over an archive, on a loopback port in a thread, for a with-block."""

    def __init__(
        self,
        archive: Archive,
        upstream: str,
        *,
        api_key: str,
        latency_s: float = 0.0,
        first_token_s: float | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self._redactor = Redactor([api_key])
        self.latency_s = latency_s
        self.first_token_s = first_token_s
        self.misses = 0
        self._answers: dict[str, Exchange] = {}
        for entries in archive.cases.values():
            for exchange in map(exchange_from_record, entries):
                if exchange.status is None:
                    continue
                request = exchange.request
                url = urlsplit(request.url)
                path = url.path + (f"?{url.query}" if url.query else "")
                headers = {k.lower(): v for k, v in request.headers.items()}
                self._answers.setdefault(
                    _key(request.method, path, request.body, headers), exchange
                )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def root_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"] + (
            f"?{scope['query_string'].decode()}" if scope["query_string"] else ""
        )
        sent = self._redactor.headers(
            {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        )
        exchange = self._answers.get(_key(scope["method"], path, body, sent))
        if exchange is None:
            self.misses += 1
            headers = {
                k.decode("latin-1"): v.decode("latin-1")
                for k, v in scope["headers"]
                if k.decode("latin-1").lower() not in _FRAMING | {"host"}
            }
            async with httpx.AsyncClient() as client:
                answer = await client.request(
                    scope["method"], self.upstream + path, content=body, headers=headers
                )
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _FRAMING}
            await self._send(send, answer.status_code, kept, answer.content, self.latency_s)
            return
        headers = {k: v for k, v in exchange.headers.items() if k.lower() not in _FRAMING}
        streamed = exchange.streamed and self.first_token_s is not None
        delay = self.first_token_s if streamed else self.latency_s
        status = exchange.status or 599
        await self._send(send, status, headers, exchange.body, delay, streamed)

    async def _send(
        self,
        send: Send,
        status: int,
        headers: dict[str, str],
        body: bytes,
        delay_s: float,
        headers_first: bool = False,
    ) -> None:
        if not headers_first:
            await asyncio.sleep(delay_s)
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        if headers_first:
            await send({"type": "http.response.body", "body": b"", "more_body": True})
            await asyncio.sleep(delay_s)
        await send({"type": "http.response.body", "body": body})

    def __enter__(self) -> CannedProvider:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind((LOOPBACK, 0))
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self, host=LOOPBACK, log_level="warning", access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the canned provider did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
