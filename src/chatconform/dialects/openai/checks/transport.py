"""Checks of the bytes under a response: its Content-Encoding and its UTF-8.

These judge what no client can read past, before any JSON or event is: a body that
fails them is broken as a whole (``Probe.judge_transport``), and nothing in it is judged.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator

from chatconform.dialects.openai.checks import Violation, check, expected
from chatconform.exchange import Exchange

# Bytes shown either side of the first invalid sequence.
_AROUND = 40
# Content types whose bodies are UTF-8 by definition: JSON (RFC 8259) and event streams.
_UTF8_TYPES = ("json", "text/event-stream")


@check("openai.transport.content-encoding")
def body_decodes_as_its_content_encoding(exchange: Exchange) -> Iterator[Violation]:
    """The body is encoded as Content-Encoding says (RFC 9110 §8.4)."""
    if exchange.encoding_error is None:
        return
    encoding = exchange.headers.get("content-encoding", "")
    yield Violation(
        expected(
            f"a body encoded as its Content-Encoding header says ({encoding})",
            f"a body the {encoding} decoder rejects: {exchange.encoding_error}",
        ),
        location="/headers/content-encoding",
        evidence=f"HTTP {exchange.status}\ncontent-encoding: {encoding}\n"
        f"content-type: {exchange.content_type}",
    )


@check("openai.transport.utf8")
def body_is_utf8(exchange: Exchange) -> Iterator[Violation]:
    """A JSON or event-stream body is valid UTF-8 (RFC 8259 §8.1; WHATWG server-sent events)."""
    if not any(kind in exchange.content_type.lower() for kind in _UTF8_TYPES):
        return
    # Not final: a body cut where reading stopped may end inside a character, which is
    # where the cut fell, not a byte the provider sent wrong.
    try:
        codecs.getincrementaldecoder("utf-8")().decode(exchange.body, final=False)
    except UnicodeDecodeError as exc:
        bad = exchange.body[exc.start : exc.end]
        before = exchange.body[max(0, exc.start - _AROUND) : exc.start]
        after = exchange.body[exc.end : exc.end + _AROUND]
        yield Violation(
            expected(
                "a UTF-8 body",
                f"byte {exc.start}: {bad.hex(' ')} ({exc.reason}) in …{_shown(before)}"
                f"[{bad.hex(' ')}]{_shown(after)}…",
            ),
            location=f"/body/{exc.start}",
            evidence=f"bytes {max(0, exc.start - _AROUND)}..{exc.end + _AROUND}: "
            f"{before!r} + {bad!r} + {after!r}",
        )


def _shown(data: bytes) -> str:
    """Bytes around the bad sequence as text, undecodable ones replaced."""
    return data.decode("utf-8", "replace")
