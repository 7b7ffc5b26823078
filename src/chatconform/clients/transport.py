"""An HTTP client that answers every request with one job's recorded response, offline.

The client libraries are handed it as their ``http_client``: whatever they send, they
get the recorded status, headers and body, the body in its recorded chunks. A response
that stalled when recorded stalls again (until the caller gives up and releases it);
one whose connection broke breaks again after its last chunk.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from chatconform.clients.reading import Job

# What a dropped connection raises, in the words httpx uses for it.
DROPPED = "peer closed connection without sending complete message body"


def http_module(sdk: ModuleType) -> ModuleType:
    """The HTTP library an SDK is built on: httpx2 for the current openai and anthropic
    SDKs, httpx for their earlier versions (each takes only a client of its own)."""
    base = importlib.import_module(f"{sdk.__name__}._base_client")
    return getattr(base, "httpx2", None) or importlib.import_module("httpx")


def replay_client(
    http: ModuleType,
    job: Job,
    release: threading.Event,
    stalled: threading.Event | None = None,
    sent: threading.Event | None = None,
) -> Any:
    """An ``http.Client`` (httpx or httpx2, whichever the SDK uses) serving ``job``; it
    sets ``sent`` when a request comes. A stalled response sets ``stalled`` where it
    stalls, and waits for ``release`` before it times out."""

    class RecordedBody(http.SyncByteStream):  # type: ignore[name-defined,misc]
        def __iter__(self) -> Iterator[bytes]:
            yield from job.chunks
            if job.ending == "stalled":
                if stalled is not None:
                    stalled.set()
                release.wait()
                raise http.ReadTimeout("no data: the recorded response stalled here")
            if job.ending == "dropped":
                raise http.RemoteProtocolError(DROPPED)

    def answer(request: Any) -> Any:
        if sent is not None:
            sent.set()
        return http.Response(
            job.status, headers=job.headers, stream=RecordedBody(), request=request
        )

    return http.Client(transport=http.MockTransport(answer))
