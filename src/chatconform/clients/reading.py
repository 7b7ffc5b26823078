"""What a real client library made of one recorded exchange, and what the suite read from it.

A replay job serves one recorded response (status, headers, body in its recorded chunks)
to one client call made exactly as an application would make it; the client's return
value, or the exception it raised, becomes a ``Reading``. The suite's own reading of the
same bytes is an ``Expected``; comparing the two gives the client's outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# How an application calls a client for one exchange: `create` (non-streamed), `stream`
# (create with stream=True, iterated), `helper` (the SDK's accumulating stream helper,
# e.g. openai-python's chat.completions.stream(...).get_final_completion()), `parse`
# (openai-python's chat.completions.parse, for a case that asked for a json_schema).
Call = Literal["create", "stream", "helper", "parse"]
# How a recorded response ended after its last chunk: cleanly (None), `stalled` (the
# provider sent nothing more and kept the connection open: a client waits for more), or
# `dropped` (the connection broke before the body was complete).
Ending = Literal["stalled", "dropped"]


@dataclass(frozen=True)
class ToolCall:
    """One tool call as returned: its name and its arguments parsed from JSON (None when
    they do not parse; ``raw`` keeps the text)."""

    id: str | None
    name: str | None
    arguments: Any
    raw: str | None = None


@dataclass(frozen=True)
class Reading:
    """What one client returned for one replayed exchange, or how it failed."""

    client: str
    call: Call
    # Set when the client returned normally.
    text: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    # Set when the client raised: the exception's type name and message (redacted,
    # bounded), or when it did not return within the bound.
    error_type: str | None = None
    error_message: str | None = None
    hung: bool = False
    client_version: str | None = None
    # Which job it is a reading of (``Job.case_id``, ``Job.exchange_index``).
    case_id: str = ""
    exchange_index: int = -1
    # Whether the client sent the request (None: not known). A client that refuses to
    # send it (its own validation, of a request a case made invalid on purpose) tells
    # nothing about the provider: its outcome is n/a.
    sent: bool | None = None
    # The HTTP status the client's typed API error carries (openai.APIStatusError's
    # status_code, openai-node's APIError.status, the AI SDK's APICallError.statusCode),
    # when the exception is one; None for any other exception.
    status: int | None = None


@dataclass(frozen=True)
class Expected:
    """What the suite itself read from the exchange (the dialect's ``reply.read``): what a
    client that works returns, or, for an error status, the typed API error it raises."""

    status: int
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    # The dialect's own word (stop, tool_use...), None when the answer gave none.
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    # For an error status: the provider's own message, which the client's error shows.
    error_message: str | None = None

    @property
    def is_error(self) -> bool:
        return not 200 <= self.status < 300


@dataclass(frozen=True)
class Job:
    """One recorded exchange to serve to a client: the request as the suite sent it and
    the response as it came back, chunk by chunk."""

    case_id: str
    dialect: str
    exchange_index: int
    method: str
    path: str
    request_body: Any
    status: int
    headers: dict[str, str]
    chunks: tuple[bytes, ...]
    calls: tuple[Call, ...] = field(default=("create",))
    # What the suite read from the same bytes (see ``Expected``).
    expected: Expected | None = None
    # How the response ended after its last chunk (see ``Ending``); None: cleanly.
    ending: Ending | None = None
    # Which scorecard row the case belongs to (``openai/streaming``).
    capability: str = ""
