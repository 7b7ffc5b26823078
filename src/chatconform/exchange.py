"""The evidence: one request and everything observed on the wire for it."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any

EXCERPT_CHARS = 1500


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
    attempts: int = 1
    # Transport failure (timeout, refused connection, stalled stream), if any.
    error: str | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except (ValueError, RecursionError):  # RecursionError: nested deeper than Python parses
            return None

    def excerpt(self, limit: int = EXCERPT_CHARS) -> str:
        """A bounded, printable excerpt of the response, status line first."""
        head = f"HTTP {self.status}" if self.status is not None else f"no response: {self.error}"
        if self.content_type:
            head += f" ({self.content_type})"
        text = self.body.decode("utf-8", "replace")
        return head + "\n" + clip(text, limit)


def clip(text: str, limit: int = EXCERPT_CHARS) -> str:
    """Cut text to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"
