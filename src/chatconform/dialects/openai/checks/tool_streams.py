"""Checks of streamed tool calls: every delta indexed, one header per call, distinct indices."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from chatconform.dialects.openai.checks import Violation, check, expected, tools
from chatconform.dialects.openai.checks.tools import evidence
from chatconform.dialects.openai.stream import parse
from chatconform.dialects.openai.tool_calls import (
    ToolCall,
    ToolDelta,
    calls,
    has_index,
    stream_deltas,
)
from chatconform.exchange import Exchange, clip
from chatconform.finding import Finding


def _nonempty(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _stream_deltas(exchange: Exchange) -> list[ToolDelta]:
    return stream_deltas(parse(exchange).chunks) if exchange.streamed else []


@check("openai.tools.stream-index")
def stream_deltas_indexed(exchange: Exchange) -> Iterator[Violation]:
    """Every delta.tool_calls item carries index (ChatCompletionMessageToolCallChunk)."""
    missing = [d for d in _stream_deltas(exchange) if not has_index(d)]
    if missing:
        first = missing[0]
        yield Violation(
            expected(
                "an integer index on every delta.tool_calls item",
                f"{len(missing)} item(s) without one, first {clip(json.dumps(first.item), 160)}",
            ),
            location=first.pointer,
            evidence=evidence(exchange, first.pointer),
        )


@check("openai.tools.stream-call-header")
def stream_call_headers(exchange: Exchange) -> Iterator[Violation]:
    """A call's first delta carries id, type and name; later deltas only arguments (streaming guide)."""
    if not exchange.streamed:
        return
    for call in calls(exchange):
        head, rest = call.deltas[0], call.deltas[1:]
        absent = [k for k in ("id", "type") if head.get(k) is None]
        absent += ["function.name"] if head.function.get("name") is None else []
        if absent:
            yield Violation(
                expected(
                    "id, type and function.name on the first delta of each tool call",
                    f"{', '.join(absent)} missing: {clip(json.dumps(head.item), 160)}",
                ),
                location=head.pointer,
                evidence=evidence(exchange, head.pointer),
            )
        # Clients concatenate string fields per index, so a repeated id or name is doubled.
        # A different id is another call on the same index: stream-parallel-indices says so.
        repeated = [
            d
            for d in rest
            if (d.get("id") == call.id and _nonempty(call.id))
            or (d.function.get("name") and not _nonempty(d.get("id")))
        ]
        if repeated:
            yield Violation(
                expected(
                    "id and name only on the first delta of a call",
                    f"repeated in {len(repeated)} later delta(s): "
                    f"{clip(json.dumps(repeated[0].item), 160)}",
                ),
                location=repeated[0].pointer,
                evidence=evidence(exchange, repeated[0].pointer),
            )


@check("openai.tools.stream-parallel-indices")
def stream_indices_distinct(exchange: Exchange) -> Iterator[Violation]:
    """Each streamed call has its own index, and n calls use 0 … n-1 (streaming guide)."""
    problem = _index_problem(_stream_deltas(exchange))
    if problem:
        delta, wanted, received = problem
        yield Violation(
            expected(wanted, received),
            location=f"{delta.pointer}/index",
            evidence=evidence(exchange, delta.pointer),
        )


def _index_problem(deltas: list[ToolDelta]) -> tuple[ToolDelta, str, str] | None:
    """The first delta that misnumbers a call: (delta, expected, received)."""
    started: dict[int, tuple[Any, ToolDelta]] = {}
    for delta in deltas:
        if not has_index(delta):
            continue
        index, new_id = delta.get("index"), delta.get("id")
        if index not in started:
            started[index] = (new_id, delta)
            continue
        first_id = started[index][0]
        # A different id on a started index is a second call; the same id again is a repeat.
        if _nonempty(new_id) and _nonempty(first_id) and new_id != first_id:
            name = delta.function.get("name")
            received = f"call {new_id!r} ({name}) reuses index {index} of call {first_id!r}"
            return delta, "a new tool call on a new index", received
    # Clients put call i at tool_calls[i]: a gap leaves a hole they trip over.
    outside = [d for index, (_, d) in started.items() if index >= len(started)]
    if outside:
        wanted = f"indices 0 to {len(started) - 1} for {len(started)} tool call(s)"
        return outside[0], wanted, f"indices {', '.join(map(str, sorted(started)))}"
    return None


def _shape(value: Any) -> Any:
    """The structure of parsed arguments: keys and JSON types, not the values."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def _signature(call: ToolCall) -> str:
    ok, value = call.parsed_arguments()
    return f"{call.name}({json.dumps(_shape(value)) if ok else '<not JSON>'})"


@check("openai.tools.stream-matches-non-streamed")
def stream_matches_non_streamed(streamed: Exchange, plain: Exchange) -> Iterator[Violation]:
    """Streaming changes how tool calls are delivered, not which calls are made."""
    got = sorted(_signature(c) for c in calls(streamed))
    want = sorted(_signature(c) for c in calls(plain))
    if got != want:
        yield Violation(
            expected(
                f"the calls of the non-streamed answer: {'; '.join(want) or 'none'}",
                "; ".join(got) or "no tool call",
            ),
            location="/events",
            evidence=streamed.excerpt(),
        )


# Every structural check of tool calls, plain and streamed: what a response must
# satisfy whatever the model chose to call, judged on every attempt.
Check = Callable[[Exchange], list[Finding]]
# Findings that mean the calls cannot be read as sent: the call sits in the text, or
# the deltas of two calls merge. Nothing else is judged on such an exchange: what a
# client reassembles from it is not what the model called.
UNREADABLE: tuple[Check, ...] = (
    tools.call_not_in_content,
    stream_deltas_indexed,
    stream_indices_distinct,
)
# What every tool-calling response must satisfy once its calls can be read.
FIELDS: tuple[Check, ...] = (
    tools.arguments_are_strings,
    tools.arguments_are_valid,
    tools.call_fields_valid,
    tools.call_ids_unique,
    tools.finish_reason_tool_calls,
    tools.parallel_tool_calls_honoured,
    stream_call_headers,
)
