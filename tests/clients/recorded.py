"""Recorded exchanges for the client tests, built from the wire samples in tests/data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chatconform.exchange import Exchange, RecordedRequest, StreamEvent
from chatconform.sse import SSEDecoder

DATA = Path(__file__).parent.parent / "data"
URLS = {
    "openai": "http://provider.test/v1/chat/completions",
    "anthropic": "http://provider.test/v1/messages",
}
REQUESTS = {
    "openai": {"model": "m", "messages": [{"role": "user", "content": "Count to 5"}]},
    "anthropic": {
        "model": "m",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "Count to 5"}],
    },
}


def request(dialect: str, **fields: Any) -> RecordedRequest:
    body = {**REQUESTS[dialect], **fields}
    return RecordedRequest("POST", URLS[dialect], {}, json.dumps(body).encode())


def streamed(
    dialect: str, sample: str, *, body: bytes | None = None, error: str | None = None
) -> Exchange:
    """A recorded stream of a sample file (``openai/stream_faithful.sse``), one event
    arriving every 10 ms."""
    raw = body if body is not None else (DATA / sample).read_bytes()
    decoder = SSEDecoder()
    events = [
        StreamEvent(e.data, e.event, e.id, e.retry, t=n * 0.01)
        for n, e in enumerate(decoder.feed(raw))
    ]
    return Exchange(
        request=request(dialect, stream=True),
        status=200,
        headers={"content-type": "text/event-stream"},
        body=raw,
        streamed=True,
        events=events,
        unterminated_tail=decoder.unterminated(),
        error=error,
    )


def answered(dialect: str, payload: Any, status: int = 200, **fields: Any) -> Exchange:
    """A recorded non-streamed answer: ``payload`` as JSON, or bytes as they are."""
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Exchange(
        request=request(dialect, **fields),
        status=status,
        headers={"content-type": "application/json"},
        body=raw,
    )


def sample(path: str) -> Any:
    return json.loads((DATA / path).read_text(encoding="utf-8"))
