"""Checks of a Message: JSON, shape, schema, stop_reason, model, usage, caps, stop sequences.

Also the helpers the other Anthropic check modules share: the message a client
gets (the body, or the stream accumulated) and where its parts are on the wire.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from chatconform.answers import accepted
from chatconform.check import Violation, check, expected
from chatconform.dialects.anthropic.reply import read
from chatconform.dialects.anthropic.stream import parse
from chatconform.exchange import Exchange, clip, events_excerpt
from chatconform.reply import token_count
from chatconform.schemas import schema_errors

# anthropic-sdk-python types/stop_reason.py
STOP_REASONS = (
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
)
# Every count of prompt tokens: with prompt caching input_tokens counts only what follows
# the last cache breakpoint (types/usage.py: the total is their sum).
INPUT_COUNTS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
# At most this many schema findings per message: one broken field in each of 10 000
# blocks is one problem, not 10 000 findings.
MAX_SCHEMA_FINDINGS = 10
# Names of one model: a vendor prefix (anthropic/, Bedrock's us.anthropic.) and a
# snapshot or version suffix (-20250929, -latest, Vertex's @20250929, Bedrock's -v1:0).
_PREFIX = re.compile(r"^(?:.*/)?(?:[a-z]{2,4}\.)?(?:anthropic\.)?")
_SUFFIX = re.compile(r"(-\d{8}|@\d{8}|-latest|-v\d+(:\d+)?)$")
# usage.fixed judges two prompts only when one is at least this many times, and this
# many characters, longer than the other: ~100 tokens more, in any tokenizer.
_LONGER_FACTOR = 2
_LONGER_CHARS = 400
_EVENT = re.compile(r"/events/(\d+)")


# --- shared helpers ---------------------------------------------------------------------------


def request_body(exchange: Exchange) -> dict[str, Any]:
    """The request as sent, or {} when it is no JSON object."""
    try:
        request = exchange.request.json()
    except ValueError:
        return {}
    return request if isinstance(request, dict) else {}


def openai_shaped(payload: Any) -> bool:
    """Whether a body or event is an OpenAI chat.completion (or chunk) instead of a Message."""
    if not isinstance(payload, dict):
        return False
    kind = payload.get("object")
    return "choices" in payload or (isinstance(kind, str) and kind.startswith("chat.completion"))


def message_of(exchange: Exchange) -> dict[str, Any] | None:
    """The message a client gets: the body, or the stream accumulated; None when there is
    none (not JSON, not an object, an OpenAI completion, a stream without message events)."""
    if exchange.streamed:
        stream = parse(exchange)
        return stream.accumulate() if stream.events else None
    payload = exchange.json_or_none()
    if not isinstance(payload, dict) or openai_shaped(payload):
        return None
    return payload


def message_at(exchange: Exchange, pointer: str) -> str:
    """Where a field of the message is: in the body, or in message_start's message."""
    if not exchange.streamed:
        return pointer
    start = parse(exchange).message_start
    return f"/events/{start[0]}/data/message{pointer}" if start else "/events"


def stop_reason_at(exchange: Exchange) -> tuple[Any, str]:
    """(stop_reason, its location): the body's, or the last message_delta's."""
    if exchange.streamed:
        last = parse(exchange).last_message_delta
        if last is None:
            return None, "/events"
        delta = last[1].get("delta")
        reason = delta.get("stop_reason") if isinstance(delta, dict) else None
        return reason, f"/events/{last[0]}/data/delta/stop_reason"
    message = message_of(exchange) or {}
    return message.get("stop_reason"), "/stop_reason"


def stop_sequence_at(exchange: Exchange) -> tuple[Any, str]:
    """(stop_sequence, its location), like ``stop_reason_at``."""
    reason_at = stop_reason_at(exchange)[1]
    if exchange.streamed:
        last = parse(exchange).last_message_delta
        delta = last[1].get("delta") if last else None
        value = delta.get("stop_sequence") if isinstance(delta, dict) else None
        return value, reason_at.replace("/stop_reason", "/stop_sequence")
    return (message_of(exchange) or {}).get("stop_sequence"), "/stop_sequence"


def content_blocks(exchange: Exchange) -> list[tuple[str, dict[str, Any]]]:
    """(location, block) of each content block: ``/content/<k>`` in a body; in a stream
    the block accumulated, at its content_block_start (``/events/<i>/data/content_block``)."""
    if exchange.streamed:
        return [
            (f"/events/{b.start_at}/data/content_block", b.block) for b in parse(exchange).blocks()
        ]
    content = (message_of(exchange) or {}).get("content")
    entries = content if isinstance(content, list) else []
    return [(f"/content/{k}", b) for k, b in enumerate(entries) if isinstance(b, dict)]


def text_location(exchange: Exchange) -> str:
    """Where the answer's text is: the first text block, or its first text_delta."""
    if exchange.streamed:
        for block in parse(exchange).blocks():
            if block.type == "text" and block.delta_at:
                return f"/events/{block.delta_at[0]}/data/delta/text"
        return "/events"
    texts = [loc for loc, b in content_blocks(exchange) if b.get("type") == "text"]
    return f"{texts[0]}/text" if texts else "/content"


def evidence(exchange: Exchange, location: str) -> str:
    """The events around the one a location points into (for a stream), or the response."""
    match = _EVENT.match(location)
    if exchange.streamed and match and int(match.group(1)) < len(exchange.events):
        return events_excerpt(exchange, int(match.group(1)))
    return exchange.excerpt()


def requested_max_tokens(exchange: Exchange, max_tokens: int | None = None) -> int | None:
    """The cap given, else the request's max_tokens (None when it has none)."""
    cap = request_body(exchange).get("max_tokens") if max_tokens is None else max_tokens
    return cap if isinstance(cap, int) and not isinstance(cap, bool) else None


def show(value: Any, limit: int = 120) -> str:
    """A received value as JSON text, bounded."""
    try:
        return clip(json.dumps(value, ensure_ascii=False), limit)
    except (ValueError, TypeError, RecursionError):
        return clip(repr(value), limit)


def is_count(value: Any) -> bool:
    """Whether a usage field is a token count: a non-negative integer."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def model_family(name: str) -> str:
    """A model id without vendor prefix and snapshot suffix: claude-sonnet-4-5-20250929 ->
    claude-sonnet-4-5."""
    name = _PREFIX.sub("", name.strip().lower())
    while True:
        shorter = _SUFFIX.sub("", name)
        if shorter == name or not shorter:
            return name
        name = shorter


def same_model(requested: str, served: str) -> bool:
    return model_family(requested) == model_family(served)


def prompt_chars(request: dict[str, Any]) -> int:
    """Characters of text in a request's system prompt and messages."""
    texts: list[Any] = [request.get("system")]
    messages = request.get("messages")
    for message in messages if isinstance(messages, list) else []:
        texts.append(message.get("content") if isinstance(message, dict) else None)
    chars = 0
    for text in texts:
        if isinstance(text, str):
            chars += len(text)
        elif isinstance(text, list):
            chars += sum(
                len(b["text"])
                for b in text
                if isinstance(b, dict) and isinstance(b.get("text"), str)
            )
    return chars


# --- checks -----------------------------------------------------------------------------------


@check("anthropic.message.not-json")
def message_is_json(exchange: Exchange) -> Iterator[Violation]:
    """A successful response is a JSON Message object (Messages API reference).

    A stream's events are anthropic.stream.event-json's.
    """
    if exchange.streamed:
        return
    try:
        payload = exchange.json()
    except ValueError:
        yield Violation(
            expected(
                "a JSON Message object (application/json)",
                f"{exchange.content_type or 'no content type'}: "
                f"{clip(exchange.body.decode('utf-8', 'replace'), 120)!r}",
            ),
            evidence=exchange.excerpt(),
        )
        return
    if not isinstance(payload, dict):
        yield Violation(
            expected("a JSON object", f"a JSON {type(payload).__name__}"),
            evidence=exchange.excerpt(),
        )


@check("anthropic.message.openai-shape")
def not_openai_shaped(exchange: Exchange) -> Iterator[Violation]:
    """/v1/messages answers with a Message, not an OpenAI chat.completion (Messages API reference)."""
    if exchange.streamed:
        stream = parse(exchange)
        shaped = [i for i, e in stream.unknown if openai_shaped(e)]
        if shaped:
            yield Violation(
                expected(
                    "Messages stream events (message_start, content_block_delta, ...)",
                    f"OpenAI chat.completion.chunk objects in {_count(shaped)} events",
                ),
                location=f"/events/{shaped[0]}",
                evidence=events_excerpt(exchange, shaped[0]),
            )
        return
    payload = exchange.json_or_none()
    if openai_shaped(payload):
        yield Violation(
            expected(
                'a Message {"type": "message", "role": "assistant", "content": [...]}',
                f"an OpenAI chat completion (object {payload.get('object')!r}, choices)",
            ),
            evidence=exchange.excerpt(),
        )


def _count(where: list[int]) -> str:
    return f"{len(where)} event" + ("s" if len(where) > 1 else "")


@check("anthropic.message.schema")
def message_matches_schema(exchange: Exchange) -> Iterator[Violation]:
    """The response validates against schemas/anthropic/message (anthropic-sdk-python types/message.py)."""
    if exchange.streamed:
        return  # a stream's events are anthropic.stream.event-schema's
    message = message_of(exchange)
    if message is None:
        return
    errors = schema_errors("anthropic", "message", message)
    for pointer, problem in errors[:MAX_SCHEMA_FINDINGS]:
        yield Violation(
            expected("a Message valid against the official schema", problem),
            location=pointer,
            evidence=exchange.excerpt(),
        )


@check("anthropic.message.stop-reason")
def stop_reason_defined(exchange: Exchange) -> Iterator[Violation]:
    """stop_reason is one of the defined values (anthropic-sdk-python types/stop_reason.py)."""
    if message_of(exchange) is None:
        return
    reason, location = stop_reason_at(exchange)
    if location == "/events":
        return  # no message_delta: event-order and truncated say so
    if reason not in STOP_REASONS:
        yield Violation(
            expected(f"stop_reason one of {', '.join(STOP_REASONS)}", clip(repr(reason), 120)),
            location=location,
            evidence=evidence(exchange, location),
        )


@check("anthropic.message.model-mismatch")
def model_matches_request(exchange: Exchange) -> Iterator[Violation]:
    """model names the requested model or a snapshot of it (Messages API reference: model)."""
    requested = request_body(exchange).get("model")
    message = message_of(exchange)
    if message is None or not isinstance(requested, str):
        return
    if exchange.streamed and parse(exchange).message_start is None:
        return  # event-order says message_start is missing
    served = message.get("model")
    if not isinstance(served, str) or not same_model(requested, served):
        location = message_at(exchange, "/model")
        yield Violation(
            expected(f"model {requested!r} or a snapshot of it", clip(repr(served), 120)),
            location=location,
            evidence=evidence(exchange, location),
        )


@check("anthropic.usage.present")
def usage_present(exchange: Exchange) -> Iterator[Violation]:
    """A non-streamed Message carries usage with input_tokens and output_tokens (types/usage.py).

    A stream's usage is judged by anthropic.stream.message-start, input-tokens and
    output-tokens.
    """
    message = None if exchange.streamed else message_of(exchange)
    if message is None:
        return
    usage = message.get("usage")
    if not isinstance(usage, dict):
        yield Violation(
            expected("a usage object", clip(repr(usage) if "usage" in message else "no usage key")),
            location="/usage",
            evidence=exchange.excerpt(),
        )
        return
    for key in ("input_tokens", "output_tokens"):
        value = usage.get(key)
        if not is_count(value):
            yield Violation(
                expected(f"usage.{key}, a non-negative integer", clip(repr(value), 120)),
                location=f"/usage/{key}",
                evidence=exchange.excerpt(),
            )


@check("anthropic.usage.plausible")
def usage_plausible(exchange: Exchange, max_tokens: int | None = None) -> Iterator[Violation]:
    """usage counts the prompt (input_tokens > 0) and the answer (output_tokens <= max_tokens).

    ``max_tokens`` defaults to the request's. A non-streamed message only: a stream's
    counts are anthropic.stream.input-tokens' and output-tokens'.
    """
    message = None if exchange.streamed else message_of(exchange)
    usage = message.get("usage") if message else None
    if not isinstance(usage, dict):
        return
    if is_count(usage.get("input_tokens")) and not any(
        token_count(usage.get(k)) for k in INPUT_COUNTS
    ):
        yield Violation(
            expected(
                "input_tokens > 0: every prompt costs tokens", repr(usage.get("input_tokens"))
            ),
            location="/usage/input_tokens",
            evidence=exchange.excerpt(),
        )
    output = usage.get("output_tokens")
    if not is_count(output):
        return  # usage.present says so
    cap = requested_max_tokens(exchange, max_tokens)
    reply = read(exchange)
    if cap is not None and output > cap:
        yield Violation(
            expected(f"output_tokens <= max_tokens {cap}", str(output)),
            location="/usage/output_tokens",
            evidence=exchange.excerpt(),
        )
    elif output == 0 and (reply.text or reply.tool_calls):
        yield Violation(
            expected(
                f"output_tokens >= 1 for an answer of {len(reply.text)} characters"
                + (f" and {len(reply.tool_calls)} tool call(s)" if reply.tool_calls else ""),
                "0",
            ),
            location="/usage/output_tokens",
            evidence=exchange.excerpt(),
        )


def _input_total(exchange: Exchange) -> int | None:
    message = message_of(exchange)
    usage = message.get("usage") if message else None
    if not isinstance(usage, dict) or not is_count(usage.get("input_tokens")):
        return None
    return sum(token_count(usage.get(k)) for k in INPUT_COUNTS)


@check("anthropic.usage.fixed")
def usage_follows_prompt(short: Exchange, long: Exchange) -> Iterator[Violation]:
    """input_tokens grows with the prompt: a far longer prompt counts more tokens (types/usage.py).

    Judged only when the long prompt is at least twice as long, and 400 characters
    longer, than the short one; a fixed or invented usage shows as the same count.
    """
    short_chars = prompt_chars(request_body(short))
    long_chars = prompt_chars(request_body(long))
    if long_chars < max(_LONGER_FACTOR * short_chars, short_chars + _LONGER_CHARS):
        return
    few, many = _input_total(short), _input_total(long)
    if few is None or many is None or many > few:
        return
    location = message_at(long, "/usage/input_tokens")
    yield Violation(
        expected(
            f"more input tokens for the {long_chars}-character prompt than for the "
            f"{short_chars}-character one",
            f"{many} for the long prompt, {few} for the short one"
            if many != few
            else f"{many} for both",
        ),
        location=location,
        evidence=evidence(long, location),
    )


@check("anthropic.text.max-tokens")
def max_tokens_honoured(exchange: Exchange, max_tokens: int | None = None) -> Iterator[Violation]:
    """Generation stops at max_tokens, with stop_reason max_tokens (Messages API: max_tokens).

    ``max_tokens`` defaults to the request's. A token holds at most one word of the
    probe, so an answer with more words than the cap ignored it; output_tokens over
    the cap is anthropic.usage.plausible's and stream.output-tokens'.
    """
    cap = requested_max_tokens(exchange, max_tokens)
    reply = read(exchange)
    if cap is None or message_of(exchange) is None:
        return
    words = len(reply.text.split())
    if words > cap:
        location = text_location(exchange)
        yield Violation(
            expected(
                f"at most {cap} words (max_tokens {cap})",
                f"{words} words"
                + (f" (cut by the suite: {exchange.cut})" if exchange.cut else "")
                + f": {clip(reply.text, 120)!r}",
            ),
            location=location,
            evidence=evidence(exchange, location),
        )
    output = reply.usage.output_tokens if reply.usage else 0
    reason, location = stop_reason_at(exchange)
    # Cut only if it reached the cap: an answer that ended sooner may say end_turn.
    reached = words >= cap or output >= cap
    if exchange.cut is None and reached and reason in STOP_REASONS and reason != "max_tokens":
        yield Violation(
            expected("stop_reason 'max_tokens' (the answer needs far more tokens)", repr(reason)),
            location=location,
            evidence=evidence(exchange, location),
        )


@check("anthropic.text.stop-sequence")
def stop_sequence_honoured(
    exchange: Exchange, sequence: str, before: str, after: Sequence[str]
) -> Iterator[Violation]:
    """Generation stops at a stop sequence, which is not included; stop_reason stop_sequence
    and stop_sequence name it (Messages API: stop_sequences).

    Ignoring it is claimed only on proof: the sequence, or text that follows it
    (``after``), written after ``before``. An answer that never writes ``before``
    proves nothing either way.
    """
    if message_of(exchange) is None:
        return
    text = read(exchange).text
    counted = _after_token(text, before)
    past = [word for word in after if counted is not None and accepted(counted, [word])]
    if counted is not None and (sequence in counted or past):
        shown = repr(sequence) if sequence in counted else f"text after it ({', '.join(past)})"
        location = text_location(exchange)
        yield Violation(
            expected(f"the answer cut before {sequence!r}", f"{shown} in {clip(text, 120)!r}"),
            location=location,
            evidence=evidence(exchange, location),
        )
        return
    reason, location = stop_reason_at(exchange)
    if counted is not None and reason in STOP_REASONS and reason != "stop_sequence":
        yield Violation(
            expected("stop_reason 'stop_sequence'", repr(reason)),
            location=location,
            evidence=evidence(exchange, location),
        )
    elif reason == "stop_sequence":
        value, location = stop_sequence_at(exchange)
        if value != sequence:
            yield Violation(
                expected(f"stop_sequence {sequence!r}, the one matched", clip(repr(value), 120)),
                location=location,
                evidence=evidence(exchange, location),
            )


def reaches(exchange: Exchange, before: str) -> bool:
    """Whether the answer writes ``before`` as a whole word: a stop case is judged then."""
    return _after_token(read(exchange).text, before) is not None


def _after_token(answer: str, word: str) -> str | None:
    """The answer after the first whole-word ``word``, or None when it has none."""
    match = re.search(rf"(?<![\w.,-]){re.escape(word)}(?![\w]|[.,]\d)", answer)
    return None if match is None else answer[match.end() :]
