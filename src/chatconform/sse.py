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
        self._buffer = bytearray()
        # How much of the buffer is known to hold no line end: a long line
        # arriving in many reads is scanned once, not once per read.
        self._scanned = 0
        self._pending_cr = False
        self._started = False

    def feed(self, chunk: bytes) -> list[str]:
        lines: list[str] = []
        if not chunk:
            # An empty read must not forget a CR that may be the first half of a CRLF.
            return lines
        if self._pending_cr and chunk.startswith(b"\n"):
            # The LF of a CRLF whose CR ended the previous read.
            chunk = chunk[1:]
        self._pending_cr = False
        data = self._buffer
        data += chunk
        start = 0
        while True:
            end = _line_end(data, max(start, self._scanned))
            if end < 0:
                break
            lines.append(self._decode(bytes(data[start:end])))
            if data[end] == 0x0D:  # CR, alone or as the first half of CRLF
                if end + 1 == len(data):
                    self._pending_cr = True
                elif data[end + 1] == 0x0A:
                    end += 1
            start = end + 1
        del data[:start]
        self._scanned = len(data)
        return lines

    def tail(self) -> str:
        """Bytes received after the last line end, decoded (an unterminated line)."""
        tail = bytes(self._buffer).decode("utf-8", "replace")
        # Before the first line end the BOM is not yet stripped; it is not content.
        return tail if self._started else tail.removeprefix(_BOM)

    def _decode(self, raw: bytes) -> str:
        line = raw.decode("utf-8", "replace")
        if not self._started:
            self._started = True
            # "One leading U+FEFF BYTE ORDER MARK character must be ignored."
            line = line.removeprefix(_BOM)
        return line


def _line_end(data: bytearray, start: int) -> int:
    """Position of the first CR or LF at or after ``start``, or -1."""
    cr, lf = data.find(b"\r", start), data.find(b"\n", start)
    if cr < 0 or (0 <= lf < cr):
        return lf
    return cr


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
        events = []
        for line in self._lines.feed(chunk):
            event = self._events.feed(line)
            if event is not None:
                events.append(event)
        return events

    def unterminated(self) -> str:
        """What the stream left undispatched at its end, which the spec discards."""
        return "\n".join([*self._events.pending, self._lines.tail()]).strip("\n")


def decode(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """Decode a whole stream given as byte chunks."""
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
