"""Transport faults of the reference provider: what a network, a proxy or an overloaded
provider does to the bytes of an answer, and a server that dies half-way through a run.

``TransportFaults`` is ASGI middleware over the app: it refuses chat requests before the
app sees them (429 with Retry-After, a flaky 503, a proxy's HTML 502) and bends the
app's answers on their way out (trickled, reset, cut short, mis-encoded, inflated).
What no ASGI message can say (a TCP reset, a body shorter than its Content-Length) needs
the request's socket: ``Connections`` is a uvicorn protocol's registry of them, so the
faults that need it work under ``ReferenceServer`` (a real loopback server) only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
import struct
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from chatconform.reference.faults import FaultSet

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]

CHAT_PATH = "/v1/chat/completions"
# The requests that do a model's work, which count towards connection-refused-midrun.
MODEL_PATHS = frozenset({CHAT_PATH, "/v1/messages"})
TRANSPORT_FAULTS = (
    "slowloris",
    "reset-midstream",
    "truncated-body",
    "invalid-utf8",
    "huge-body",
    "gzip-lie",
    "html-502",
    "rate-limited",
    "flaky-503",
    "connection-refused-midrun",
)
TRICKLE_S = 5.0
# Events of a stream sent before the reset: proof that the stream had started.
RESET_AFTER_EVENTS = 3
HUGE_BODY_BYTES = 40 * 1024 * 1024
_HUGE_PIECE_BYTES = 1024 * 1024
_FILLER = b"All work and no play makes a long answer. "
DIE_AFTER_REQUESTS = 6
RETRY_AFTER_S = 1
FLAKY_EVERY = 3
# The first two bytes of a three-byte character (U+2014, an em dash), its last one lost.
BROKEN_CHARACTER = b"\xe2\x80"
_CONTENT = b'"content":"'
_POLL_S = 0.1
PROXY_502 = b"""<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""
RATE_LIMIT_ERROR = {
    "error": {
        "message": "Rate limit reached for requests per minute. Please try again in 1s.",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
}
OVERLOADED_ERROR = {
    "error": {
        "message": "The server is overloaded. Please retry your request.",
        "type": "server_error",
        "param": None,
        "code": None,
    }
}


def _key(server: Any, client: Any) -> tuple[Any, Any]:
    return (tuple(server) if server else None, tuple(client) if client else None)


class Connections:
    """The open connections of one server, by the addresses a request's scope names."""

    def __init__(self) -> None:
        # Read and written on the server's event loop only.
        self._open: dict[tuple[Any, Any], asyncio.Transport] = {}

    def protocol(self) -> type[H11Protocol]:
        """uvicorn's HTTP/1.1 protocol, keeping this registry of its connections."""
        registry = self._open

        class TappedH11Protocol(H11Protocol):
            def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
                super().connection_made(transport)
                registry[_key(self.server, self.client)] = transport

            def connection_lost(self, exc: Exception | None) -> None:
                registry.pop(_key(self.server, self.client), None)
                super().connection_lost(exc)

        return TappedH11Protocol

    def reset(self, scope: dict[str, Any]) -> None:
        """Drop the request's connection with a TCP reset, as a load balancer does."""
        transport = self._transport(scope)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Lingering 0 s, closing sends RST instead of FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()

    def close(self, scope: dict[str, Any]) -> None:
        """Close the request's connection once what was written has gone (a FIN)."""
        self._transport(scope).close()

    def _transport(self, scope: dict[str, Any]) -> asyncio.Transport:
        transport = self._open.get(_key(scope.get("server"), scope.get("client")))
        if transport is None:
            raise RuntimeError("this transport fault needs a real connection (ReferenceServer)")
        return transport


class TransportState:
    """What one server's transport faults remember between requests."""

    def __init__(self) -> None:
        self.connections = Connections()
        # Set once connection-refused-midrun's server is to die; its server stops on it.
        self.dead = threading.Event()
        # Stops the server accepting connections, the moment it dies: set by the server
        # running the app, called on its event loop.
        self.stop_listening: Callable[[], None] = lambda: None
        self.model_requests = 0
        self.chat_requests = 0
        self._seen: set[str] = set()

    def first_sight(self, body: bytes) -> bool:
        """Whether this request body is new to the server (rate-limited refuses it once)."""
        digest = hashlib.sha256(body).hexdigest()
        new = digest not in self._seen
        self._seen.add(digest)
        return new


class TransportFaults:
    """ASGI middleware making the app's transport faults (see the module docstring)."""

    def __init__(
        self, app: App, *, faults: FaultSet, closing: threading.Event, state: TransportState
    ) -> None:
        self.app = app
        self.active = frozenset(name for name in TRANSPORT_FAULTS if name in faults)
        self.closing = closing
        self.state = state

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if (
            not self.active
            or scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] not in MODEL_PATHS
        ):
            await self.app(scope, receive, send)
            return
        if "connection-refused-midrun" in self.active:
            if self.state.dead.is_set():
                # Dying: no answer, until the server's next tick closes its socket.
                self.state.connections.reset(scope)
                await _until_disconnect(receive)
                return
            self.state.model_requests += 1
            if self.state.model_requests >= DIE_AFTER_REQUESTS:
                self.state.dead.set()
                self.state.stop_listening()
        if scope["path"] != CHAT_PATH:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if await self._refused(body, send):
            return
        gone = asyncio.Event()
        watcher = asyncio.create_task(_watch(receive, gone))
        answer = _Answer(self, scope, send, gone)
        try:
            await self.app(scope, _replay(body, gone), answer.send)
        finally:
            watcher.cancel()

    async def _refused(self, body: bytes, send: Send) -> bool:
        """Answer in the app's place when a fault refuses the request; whether one did."""
        self.state.chat_requests += 1
        if "rate-limited" in self.active and self.state.first_sight(body):
            headers = [(b"retry-after", str(RETRY_AFTER_S).encode())]
            await _respond(send, 429, _json(RATE_LIMIT_ERROR), b"application/json", headers)
            return True
        if "flaky-503" in self.active and self.state.chat_requests % FLAKY_EVERY == 0:
            await _respond(send, 503, _json(OVERLOADED_ERROR), b"application/json")
            return True
        if "html-502" in self.active:
            await _respond(send, 502, PROXY_502, b"text/html")
            return True
        return False


class _Answer:
    """The app's answer to one chat request, sent the way the active faults bend it."""

    def __init__(
        self, faults: TransportFaults, scope: dict[str, Any], send: Send, gone: asyncio.Event
    ) -> None:
        self._faults = faults
        self._active = faults.active
        self._scope = scope
        self._send = send
        self._gone = gone
        self._streamed = False
        # The start of a JSON answer, held until its body (which decides what is sent).
        self._held: Message | None = None
        self._held_body = b""
        self._events = 0
        self._broke_character = False
        # Once the connection is reset or closed on purpose, the app's sends go nowhere.
        self._dropped = False

    async def send(self, message: Message) -> None:
        if self._dropped:
            return
        if message["type"] == "http.response.start":
            await self._start(message)
            return
        body, more = message.get("body", b""), message.get("more_body", False)
        if self._held is not None:
            self._held_body += body
            if not more:
                await self._whole(self._held_body)
            return
        if self._streamed and body:
            self._events += 1
            if "invalid-utf8" in self._active and not self._broke_character:
                body, self._broke_character = _break_character(body)
            if "reset-midstream" in self._active and self._events > RESET_AFTER_EVENTS:
                self._dropped = True
                self._faults.state.connections.reset(self._scope)
                await self._gone.wait()
                return
        if "slowloris" in self._active:
            await self._trickle(body, more)
            return
        await self._send({**message, "body": body})

    async def _start(self, message: Message) -> None:
        headers = list(message.get("headers", []))
        content_type = dict(headers).get(b"content-type", b"")
        self._streamed = content_type.startswith(b"text/event-stream")
        if "gzip-lie" in self._active:
            headers.append((b"content-encoding", b"gzip"))
        message = {**message, "headers": headers}
        whole_body_faults = {"huge-body", "truncated-body"} & self._active
        if whole_body_faults and b"json" in content_type and message["status"] == 200:
            self._held = message
            return
        await self._send(message)

    async def _whole(self, body: bytes) -> None:
        """A held JSON answer, now whole: inflated, or cut short, or as it is."""
        assert self._held is not None
        if "huge-body" in self._active:
            await self._huge(self._held, body)
        elif "truncated-body" in self._active:
            # The headers promise the whole body (its Content-Length); half of it comes.
            await self._send(self._held)
            await self._send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
            self._dropped = True
            self._faults.state.connections.close(self._scope)
            await self._gone.wait()
        else:
            await self._send(self._held)
            await self._send({"type": "http.response.body", "body": body})

    async def _huge(self, start: Message, body: bytes) -> None:
        """The answer again, its content grown until the body is ``HUGE_BODY_BYTES``,
        sent a piece at a time (the server never holds it whole)."""
        answer = json.loads(body)
        answer["choices"][0]["message"]["content"] = "\x00"
        head, tail = json.dumps(answer).encode().split(b'"\\u0000"')
        head, tail = head + b'"', b'"' + tail
        size = HUGE_BODY_BYTES - len(head) - len(tail)
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(HUGE_BODY_BYTES).encode()))
        await self._send({**start, "headers": headers})
        await self._send({"type": "http.response.body", "body": head, "more_body": True})
        piece = (_FILLER * (_HUGE_PIECE_BYTES // len(_FILLER) + 1))[:_HUGE_PIECE_BYTES]
        while size > 0 and not self._gone.is_set():
            part = piece[: min(size, len(piece))]
            size -= len(part)
            await self._send({"type": "http.response.body", "body": part, "more_body": True})
        if not self._gone.is_set():
            await self._send({"type": "http.response.body", "body": tail})

    async def _trickle(self, body: bytes, more: bool) -> None:
        """One byte every ``TRICKLE_S``, until the client or the server gives up."""
        for at in range(len(body)):
            if not await self._pause(TRICKLE_S):
                self._dropped = True
                return
            await self._send(
                {"type": "http.response.body", "body": body[at : at + 1], "more_body": True}
            )
        if not more:
            await self._send({"type": "http.response.body", "body": b""})

    async def _pause(self, seconds: float) -> bool:
        """Wait ``seconds``; False as soon as the client has gone or the server closes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            if self._gone.is_set() or self._faults.closing.is_set():
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._gone.wait(), min(left, _POLL_S))
        return not self._gone.is_set()


def _break_character(event: bytes) -> tuple[bytes, bool]:
    """The event with half a character before its content's first one, and whether it
    had content to break."""
    at = event.find(_CONTENT)
    if at < 0 or event[at + len(_CONTENT) : at + len(_CONTENT) + 1] in (b"", b'"'):
        return event, False
    at += len(_CONTENT)
    return event[:at] + BROKEN_CHARACTER + event[at:], True


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return body
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return body


def _replay(body: bytes, gone: asyncio.Event) -> Receive:
    """The app's receive: the body already read, then the disconnect once it comes."""
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    return receive


async def _watch(receive: Receive, gone: asyncio.Event) -> None:
    """Set ``gone`` once the connection is (the response is done, or the client left)."""
    await _until_disconnect(receive)
    gone.set()


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _json(payload: Any) -> bytes:
    return json.dumps(payload).encode()
