"""A client's outcome on one replayed exchange: what it returned against what the suite read.

- ``works``: it returned what the suite read from the wire (same text, tool calls with
  the same parsed arguments, finish reason, usage), or, for an error status, raised its
  typed API error with that status and the provider's message.
- ``breaks``: it raised (type and message say how).
- ``wrong``: it returned without error, but not what the answer holds, or nothing an
  application can use (the detail says what: empty or repeated text, missing or merged
  tool calls, arguments that are no JSON object, lost usage, a different or no finish
  reason).
- ``hangs``: it did not return within the bound.
- ``n/a``: nothing to replay (no recorded answer the client could have received).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from chatconform.clients.reading import Expected, Reading, ToolCall

WORKS, BREAKS, WRONG, HANGS, NOT_APPLICABLE = "works", "breaks", "wrong", "hangs", "n/a"
# Outcomes from best to worst: a case or a scorecard row takes the worst of its calls.
OUTCOMES = (NOT_APPLICABLE, WORKS, WRONG, BREAKS, HANGS)
# Outcomes that say a client does not work with the provider.
FAILING = frozenset({WRONG, BREAKS, HANGS})
# The exception class each client names its typed error after, per status (openai-python,
# anthropic-sdk-python and openai-node all use these names).
STATUS_ERRORS = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    409: "ConflictError",
    413: "RequestTooLargeError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
}
# A client's API error classes for any status, when its reading gives no status: the
# Vercel AI SDK's APICallError (its statusCode is the status).
STATUS_UNKNOWN_ERRORS = ("AI_APICallError", "APICallError")
# What a finish reason means, whichever client's word it is in: the dialects' own words,
# and the Vercel AI SDK's, which it maps them to.
_MEANINGS = {
    "stop": "ended",
    "end_turn": "ended",
    "stop_sequence": "ended",
    "length": "capped",
    "max_tokens": "capped",
    "tool_calls": "tool",
    "tool-calls": "tool",
    "tool_use": "tool",
    "function_call": "tool",
    "content_filter": "filtered",
    "content-filter": "filtered",
}
# The AI SDK's words for a finish reason outside its enum: faithful to one outside the
# dialect's.
_UNKNOWN_WORDS = frozenset({"other", "unknown"})


@dataclass(frozen=True)
class Outcome:
    kind: str
    detail: str = ""


def worst(outcomes: list[str]) -> str:
    """The worst of some outcomes (n/a when there are none)."""
    return max(outcomes, key=OUTCOMES.index, default=NOT_APPLICABLE)


def outcome(expected: Expected, reading: Reading) -> Outcome:
    """How the client did on one exchange, with what tells it."""
    if reading.sent is False:
        return Outcome(NOT_APPLICABLE, f"the client did not send the request: {_raised(reading)}")
    if reading.hung:
        return Outcome(HANGS, reading.error_message or "no result within the bound")
    raised = _raised(reading)
    if expected.is_error:
        return _error_outcome(expected, reading, raised)
    if reading.error_type is not None:
        return Outcome(BREAKS, raised)
    differences = [
        *_text_differences(expected.text, reading.text or ""),
        *_tool_call_differences(expected.tool_calls, reading.tool_calls),
        *_finish_differences(expected.finish_reason, reading.finish_reason),
        *_usage_differences(expected, reading),
    ]
    return Outcome(WRONG, "; ".join(differences)) if differences else Outcome(WORKS)


def _raised(reading: Reading) -> str:
    return f"{reading.error_type}: {reading.error_message or ''}".rstrip(": ")


def _error_outcome(expected: Expected, reading: Reading, raised: str) -> Outcome:
    status = expected.status
    if reading.error_type is None:
        return Outcome(WRONG, f"returned a result for an HTTP {status} error response")
    typed = reading.status == status or (
        reading.status is None
        and reading.error_type in (STATUS_ERRORS.get(status), *STATUS_UNKNOWN_ERRORS)
    )
    if not typed:
        return Outcome(BREAKS, f"{raised} (not its API error for HTTP {status})")
    message = expected.error_message
    if message and not _shows(reading.error_message or "", message):
        return Outcome(
            WRONG,
            f"raised {reading.error_type} for HTTP {status} without the provider's message "
            f"{message!r}: {reading.error_message or ''}",
        )
    return Outcome(WORKS)


def _squashed(text: str) -> str:
    return re.sub(r"\W+", "", text).lower()


def _shows(shown: str, message: str) -> bool:
    """Whether an error's text shows the provider's message, quoted or escaped."""
    wanted = _squashed(message)[:40]
    return not wanted or wanted in _squashed(shown)


def _text_differences(expected: str, got: str) -> list[str]:
    if got == expected:
        return []
    if expected and not got:
        return [f"empty text (the answer has {len(expected)} characters)"]
    if len(got) > len(expected) and expected and got.endswith(expected):
        return [f"repeated text: {len(got)} characters for an answer of {len(expected)}"]
    if expected.startswith(got):
        return [f"text cut to {len(got)} of {len(expected)} characters"]
    return [f"text differs: {_clip(got)!r} for {_clip(expected)!r}"]


def _tool_call_differences(expected: tuple[ToolCall, ...], got: tuple[ToolCall, ...]) -> list[str]:
    found = []
    if len(got) < len(expected):
        found.append(f"missing or merged tool calls: {len(got)} of {len(expected)}")
    elif len(got) > len(expected):
        found.append(f"extra tool calls: {len(got)} for {len(expected)}")
    for n, (want, call) in enumerate(zip(expected, got, strict=False)):
        if call.name != want.name:
            found.append(f"tool call {n} is named {call.name!r}, not {want.name!r}")
        elif call.arguments != want.arguments and call.arguments is not None:
            found.append(
                f"tool call {n} has arguments {_clip(_text(call))} for {_clip(_text(want))}"
            )
    for n, call in enumerate(got):
        if not isinstance(call.arguments, dict):
            found.append(
                f"tool call {n} has arguments an application cannot parse: {_clip(_text(call))}"
            )
        if not call.id:
            found.append(f"tool call {n} has no id to answer it by")
    shared = [i for i, count in Counter(c.id for c in got if c.id).items() if count > 1]
    if shared:
        found.append(f"tool calls share the id {shared[0]!r}")
    return found


def _text(call: ToolCall) -> str:
    if call.raw is not None:
        return repr(call.raw)
    return "not JSON text" if call.arguments is None else repr(call.arguments)


def _finish_differences(expected: str | None, got: str | None) -> list[str]:
    if got is None:
        return [
            "no finish reason: an answer cut short reads as complete"
            if expected is None
            else f"finish reason lost (the answer has {expected!r})"
        ]
    if got == expected:
        return []
    meaning = _MEANINGS.get(expected or "")
    if meaning is not None and _MEANINGS.get(got) == meaning:
        return []
    if meaning is None and expected is not None and got in _UNKNOWN_WORDS:
        return []
    return [f"finish reason {got!r} for {expected!r}"]


def _usage_differences(expected: Expected, reading: Reading) -> list[str]:
    want = (expected.input_tokens, expected.output_tokens)
    got = (reading.input_tokens, reading.output_tokens)
    if want == (None, None) or got == want:
        return []
    if got == (None, None):
        return [f"usage lost (the answer reports {want[0]} input and {want[1]} output tokens)"]
    return [f"usage {got[0]} input and {got[1]} output tokens for {want[0]} and {want[1]}"]


def _clip(value: Any, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"
