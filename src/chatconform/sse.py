"""Server-sent events decoding, as the WHATWG HTML standard specifies it.

https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

Two layers, as in the spec: ``LineSplitter`` turns bytes arriving in arbitrary
pieces into lines (CRLF, LF or CR end a line, and a CRLF may be split across
two reads); ``EventAssembler`` interprets lines into events. Provider-level
meaning (OpenAI's ``[DONE]``, error payloads) belongs one layer up.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_BOM = "\ufeff"


@dataclass(frozen=True)
class ServerSentEvent:
    """A dispatched event. ``event`` is None when the stream gave no ``event:`` field."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None


class LineSplitter:
    """Splits a byte stream into decoded lines, across reads of any size."""

    def __init__(self) -> None:
        # The bytes after the last line end: one unterminated line, holding no CR or LF.
        self._buffer = bytearray()
        self._pending_cr = False
        self._started = False

    def feed(self, chunk: bytes) -> list[str]:
        if not chunk:
            # An empty read must not forget a CR that may be the first half of a CRLF.
            return []
        if self._pending_cr and chunk.startswith(b"\n"):
            # The LF of a CRLF whose CR ended the previous read.
            chunk = chunk[1:]
        # The buffer holds no line end, so the last one received, if any, is in this
        # read: each byte is scanned once, however the stream is cut into reads.
        end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        self._pending_cr = end >= 0 and end + 1 == len(chunk) and chunk[end] == 0x0D
        if end < 0:
            self._buffer += chunk
            return []
        complete = self._buffer + chunk[: end + 1]
        self._buffer = bytearray(chunk[end + 1 :])
        if b"\r" in complete:
            # CRLF first, so that its CR and LF end one line, not two.
            complete = complete.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        # Decoded whole, then split: an LF byte is never inside a UTF-8 sequence, so each
        # line decodes (invalid bytes replaced) exactly as it would alone.
        text = complete.decode("utf-8", "replace")
        if not self._started:
            self._started = True
            # "One leading U+FEFF BYTE ORDER MARK character must be ignored."
            text = text.removeprefix(_BOM)
        return text.split("\n")[:-1]

    def tail(self) -> str:
        """Bytes received after the last line end, decoded (an unterminated line)."""
        tail = bytes(self._buffer).decode("utf-8", "replace")
        # Before the first line end the BOM is not yet stripped; it is not content.
        return tail if self._started else tail.removeprefix(_BOM)


class EventAssembler:
    """Interprets event-stream lines into events (the spec's buffers and fields)."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""
        self._last_id: str | None = None
        self._retry: int | None = None
        self._pending: list[str] = []

    def feed(self, line: str) -> ServerSentEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        self._pending.append(line)
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        elif field == "id" and "\0" not in value:
            self._last_id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        # Any other field name is ignored, as the spec requires.
        return None

    @property
    def pending(self) -> list[str]:
        """Field lines read that no blank line has dispatched yet."""
        return list(self._pending)

    def _dispatch(self) -> ServerSentEvent | None:
        data, event, retry = self._data, self._event, self._retry
        self._data, self._event, self._retry, self._pending = [], "", None, []
        if not data:
            # "If the data buffer is an empty string, ... return": no event.
            return None
        return ServerSentEvent(
            data="\n".join(data), event=event or None, id=self._last_id, retry=retry
        )


class SSEDecoder:
    """Bytes in, events out: a ``LineSplitter`` feeding an ``EventAssembler``."""

    def __init__(self) -> None:
        self._lines = LineSplitter()
        self._events = EventAssembler()

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        assemble = self._events.feed
        return [event for line in self._lines.feed(chunk) if (event := assemble(line)) is not None]

    def unterminated(self) -> str:
        """What the stream left undispatched at its end, which the spec discards."""
        return "\n".join([*self._events.pending, self._lines.tail()]).strip("\n")


def decode(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """Decode a whole stream given as byte chunks."""
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
