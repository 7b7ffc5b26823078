"""Run the reference provider under uvicorn on loopback, in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from chatconform.reference.app import create_app
from chatconform.reference.reasoning import reasoning_model

LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
# Streams still running at shutdown get this long to finish before they are cancelled.
GRACEFUL_SHUTDOWN_S = 2


class _Server(uvicorn.Server):
    """uvicorn's server, telling the app when it shuts down, and dying when the app says
    (the connection-refused-midrun fault)."""

    def __init__(
        self, config: uvicorn.Config, closing: threading.Event, dead: threading.Event
    ) -> None:
        super().__init__(config)
        self._closing = closing
        self._dead = dead

    async def on_tick(self, counter: int) -> bool:
        return self._dead.is_set() or await super().on_tick(counter)

    def stop_listening(self) -> None:
        """Refuse new connections from now on (called on the server's loop)."""
        for listener in self.servers:
            listener.close()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Release deliberately stalled streams first; uvicorn waits for open connections.
        self._closing.set()
        await super().shutdown(sockets=sockets)


def _listen(port: int) -> socket.socket:
    """A socket bound on loopback, so a taken port is a clear error here, not in uvicorn."""
    # Made as a TCP socket by name: asyncio turns Nagle's algorithm off only for sockets
    # whose protocol says TCP, and with it on, a response's body waits for the ACK of its
    # headers (~40 ms a request on a kept-alive connection).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Also on the listener, whose connections inherit it (Linux), whatever loop serves them.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError as exc:
        sock.close()
        raise RuntimeError(
            f"the reference server cannot listen on {LOOPBACK}:{port}: {exc}"
        ) from exc
    return sock


def _config(app: Starlette) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        # HTTP/1.1 by h11, whose connections the transport faults can reset or cut.
        http=app.state.transport.connections.protocol(),
        host=LOOPBACK,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )


class ReferenceServer:
    """The reference provider on an (ephemeral by default) loopback port, for a with-block."""

    def __init__(
        self,
        *,
        faults: Iterable[str] = frozenset(),
        pace_s: float = 0.02,
        api_key: str = "sk-reference",
        model: str = "reference-1",
        port: int = 0,
    ) -> None:
        self.api_key = api_key
        self.model = model
        self.app = create_app(api_key=api_key, model=model, faults=faults, pace_s=pace_s)
        self._requested_port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    @property
    def root_url(self) -> str:
        """The server's URL without /v1, as Anthropic clients take their base URL."""
        if self.port is None:
            raise RuntimeError("the reference server is not running")
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def reasoning_model(self) -> str:
        """The reasoning model served beside ``model`` (it thinks before it answers)."""
        return reasoning_model(self.model)

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL: ``root_url`` + /v1."""
        return f"{self.root_url}/v1"

    def __enter__(self) -> ReferenceServer:
        sock = _listen(self._requested_port)
        port = int(sock.getsockname()[1])
        state = self.app.state
        server = _Server(_config(self.app), state.settings.closing, state.transport.dead)
        state.transport.stop_listening = server.stop_listening
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="chatconform-reference", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:
            if not thread.is_alive():
                sock.close()
                raise RuntimeError(f"the reference server on {LOOPBACK}:{port} failed to start")
            if time.monotonic() > deadline:
                server.should_exit = True
                thread.join(timeout=STOP_TIMEOUT_S)
                sock.close()
                raise RuntimeError(
                    f"the reference server did not start within {STARTUP_TIMEOUT_S:g} s"
                )
            time.sleep(0.01)
        self._server, self._thread = server, thread
        self.port = port
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=STOP_TIMEOUT_S)
        self._server = self._thread = None
        self.port = None
