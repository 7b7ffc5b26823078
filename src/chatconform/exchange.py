"""The evidence: one request and everything observed on the wire for it."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

EXCERPT_CHARS = 1500
# Provider JSON nested deeper than this is taken as not JSON. Python's parser gives
# up near its recursion limit (~1000 levels, RecursionError), and a value parsed just
# short of it crashes the first repr, json.dumps or schema walk of it a few frames
# deeper; no chat response comes near this depth.
MAX_JSON_DEPTH = 200


@dataclass(frozen=True)
class RecordedRequest:
    """A request as sent, with secrets already redacted."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def curl(self, key_env: str | None = None) -> str:
        """A shell line that reproduces the request; the key is read from its variable."""
        parts = ["curl", "-sS", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.headers.items():
            if name.lower() in {"content-length", "host", "accept-encoding", "connection"}:
                continue
            if "[REDACTED]" in value and key_env:
                # Double quotes so the shell expands the key's variable, and only that.
                # Everything special inside double quotes (\\ " ` $) is escaped
                # first, so a "$(...)" in a recorded value can never run.
                line = f"{name}: {value}"
                for char in '\\"`$':
                    line = line.replace(char, "\\" + char)
                line = line.replace("[REDACTED]", "${" + key_env + "}")
                parts += ["-H", '"' + line + '"']
                continue
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        if self.body:
            parts += ["--data-raw", shlex.quote(self.body.decode("utf-8", "replace"))]
        return " ".join(parts)


@dataclass(frozen=True)
class StreamEvent:
    """One decoded server-sent event and when it arrived (seconds after the request)."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    t: float = 0.0


@dataclass
class Exchange:
    """Everything observed for one request: the evidence findings point into."""

    request: RecordedRequest
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    truncated: bool = False
    streamed: bool = False
    events: list[StreamEvent] = field(default_factory=list)
    # Bytes after the last blank line: an event the stream never terminated.
    unterminated_tail: str = ""
    elapsed_s: float = 0.0
    first_byte_s: float | None = None
    # Wall-clock time the request was sent (Unix seconds): "now" for checks of timestamps,
    # so that a run judged again later judges them as of when it was sent.
    sent_at: float | None = None
    attempts: int = 1
    # Transport failure (timeout, refused connection, stalled stream), if any.
    error: str | None = None
    # Why the body could not be decoded as its Content-Encoding says, in the decoder's
    # words (then ``error`` says so too).
    encoding_error: str | None = None
    # Seconds spent before sending, held by the run's rate limits or a Retry-After, and
    # between attempts (backoff, Retry-After): the wait is not the provider's latency.
    rate_wait_s: float = 0.0
    retry_wait_s: float = 0.0
    # Why the suite stopped reading before the end (an answer far over its cap), if it did.
    cut: str | None = None
    # What readers derived from the recorded bytes (a parsed stream, a reply): see ``derive``.
    _derived: dict[str, tuple[tuple[int, int], Any]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def derive(self, name: str, compute: Callable[[Exchange], T]) -> T:
        """``compute(self)``, computed once per name while the exchange stays as it is: a
        stream read again after more events arrived (a cut reads it as it grows) is
        computed again."""
        size = (len(self.events), len(self.body))
        cached = self._derived.get(name)
        if cached is None or cached[0] != size:
            cached = (size, compute(self))
            self._derived[name] = cached
        return cached[1]

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not JSON (see ``load_json``)."""
        return load_json(self.body.decode("utf-8"))

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except ValueError:
            return None

    def excerpt(self, limit: int = EXCERPT_CHARS) -> str:
        """A bounded, printable excerpt of the response, status line first."""
        head = f"HTTP {self.status}" if self.status is not None else f"no response: {self.error}"
        if self.content_type:
            head += f" ({self.content_type})"
        text = self.body.decode("utf-8", "replace")
        return head + "\n" + clip(text, limit)


def load_json(text: str) -> Any:
    """JSON from a provider, parsed; ValueError when it is not JSON or nested deeper
    than ``MAX_JSON_DEPTH``."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("nested deeper than Python parses") from None
    # A value cannot nest deeper than it has brackets: most need no walk.
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and _nested_deeper(value, MAX_JSON_DEPTH):
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _nested_deeper(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` deep (walked without recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children)
    return False


def clip(text: str, limit: int = EXCERPT_CHARS) -> str:
    """Cut text to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"


def events_excerpt(exchange: Exchange, around: int, span: int = 2) -> str:
    """The recorded events around one, with arrival time, name and (bounded) data."""
    start = max(0, around - span)
    lines = [
        f"[{start + k}] +{e.t * 1000:.0f} ms"
        + (f" event: {e.event}" if e.event is not None else "")
        + f" data: {clip(e.data, 300)}"
        for k, e in enumerate(exchange.events[start : around + span + 1])
    ]
    return "\n".join(lines) if lines else exchange.excerpt()


def summarize(where: list[int]) -> str:
    """Where in a stream: 'event 3' or 'event 3 and 4 more'."""
    if len(where) == 1:
        return f"event {where[0]}"
    return f"event {where[0]} and {len(where) - 1} more"
