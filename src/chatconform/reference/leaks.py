"""Key leaks: faults that echo the caller's API key back in answers, each in another encoding.

A careless or hostile provider (debug output, a signed usage link) returns the key
it was called with; the suite must never write that key out, however it is
encoded. The echo follows the answer of plain text requests only (no tools, no
images) and never replaces any of it, so no verdict depends on it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from starlette.responses import Response

from chatconform.reference.faults import FaultSet

# Where the echoed links point; .invalid never resolves (RFC 2606).
KEY_STATUS_URL = "https://reference.invalid/v1/keys/"
USAGE_URL = "https://reference.invalid/v1/usage"
# Characters of the key's word each content delta carries under key-echo-split-deltas.
SPLIT_CHARS = 4
_PLAIN_ECHOES = ("key-echo-json-escaped", "key-echo-unicode-escaped", "key-echo-split-deltas")


def percent_encoded(key: str) -> str:
    """``key`` with every character but ASCII letters and digits percent-encoded."""
    return "".join(
        c if c.isascii() and c.isalnum() else "".join(f"%{b:02X}" for b in c.encode()) for c in key
    )


def usage_signature(key: str) -> str:
    """The signature of the usage link: an HMAC of the link keyed by the API key."""
    return hmac.new(key.encode(), USAGE_URL.encode(), hashlib.sha256).hexdigest()[:32]


def unicode_escaped(key: str) -> str:
    """``key`` as a JSON string's content with every character a ``\\uXXXX`` escape."""
    return "".join(f"\\u{ord(c):04X}" for c in key)


def _plain_text(body: dict[str, Any]) -> bool:
    """Whether a request is text only: no tools offered or used, no image parts."""
    if body.get("tools") or body.get("functions"):
        return False
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(message, dict) and message.get("role") in ("tool", "function"):
            return False
        if isinstance(content, list) and any(
            not isinstance(part, dict) or part.get("type") != "text" for part in content
        ):
            return False
    return True


def with_key_echo(text: str, body: dict[str, Any], key: str, faults: FaultSet) -> str:
    """The answer ``text`` followed by what a key-echo fault adds to it."""
    if not text or not key or not _plain_text(body):
        return text
    if "key-echo-url-encoded" in faults:
        return f"{text} (key status: {KEY_STATUS_URL}{percent_encoded(key)})"
    if "key-echo-query-string" in faults:
        return f"{text} (usage: {USAGE_URL}?api_key={key}&sig={usage_signature(key)})"
    if any(name in faults for name in _PLAIN_ECHOES):
        return f"{text} (debug key: {key})"
    return text


def delta_pieces(pieces: list[str], key: str, faults: FaultSet) -> list[str]:
    """The content deltas of a streamed answer: under key-echo-split-deltas, a piece that
    holds the key goes out a few characters at a time, so no one delta holds it whole."""
    if "key-echo-split-deltas" not in faults or not key:
        return pieces
    split: list[str] = []
    for piece in pieces:
        if key in piece:
            split.extend(piece[i : i + SPLIT_CHARS] for i in range(0, len(piece), SPLIT_CHARS))
        else:
            split.append(piece)
    return split


def on_wire(payload: bytes, key: str, faults: FaultSet) -> bytes:
    """A JSON body or an SSE event as the leaking provider serialises it."""
    if "key-echo-json-escaped" in faults:
        # As PHP's json_encode does by default: every / of the document, escaped.
        payload = payload.replace(b"/", b"\\/")
    if "key-echo-unicode-escaped" in faults and key:
        as_json = json.dumps(key, ensure_ascii=False)[1:-1].encode()
        payload = payload.replace(as_json, unicode_escaped(key).encode())
    return payload


def leaking_response(response: Response, key: str, faults: FaultSet) -> Response:
    """``response`` with its body as ``on_wire`` writes it."""
    body = on_wire(response.body, key, faults)
    if body == response.body:
        return response
    return Response(body, status_code=response.status_code, media_type=response.media_type)
