"""Tool calls read from messages and reassembled from streamed deltas (chatconform.dialects.openai.tool_calls)."""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import given, note, settings
from hypothesis import strategies as st

from chatconform.dialects.openai.tool_calls import (
    ToolCall,
    message_calls,
    reassemble,
    stream_deltas,
)

ARGUMENT_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
CALL = st.tuples(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=4, max_size=12).map("call_".__add__),
    st.sampled_from(["get_weather", "get_current_time", "create_calendar_event"]),
    st.dictionaries(st.text(max_size=8), ARGUMENT_VALUES, max_size=4).map(json.dumps),
)
# Distinct ids, since the parallel calls of one response have distinct ids.
CALLS = st.lists(CALL, min_size=1, max_size=4, unique_by=lambda call: call[0])


def _fragments(draw: st.DrawFn, text: str) -> list[str]:
    """``text`` cut at arbitrary points (empty fragments included)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=8)))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[tuple[str, str, str]], list[tuple[int, dict]]]:
    """Calls, and chunks that stream them with their deltas interleaved (per-call order kept)."""
    calls = draw(CALLS)
    queues: list[list[dict[str, Any]]] = []
    for index, (call_id, name, arguments) in enumerate(calls):
        pieces = _fragments(draw, arguments)
        # The header carries arguments "" or already the first fragment: both are seen.
        first = pieces.pop(0) if pieces and draw(st.booleans()) else ""
        head = {"index": index, "id": call_id, "type": "function"}
        head["function"] = {"name": name, "arguments": first}
        queues.append([head, *({"index": index, "function": {"arguments": p}} for p in pieces)])
    chunks: list[tuple[int, dict]] = []
    while any(queues):
        # Any call with deltas left may go next; a chunk may carry several items.
        ready = [q for q in queues if q]
        batch = [
            q.pop(0)
            for q in draw(st.lists(st.sampled_from(ready), min_size=1, max_size=2, unique_by=id))
        ]
        delta = {"tool_calls": batch}
        chunks.append((len(chunks), {"choices": [{"index": 0, "delta": delta}]}))
    return calls, chunks


@settings(max_examples=300, deadline=None)
@given(case=streams())
def test_any_split_and_interleaving_reassembles_to_the_same_calls(
    case: tuple[list[tuple[str, str, str]], list[tuple[int, dict]]],
) -> None:
    calls, chunks = case
    note(json.dumps([c for _, c in chunks]))
    rebuilt = reassemble(stream_deltas(chunks))
    assert [(c.id, c.name, c.arguments) for c in rebuilt] == calls
    assert all(c.type == "function" for c in rebuilt)
    assert [json.loads(c.arguments) for c in rebuilt] == [json.loads(a) for _, _, a in calls]


def _chunk(*items: dict[str, Any]) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"tool_calls": list(items)}}]}


def test_deltas_without_index_split_on_a_new_id() -> None:
    chunks = list(
        enumerate(
            [
                _chunk({"id": "call_a", "function": {"name": "f", "arguments": ""}}),
                _chunk({"function": {"arguments": "{}"}}),
                _chunk({"id": "call_b", "function": {"name": "g", "arguments": '{"x"'}}),
                _chunk({"function": {"arguments": ":1}"}}),
            ]
        )
    )
    rebuilt = reassemble(stream_deltas(chunks))
    assert [(c.id, c.name, c.arguments) for c in rebuilt] == [
        ("call_a", "f", "{}"),
        ("call_b", "g", '{"x":1}'),
    ]
    assert [c.location for c in rebuilt] == [
        "/events/0/choices/0/delta/tool_calls/0",
        "/events/2/choices/0/delta/tool_calls/0",
    ]


def test_a_non_string_fragment_is_kept_and_located() -> None:
    chunks = list(
        enumerate(
            [
                _chunk({"index": 0, "id": "call_a", "function": {"name": "f", "arguments": ""}}),
                _chunk({"index": 0, "function": {"arguments": {"city": "Paris"}}}),
                _chunk({"index": 0, "function": {"arguments": "ignored"}}),
            ]
        )
    )
    [call] = reassemble(stream_deltas(chunks))
    assert call.arguments == {"city": "Paris"}
    assert call.arguments_pointer == "/events/1/choices/0/delta/tool_calls/0/function/arguments"


def test_deltas_of_other_choices_are_not_mixed_in() -> None:
    other = {"choices": [{"index": 1, "delta": {"tool_calls": [{"index": 0, "id": "call_x"}]}}]}
    chunks = [(0, _chunk({"index": 0, "id": "call_a"})), (1, other)]
    assert [c.id for c in reassemble(stream_deltas(chunks))] == ["call_a"]
    assert [c.id for c in reassemble(stream_deltas(chunks, choice=1))] == ["call_x"]


def test_arguments_nested_deeper_than_python_parses_are_not_json() -> None:
    call = ToolCall(location="/choices/0/message/tool_calls/0", arguments="[" * 100_000)
    ok, reason = call.parsed_arguments()
    assert not ok
    assert reason.startswith("not JSON (nested deeper")


def test_message_calls_keep_fields_as_received() -> None:
    body = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "tool_calls": [
                        {
                            "id": "call_a",
                            "type": "function",
                            "function": {"name": "f", "arguments": {}},
                        },
                        "not a call",
                    ]
                },
            }
        ]
    }
    first, second = message_calls(body)
    assert (first.id, first.name, first.arguments) == ("call_a", "f", {})
    assert first.arguments_pointer == "/choices/0/message/tool_calls/0/function/arguments"
    assert (second.id, second.name, second.location) == (
        None,
        None,
        "/choices/0/message/tool_calls/1",
    )
    assert first.parsed_arguments() == (False, "arguments are {}, not a string")
