"""A loopback HTTP server publishing fixtures/images, so URL image cases have real URLs.

`chatconform run` against the embedded reference starts one and passes its
URL as ``image_base_url``; the reference provider then fetches the images
over HTTP like any provider fetches a user's image. Only the files the
manifest lists are served; everything else is 404.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import ClassVar

from chatconform.documents import manifest as documents
from chatconform.images import IMAGES_DIR, manifest

LOOPBACK = "127.0.0.1"
STOP_TIMEOUT_S = 10.0


class _Handler(BaseHTTPRequestHandler):
    # file name -> (media type, path), set on the server's subclass of this handler.
    files: ClassVar[dict[str, tuple[str, Path]]] = {}

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, *, body: bool) -> None:
        name = self.path.split("?", 1)[0].lstrip("/")
        found = self.files.get(name)
        if found is None:
            self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found\n", body=body)
            return
        media_type, path = found
        self._send(HTTPStatus.OK, media_type, path.read_bytes(), body=body)

    def _send(self, status: HTTPStatus, media_type: str, data: bytes, *, body: bool) -> None:
        self.send_response(status)
        self.send_header("content-type", media_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: a run's output is its summary, not an access log."""


class FixtureServer:
    """fixtures/images and fixtures/documents on an (ephemeral by default) loopback port,
    for a with-block."""

    def __init__(self, port: int = 0) -> None:
        self._requested_port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fixture server is not running")
        return f"http://{LOOPBACK}:{self._server.server_address[1]}/"

    def __enter__(self) -> FixtureServer:
        files = {f.file: (f.media_type, IMAGES_DIR / f.file) for f in manifest().files()}
        # Documents are published beside the images, under the same base URL.
        files |= {d.name: (d.media_type, d.path) for d in documents().values()}
        handler = type("FixtureHandler", (_Handler,), {"files": files})
        server = ThreadingHTTPServer((LOOPBACK, self._requested_port), handler)
        server.daemon_threads = True
        thread = threading.Thread(
            target=server.serve_forever, name="chatconform-fixtures", daemon=True
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=STOP_TIMEOUT_S)
        self._server = self._thread = None
