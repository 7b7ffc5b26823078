"""Checks of a streamed Message: framing, event names and order, blocks, termination, usage.

https://docs.anthropic.com/en/docs/build-with-claude/streaming
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chatconform import framing
from chatconform.check import Violation, check, expected
from chatconform.dialects.anthropic.checks.message import (
    INPUT_COUNTS,
    is_count,
    message_of,
    requested_max_tokens,
    show,
)
from chatconform.dialects.anthropic.reply import read
from chatconform.dialects.anthropic.stream import (
    BLOCK_DELTA,
    BLOCK_DELTAS,
    BLOCK_START,
    BLOCK_STOP,
    DELTA_TYPES,
    MESSAGE_DELTA,
    MESSAGE_START,
    MESSAGE_STOP,
    block_index,
    delta_type,
    parse,
)
from chatconform.exchange import Exchange, clip, events_excerpt, summarize
from chatconform.reply import token_count
from chatconform.schemas import schema_errors

# At most this many distinct schema problems reported per stream.
MAX_SCHEMA_FINDINGS = 10
_BLOCK_EVENTS = (BLOCK_START, BLOCK_DELTA, BLOCK_STOP)


content_type_is_event_stream = framing.event_stream_check("anthropic.stream.content-type")


@check("anthropic.stream.event-json")
def events_are_json(exchange: Exchange) -> Iterator[Violation]:
    """Each event's data is one JSON object (streaming guide: event types)."""
    not_json = parse(exchange).not_json
    if not_json:
        first, data = not_json[0]
        yield Violation(
            expected(
                "each event's data to be one JSON object",
                f"{summarize([i for i, _ in not_json])}: {clip(data, 200)!r}",
            ),
            location=f"/events/{first}/data",
            evidence=events_excerpt(exchange, first),
        )


@check("anthropic.stream.event-name")
def event_names_match(exchange: Exchange) -> Iterator[Violation]:
    """Each event has an event: line naming its data's type (streaming guide: event types)."""
    stream = parse(exchange)
    typed = sorted(
        (i, e["type"])
        for i, e in [*stream.events, *stream.pings, *stream.errors]
        if isinstance(e.get("type"), str)
    )
    missing = [i for i, _ in typed if exchange.events[i].event is None]
    differing = [
        (i, exchange.events[i].event, kind)
        for i, kind in typed
        if exchange.events[i].event not in (None, kind)
    ]
    if missing:
        yield Violation(
            expected(
                "an event: line naming each event's type (event: message_start, ...)",
                f"no event: line on {summarize(missing)} ({len(missing)} of {len(typed)}); "
                "anthropic-sdk-python skips such events",
            ),
            location=f"/events/{missing[0]}/event",
            evidence=events_excerpt(exchange, missing[0]),
        )
    if differing:
        i, name, kind = differing[0]
        yield Violation(
            expected(
                f"event: {kind}, the type of the event's data",
                f"event: {clip(str(name), 60)} on {summarize([d[0] for d in differing])}",
            ),
            location=f"/events/{i}/event",
            evidence=events_excerpt(exchange, i),
        )


@check("anthropic.stream.event-order")
def event_order(exchange: Exchange) -> Iterator[Violation]:
    """message_start, the blocks, message_delta, then message_stop, last (streaming guide: event flow)."""
    stream = parse(exchange)
    events = stream.events
    problems: list[tuple[int, str, str]] = []
    if events and events[0][1].get("type") != MESSAGE_START:
        i, first = events[0]
        problems.append((i, "message_start as the first event", f"{first.get('type')} first"))
    starts = stream.of_type(MESSAGE_START)
    if len(starts) > 1:
        problems.append((starts[1][0], "one message_start", f"another in event {starts[1][0]}"))
    deltas = stream.of_type(MESSAGE_DELTA)
    if deltas:
        late = [(i, e) for i, e in events if e.get("type") in _BLOCK_EVENTS and i > deltas[0][0]]
        if late:
            i, event = late[0]
            problems.append(
                (
                    i,
                    "every content block closed before message_delta",
                    f"{event.get('type')} after the message_delta of event {deltas[0][0]}",
                )
            )
    stop = stream.message_stop_at
    if stop is not None and not any(i < stop for i, _ in deltas):
        problems.append((stop, "message_delta before message_stop", "message_stop without it"))
    for i, wanted, received in problems:
        yield Violation(
            expected(wanted, received),
            location=f"/events/{i}/data/type",
            evidence=events_excerpt(exchange, i),
        )
    if stop is None:
        return
    after = exchange.events[stop + 1 :]
    tail = exchange.unterminated_tail.strip()
    if after or tail:
        names = sorted({e.event or "(unnamed)" for e in after})
        received = (
            f"{len(after)} more events ({clip(', '.join(names), 120)})"
            if after
            else f"more data: {clip(tail, 80)!r}"
        )
        yield Violation(
            expected("nothing after message_stop", received),
            location=f"/events/{stop + 1}",
            evidence=events_excerpt(exchange, stop + 1),
        )


@check("anthropic.stream.block-index")
def block_indices_contiguous(exchange: Exchange) -> Iterator[Violation]:
    """Blocks are opened with indices 0, 1, 2, … in order (streaming guide: content block types)."""
    opened: list[int] = []
    for i, event in parse(exchange).of_type(BLOCK_START):
        index = block_index(event)
        if index is None:
            yield Violation(
                expected(f"index {len(opened)}, an integer", show(event.get("index"))),
                location=f"/events/{i}/data/index",
                evidence=events_excerpt(exchange, i),
            )
            return
        if index in opened:
            continue  # opened twice: block-lifecycle's
        if index != len(opened):
            before = ", ".join(map(str, opened)) or "none"
            yield Violation(
                expected(
                    f"index {len(opened)} for the next content block",
                    f"index {index} (indices opened before: {before})",
                ),
                location=f"/events/{i}/data/index",
                evidence=events_excerpt(exchange, i),
            )
            return
        opened.append(index)


# Each way a block's events can go wrong: where in the event it shows, and what was expected.
_LIFECYCLE = {
    "reopened": ("/data/index", "each block opened once"),
    "stray-delta": ("/data/index", "deltas only for an open block"),
    "late-delta": ("/data/index", "deltas only for an open block"),
    "kind": ("/data/delta/type", "deltas of the block's kind"),
    "stray-stop": ("/data/index", "content_block_stop only for an opened block"),
    "reclosed": ("/data/index", "each block closed once"),
    "unclosed": ("/data/type", "content_block_stop for every block before message_delta"),
}


@check("anthropic.stream.block-lifecycle")
def block_lifecycle(exchange: Exchange) -> Iterator[Violation]:
    """Each block is opened once, gets deltas of its kind, and is closed once before message_delta."""
    found: dict[str, list[tuple[int, str]]] = {}
    for kind, i, received in _lifecycle_problems(parse(exchange).events):
        found.setdefault(kind, []).append((i, received))
    for kind, entries in found.items():
        (i, received), (pointer, wanted) = entries[0], _LIFECYCLE[kind]
        more = f" (and in {len(entries) - 1} more events)" if len(entries) > 1 else ""
        yield Violation(
            expected(wanted, received + more),
            location=f"/events/{i}{pointer}",
            evidence=events_excerpt(exchange, i),
        )


def _lifecycle_problems(events: list[tuple[int, dict[str, Any]]]) -> Iterator[tuple[str, int, str]]:
    """(problem kind, event, what was received) for each block event out of its lifecycle."""
    kinds: dict[int, str | None] = {}
    opened_at: dict[int, int] = {}
    closed: set[int] = set()
    ended: tuple[int, str] | None = None  # the first message_delta or message_stop
    for i, event in events:
        kind, index = event.get("type"), block_index(event)
        if kind in (MESSAGE_DELTA, MESSAGE_STOP):
            ended = ended or (i, kind)
        elif index is None:
            continue  # no index at all: the schema and block-index say so
        elif kind == BLOCK_START and index in kinds:
            yield "reopened", i, f"block {index} opened again (first in event {opened_at[index]})"
        elif kind == BLOCK_START:
            block = event.get("content_block")
            block_type = block.get("type") if isinstance(block, dict) else None
            kinds[index] = block_type if isinstance(block_type, str) else None
            opened_at[index] = i
        elif kind == BLOCK_DELTA and index not in kinds:
            yield "stray-delta", i, f"a delta for block {index}, never opened"
        elif kind == BLOCK_DELTA and index in closed:
            yield "late-delta", i, f"a delta for block {index} after its content_block_stop"
        elif kind == BLOCK_DELTA:
            wrong = _wrong_kind(kinds[index], delta_type(event))
            if wrong:
                yield "kind", i, f"{wrong} for block {index}"
        elif kind == BLOCK_STOP and index not in kinds:
            yield "stray-stop", i, f"block {index}, never opened"
        elif kind == BLOCK_STOP and index in closed:
            yield "reclosed", i, f"block {index} closed again"
        elif kind == BLOCK_STOP:
            closed.add(index)
    # A block closed only after message_delta is event-order's; one never closed is ours,
    # once the message ended (before that, the stream was cut: truncated's).
    never = [index for index in kinds if index not in closed]
    if never and ended:
        first = never[0]
        yield (
            "unclosed",
            ended[0],
            f"block {first} (opened in event {opened_at[first]}) open at {ended[1]}",
        )


def _wrong_kind(block_type: str | None, kind: str | None) -> str | None:
    """What is wrong with a delta of type ``kind`` for a block of ``block_type``, if anything."""
    takes = BLOCK_DELTAS.get(block_type) if block_type is not None else None
    # A delta or block type clients do not know yet is not judged: they ignore it.
    if takes is None or kind is None or kind not in DELTA_TYPES or kind in takes:
        return None
    return f"{kind} in a {block_type} block (it takes {' or '.join(takes) or 'no delta'})"


@check("anthropic.stream.truncated")
def stream_not_truncated(exchange: Exchange) -> Iterator[Violation]:
    """A stream ends with message_stop, or an error event (streaming guide: event flow).

    With neither, the connection closed mid-answer: what arrived is partial. A
    stream the suite cut itself (``exchange.cut``) is not the provider's doing.
    """
    stream = parse(exchange)
    if exchange.cut is not None or stream.message_stop_at is not None or stream.errors:
        return
    last = len(exchange.events) - 1
    tail = exchange.unterminated_tail
    received = f"the stream ended after {len(exchange.events)} events without message_stop"
    if tail:
        received += f"; an unterminated last event {clip(tail, 80)!r} (no blank line after it)"
    yield Violation(
        expected("a final message_stop event (or an error event)", received),
        location=f"/events/{last}" if last >= 0 else "/events",
        evidence=events_excerpt(exchange, max(last, 0)),
    )


# message_start.message: each field, what it must be, and how to tell.
_START_FIELDS: tuple[tuple[str, str, Any], ...] = (
    ("id", "a non-empty id", lambda v: isinstance(v, str) and v != ""),
    ("type", "type 'message'", lambda v: v == "message"),
    ("role", "role 'assistant'", lambda v: v == "assistant"),
    ("content", "content [] (the blocks follow as events)", lambda v: v == []),
    ("model", "the model's name", lambda v: isinstance(v, str) and v != ""),
    ("stop_reason", "stop_reason null (it comes in message_delta)", lambda v: v is None),
    ("stop_sequence", "stop_sequence null (it comes in message_delta)", lambda v: v is None),
    ("usage", "a usage object", lambda v: isinstance(v, dict)),
)


@check("anthropic.stream.message-start")
def message_start_complete(exchange: Exchange) -> Iterator[Violation]:
    """message_start carries a complete Message with empty content (streaming guide: event flow)."""
    start = parse(exchange).message_start
    if start is None:
        return  # event-order says so
    i, event = start
    message = event.get("message")
    if not isinstance(message, dict):
        yield Violation(
            expected("message: a Message object", show(message) if "message" in event else "none"),
            location=f"/events/{i}/data/message",
            evidence=events_excerpt(exchange, i),
        )
        return
    for key, wanted, valid in _START_FIELDS:
        if key not in message or not valid(message[key]):
            yield Violation(
                expected(wanted, show(message[key]) if key in message else f"no {key}"),
                location=f"/events/{i}/data/message/{key}",
                evidence=events_excerpt(exchange, i),
            )


@check("anthropic.stream.input-tokens")
def input_tokens_reported(exchange: Exchange) -> Iterator[Violation]:
    """message_start's usage counts the prompt, or a message_delta does (streaming guide: usage)."""
    stream = parse(exchange)
    start = stream.message_start
    message = start[1].get("message") if start else None
    usage = message.get("usage") if isinstance(message, dict) else None
    if start is None or not isinstance(usage, dict):
        return  # message-start says so
    later = [e.get("usage") for _, e in stream.of_type(MESSAGE_DELTA)]
    counted = [u.get(k) for u in [usage, *later] if isinstance(u, dict) for k in INPUT_COUNTS]
    if any(token_count(value) for value in counted):
        return
    value = usage.get("input_tokens")
    received = f"input_tokens {show(value)}" if "input_tokens" in usage else "no input_tokens"
    yield Violation(
        expected(
            "input_tokens > 0 in message_start's usage (or in a message_delta)",
            f"{received}, and no message_delta reports input tokens",
        ),
        location=f"/events/{start[0]}/data/message/usage/input_tokens",
        evidence=events_excerpt(exchange, start[0]),
    )


@check("anthropic.stream.null-field-absent")
def delta_null_fields_present(exchange: Exchange) -> Iterator[Violation]:
    """message_delta.delta sends stop_reason and stop_sequence, null when none (RawMessageDeltaEvent)."""
    for i, event in parse(exchange).of_type(MESSAGE_DELTA):
        delta = event.get("delta")
        if not isinstance(delta, dict):
            continue  # the event schema's to report
        absent = [key for key in ("stop_reason", "stop_sequence") if key not in delta]
        if absent:
            yield Violation(
                expected(
                    "delta with stop_reason and stop_sequence (null when there is none)",
                    f"no {' and no '.join(absent)} in the delta of event {i}",
                ),
                location=f"/events/{i}/data/delta",
                evidence=events_excerpt(exchange, i),
            )


@check("anthropic.stream.output-tokens")
def output_tokens_reported(
    exchange: Exchange, max_tokens: int | None = None
) -> Iterator[Violation]:
    """Every message_delta has usage.output_tokens, cumulative, within max_tokens (MessageDeltaUsage).

    ``max_tokens`` defaults to the request's.
    """
    deltas = parse(exchange).of_type(MESSAGE_DELTA)
    lacking = [(i, e.get("usage")) for i, e in deltas if not _has_output(e.get("usage"))]
    if lacking:
        i, usage = lacking[0]
        if not isinstance(usage, dict):
            pointer, received = "/data/usage", "no usage object" if usage is None else show(usage)
        else:
            value = usage.get("output_tokens")
            pointer = "/data/usage/output_tokens"
            received = show(value) if "output_tokens" in usage else "no output_tokens"
        yield Violation(
            expected(
                "usage.output_tokens on every message_delta (a cumulative count)",
                f"{received} in {summarize([j for j, _ in lacking])}",
            ),
            location=f"/events/{i}{pointer}",
            evidence=events_excerpt(exchange, i),
        )
    counted = [(i, e["usage"]["output_tokens"]) for i, e in deltas if _has_output(e.get("usage"))]
    if not counted:
        return
    i, output = counted[-1]
    cap = requested_max_tokens(exchange, max_tokens)
    reply = read(exchange)
    problem = None
    if cap is not None and output > cap:
        problem = expected(f"output_tokens <= max_tokens {cap}", str(output))
    elif output == 0 and (reply.text or reply.tool_calls):
        problem = expected(f"output_tokens >= 1 for an answer of {len(reply.text)} characters", "0")
    if problem:
        yield Violation(
            problem,
            location=f"/events/{i}/data/usage/output_tokens",
            evidence=events_excerpt(exchange, i),
        )


def _has_output(usage: Any) -> bool:
    return isinstance(usage, dict) and is_count(usage.get("output_tokens"))


@check("anthropic.stream.event-schema")
def events_match_schema(exchange: Exchange) -> Iterator[Violation]:
    """Each known event validates against schemas/anthropic/stream_event (types/raw_message_stream_event.py)."""
    stream = parse(exchange)
    # Grouped by pointer and message: one broken field on 500 deltas is one finding.
    grouped: dict[tuple[str, str], list[int]] = {}
    for i, event in sorted([*stream.events, *stream.pings]):
        if _plain_delta(event):
            continue
        for pointer, message in schema_errors("anthropic", "stream_event", event):
            grouped.setdefault((pointer, message), []).append(i)
    for (pointer, message), where in list(grouped.items())[:MAX_SCHEMA_FINDINGS]:
        kind = exchange.events[where[0]].event or "event"
        yield Violation(
            expected(
                f"{kind} events valid against the official schema", f"{summarize(where)}: {message}"
            ),
            location=f"/events/{where[0]}/data{pointer}",
            evidence=events_excerpt(exchange, where[0]),
        )


# The field each common delta carries: a delta of this form is valid against the schema
# (which allows extra keys nowhere it matters here), so the thousands of them in a long
# stream are not each run through the validator.
_DELTA_FIELDS = {
    "text_delta": "text",
    "input_json_delta": "partial_json",
    "thinking_delta": "thinking",
}


def _plain_delta(event: dict[str, Any]) -> bool:
    """Whether an event is a content_block_delta of the common, valid form."""
    delta = event.get("delta")
    if (
        event.get("type") != BLOCK_DELTA
        or block_index(event) is None
        or not isinstance(delta, dict)
    ):
        return False
    kind = delta.get("type")
    field = _DELTA_FIELDS.get(kind) if isinstance(kind, str) else None
    return field is not None and isinstance(delta.get(field), str)


@check("anthropic.stream.error-event")
def no_error_event(exchange: Exchange) -> Iterator[Violation]:
    """A successful stream carries no error event (the SDKs raise APIStatusError on one)."""
    stream = parse(exchange)
    for i, payload in stream.errors:
        error = payload.get("error")
        kind = error.get("type") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        yield Violation(
            expected(
                "the message streamed to message_stop",
                f"an error event ({show(kind, 60)}) after {len(stream.events)} message events: "
                f"{clip(str(message), 160)!r}",
            ),
            location=f"/events/{i}/data/error",
            evidence=events_excerpt(exchange, i),
        )


def _structure(message: dict[str, Any]) -> tuple[list[str], Any, list[str]]:
    """(block types in order, stop_reason, tool names) of a message.

    Consecutive blocks of one type count once, redacted_thinking counts as thinking (the
    safety system redacts some, at random), and text beside tool_use blocks is not
    counted: a model may or may not preface a call with a sentence. An empty text block
    is a kind of its own: a client reading the first block's text reads nothing.
    """
    content = message.get("content")
    blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
    kinds = [
        "empty text"
        if b.get("type") == "text" and b.get("text") == ""
        else str(b.get("type")).replace("redacted_thinking", "thinking")
        for b in blocks
    ]
    if "tool_use" in kinds:
        kinds = [k for k in kinds if k != "text"]
    merged = [k for n, k in enumerate(kinds) if n == 0 or kinds[n - 1] != k]
    names = sorted(str(b.get("name")) for b in blocks if b.get("type") == "tool_use")
    return merged, message.get("stop_reason"), names


def _describe(structure: tuple[list[str], Any, list[str]]) -> str:
    kinds, reason, names = structure
    return f"blocks [{', '.join(kinds)}], stop_reason {show(reason, 40)}" + (
        f", tools [{', '.join(names)}]" if names else ""
    )


@check("anthropic.stream.matches-message")
def matches_message(streamed: Exchange, plain: Exchange) -> Iterator[Violation]:
    """The accumulated stream has the structure of the non-streamed message (streaming guide)."""
    plain_message = None if plain.streamed else message_of(plain)
    stream = parse(streamed)
    if not isinstance(plain_message, dict) or not isinstance(plain_message.get("content"), list):
        return
    if stream.message_stop_at is None:
        return  # truncated or an error event says so
    got, want = _structure(stream.accumulate()), _structure(plain_message)
    if got != want:
        yield Violation(
            expected(f"the non-streamed message's {_describe(want)}", _describe(got)),
            location="/events",
            evidence=events_excerpt(streamed, stream.message_stop_at),
        )


def _content_delta(event: dict[str, Any]) -> bool:
    delta = event.get("delta")
    if not isinstance(delta, dict):
        return False
    return any(
        isinstance(delta.get(k), str) and delta[k] for k in ("text", "partial_json", "thinking")
    )


def _content_times(exchange: Exchange) -> list[float]:
    return [
        exchange.events[i].t for i, e in parse(exchange).of_type(BLOCK_DELTA) if _content_delta(e)
    ]


delivered_incrementally = framing.incremental_check(
    "anthropic.stream.pseudo-streaming", _content_times, "content deltas"
)
