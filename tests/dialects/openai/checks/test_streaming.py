"""Checks of streamed chat completions (chatconform.dialects.openai.checks.streaming)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from check_helpers import (
    PLAIN_STREAM_REQUEST,
    STREAM_REQUEST,
    json_exchange,
    read,
    sse_bytes,
    sse_exchange,
    stream_exchange,
    summary,
)

from chatconform.dialects.openai.checks import completion, streaming
from chatconform.dialects.openai.stream import parse
from chatconform.exchange import Exchange
from chatconform.finding import Finding, deduplicate


def _usage_consistent(exchange: Exchange) -> list[Finding]:
    """How the include-usage case judges the usage chunk."""
    at = [i for i, c in parse(exchange).chunks if isinstance(c.get("usage"), dict)]
    if not at:
        return []
    return completion.usage_total_consistent(
        parse(exchange).usage(), location=f"/events/{at[-1]}/usage"
    )


# Every check a streaming case runs on a stream, with the arguments the case gives it.
STREAM_CHECKS: dict[str, Callable[[Exchange], list[Finding]]] = {
    "content-type": streaming.content_type_is_event_stream,
    "event-json": streaming.events_are_json_chunks,
    "chunk-schema": streaming.chunks_match_schema,
    "chunk-object": streaming.chunk_object_is_chunk,
    "choice-index": streaming.choices_carry_index,
    "chunk-identity": streaming.chunk_identity_constant,
    "first-delta-role": streaming.first_delta_has_role,
    "cumulative-deltas": streaming.deltas_are_incremental,
    "finish-reason": streaming.finish_reason_once_at_end,
    "done-sentinel": streaming.done_sentinel_last,
    "include-usage": streaming.include_usage_honoured,
    "matches-non-streamed": lambda ex: streaming.matches_non_streamed(
        ex, json_exchange("bodies/response_counting.json")
    ),
    "pseudo-streaming": streaming.delivered_incrementally,
    "error-event": streaming.no_error_event,
    "truncated": streaming.stream_not_truncated,
    "finish-reason-absent": streaming.finish_reason_key_present,
    "optional-field-null": completion.optional_fields_not_null,
    "created-unit": completion.created_in_seconds,
    "model-mismatch": completion.model_matches_request,
    "usage-consistent": _usage_consistent,
}


def test_stream_checks_cover_the_streaming_module() -> None:
    rules = {f"openai.stream.{name}" for name in STREAM_CHECKS}
    module = {
        fn.rule_id for fn in vars(streaming).values() if callable(fn) and hasattr(fn, "rule_id")
    }
    assert module <= rules


# --- faithful streams: no check flags them ------------------------------------------------------

FAITHFUL = [
    ("stream_include_usage.sse", STREAM_REQUEST),
    ("stream_faithful.sse", PLAIN_STREAM_REQUEST),
    # BOM, CRLF and a bare CR, comments, "data:" without a space, id/retry fields,
    # one chunk split over two data lines, a comment after [DONE].
    ("stream_crlf_comments_no_space.sse", STREAM_REQUEST),
    # "1", " 10", " 2", " 20", ...: deltas that extend the previous one by chance.
    ("stream_chance_prefixes.sse", STREAM_REQUEST),
]


@pytest.mark.parametrize(("name", "request_body"), FAITHFUL, ids=[n for n, _ in FAITHFUL])
@pytest.mark.parametrize("check", sorted(STREAM_CHECKS))
def test_faithful_stream_gives_no_finding(
    name: str, request_body: dict[str, Any], check: str
) -> None:
    exchange = stream_exchange(name, request=request_body)
    assert STREAM_CHECKS[check](exchange) == []


def test_framing_variant_decodes_to_the_same_chunks() -> None:
    # The variant is the include_usage stream, reframed: the checks see the same chunks.
    plain = parse(stream_exchange("stream_include_usage.sse"))
    framed = parse(stream_exchange("stream_crlf_comments_no_space.sse"))
    assert framed.chunks == plain.chunks
    assert framed.done_at == plain.done_at == 14
    assert framed.not_json == []


# --- samples each check flags -------------------------------------------------------------------

FLAGGED: list[tuple[str, Callable[[Exchange], list[Finding]], list[tuple[str, str, str]]]] = [
    (
        "stream_two_json_per_event.sse",
        streaming.events_are_json_chunks,
        [("openai.stream.event-json", "must", "/events/0")],
    ),
    (
        "stream_choice_index_missing.sse",
        streaming.chunks_match_schema,
        [("openai.stream.chunk-schema", "must", "/events/0/choices/0/index")],
    ),
    (
        "stream_choice_index_missing.sse",
        streaming.choices_carry_index,
        [("openai.stream.choice-index", "must", "/events/0/choices/0/index")],
    ),
    (
        "stream_chunk_object_wrong.sse",
        streaming.chunks_match_schema,
        [("openai.stream.chunk-schema", "must", "/events/0/object")],
    ),
    (
        "stream_chunk_object_wrong.sse",
        streaming.chunk_object_is_chunk,
        [("openai.stream.chunk-object", "must", "/events/0/object")],
    ),
    (
        "stream_chunk_id_changes.sse",
        streaming.chunk_identity_constant,
        [("openai.stream.chunk-identity", "should", "/events/1/id")],
    ),
    (
        "stream_first_delta_no_role.sse",
        streaming.first_delta_has_role,
        [("openai.stream.first-delta-role", "must", "/events/0/choices/0/delta/role")],
    ),
    (
        "stream_cumulative_deltas.sse",
        streaming.deltas_are_incremental,
        [("openai.stream.cumulative-deltas", "must", "/events/2/choices/0/delta/content")],
    ),
    (
        "stream_two_finish_reasons.sse",
        streaming.finish_reason_once_at_end,
        [("openai.stream.finish-reason", "must", "/events/11/choices/0/finish_reason")],
    ),
    (
        "stream_finish_reason_end_turn.sse",
        streaming.finish_reason_once_at_end,
        [("openai.stream.finish-reason", "must", "/events/12/choices/0/finish_reason")],
    ),
    (
        "stream_finish_reason_missing.sse",
        streaming.finish_reason_once_at_end,
        [("openai.stream.finish-reason", "must", "/events/12/choices/0/finish_reason")],
    ),
    (
        "stream_finish_reason_absent.sse",
        streaming.finish_reason_key_present,
        [("openai.stream.finish-reason-absent", "should", "/events/0/choices/0/finish_reason")],
    ),
    (
        "stream_optional_fields_null.sse",
        completion.optional_fields_not_null,
        [
            (
                "openai.completion.optional-field-null",
                "should",
                "/events/0/choices/0/delta/function_call",
            ),
            (
                "openai.completion.optional-field-null",
                "should",
                "/events/0/choices/0/delta/tool_calls",
            ),
            ("openai.completion.optional-field-null", "should", "/events/0/system_fingerprint"),
            # role is null from the second delta on
            ("openai.completion.optional-field-null", "should", "/events/1/choices/0/delta/role"),
        ],
    ),
    (
        "stream_no_done.sse",
        streaming.done_sentinel_last,
        [("openai.stream.done-sentinel", "must", "/events/13")],
    ),
    (
        "stream_done_unterminated.sse",
        streaming.done_sentinel_last,
        [("openai.stream.done-sentinel", "must", "/events/13")],
    ),
    (
        "stream_events_after_done.sse",
        streaming.done_sentinel_last,
        [("openai.stream.done-sentinel", "must", "/events/14")],
    ),
    (
        "stream_faithful.sse",  # requested with include_usage, which it ignores
        streaming.include_usage_honoured,
        [("openai.stream.include-usage", "must", "/events")],
    ),
    (
        "stream_usage_on_every_chunk.sse",
        streaming.include_usage_honoured,
        [
            ("openai.stream.include-usage", "must", "/events/0/usage"),
            ("openai.stream.include-usage", "must", "/events"),
        ],
    ),
    (
        "stream_usage_not_last.sse",
        streaming.include_usage_honoured,
        [("openai.stream.include-usage", "must", "/events/12")],
    ),
    (
        "stream_error_event.sse",
        streaming.no_error_event,
        [("openai.stream.error-event", "must", "/events/4")],
    ),
]


@pytest.mark.parametrize(
    ("name", "check", "expected"), FLAGGED, ids=[f"{n}-{c.rule_id}" for n, c, _ in FLAGGED]
)
def test_deviating_stream_is_flagged(
    name: str, check: Callable[[Exchange], list[Finding]], expected: list[tuple[str, str, str]]
) -> None:
    findings = check(stream_exchange(name))
    assert summary(findings) == expected
    for finding in findings:
        assert finding.message.startswith("Expected: ")
        assert "\nReceived: " in finding.message
        assert finding.evidence


def test_deduplicate_keeps_the_specific_chunk_object_finding() -> None:
    exchange = stream_exchange("stream_chunk_object_wrong.sse")
    findings = [
        *streaming.chunks_match_schema(exchange),
        *streaming.chunk_object_is_chunk(exchange),
    ]
    assert {f.location for f in findings} == {"/events/0/object"}
    assert len(findings) == 2
    assert summary(deduplicate(findings)) == [
        ("openai.stream.chunk-object", "must", "/events/0/object")
    ]


# What clients tolerate: a should rule at the place where the strict schema reports it.
TOLERATED = [
    ("stream_finish_reason_absent.sse", streaming.finish_reason_key_present),
    ("stream_optional_fields_null.sse", completion.optional_fields_not_null),
]


@pytest.mark.parametrize(("name", "check"), TOLERATED, ids=[n for n, _ in TOLERATED])
def test_a_tolerated_deviation_is_a_should_in_place_of_the_schema_must(
    name: str, check: Callable[[Exchange], list[Finding]]
) -> None:
    exchange = stream_exchange(name)
    schema = streaming.chunks_match_schema(exchange)
    named = check(exchange)
    assert schema, "the strict schema rejects it"
    assert {f.location for f in schema} == {f.location for f in named}
    assert {str(f.severity) for f in named} == {"should"}
    assert summary(deduplicate([*schema, *named])) == summary(named)


def test_finish_reason_absent_from_the_last_chunk_is_the_finish_reason_rules() -> None:
    # No chunk carries finish_reason: the earlier chunks are a should, the last a must.
    chunks = [
        json.loads(line[6:])
        for line in read("stream_finish_reason_absent.sse").decode().split("\n\n")
        if line.startswith("data: {")
    ]
    del chunks[-1]["choices"][0]["finish_reason"]
    exchange = sse_exchange(sse_bytes(chunks), request=PLAIN_STREAM_REQUEST)
    assert summary(streaming.finish_reason_key_present(exchange)) == [
        ("openai.stream.finish-reason-absent", "should", "/events/0/choices/0/finish_reason")
    ]
    assert summary(streaming.finish_reason_once_at_end(exchange)) == [
        ("openai.stream.finish-reason", "must", "/events/12/choices/0/finish_reason")
    ]
    findings = [
        *streaming.chunks_match_schema(exchange),
        *streaming.finish_reason_key_present(exchange),
    ]
    assert summary(deduplicate(findings)) == [
        ("openai.stream.finish-reason-absent", "should", "/events/0/choices/0/finish_reason")
    ]


def test_finish_reason_absent_is_reported_per_position_in_the_choices_array() -> None:
    chunks = [
        {
            "choices": [
                {"index": 0, "delta": {"content": "a"}},
                {"index": 1, "delta": {"content": "b"}},
            ]
        },
        {"choices": [{"index": 1, "delta": {}, "finish_reason": "stop"}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    findings = streaming.finish_reason_key_present(sse_exchange(sse_bytes(chunks)))
    assert [f.location for f in findings] == [
        "/events/0/choices/0/finish_reason",
        "/events/0/choices/1/finish_reason",
    ]


# --- content type -------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/event-stream", "Text/Event-Stream; charset=utf-8"])
def test_content_type_accepts_event_stream(content_type: str) -> None:
    exchange = stream_exchange("stream_include_usage.sse", content_type=content_type)
    assert streaming.content_type_is_event_stream(exchange) == []


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", ""])
def test_content_type_flags_anything_else(content_type: str) -> None:
    exchange = stream_exchange("stream_include_usage.sse", content_type=content_type)
    findings = streaming.content_type_is_event_stream(exchange)
    assert summary(findings) == [("openai.stream.content-type", "must", "")]
    assert repr(content_type or "none") in findings[0].message


# --- event-json ---------------------------------------------------------------------------------


def test_event_json_flags_a_chunk_that_is_a_json_array() -> None:
    raw = sse_bytes([{"choices": []}, [{"choices": []}]])
    findings = streaming.events_are_json_chunks(sse_exchange(raw))
    assert summary(findings) == [("openai.stream.event-json", "must", "/events/1")]


def test_event_json_counts_every_bad_event() -> None:
    findings = streaming.events_are_json_chunks(stream_exchange("stream_two_json_per_event.sse"))
    assert "event 0 and 6 more" in findings[0].message


# --- cumulative deltas --------------------------------------------------------------------------


def _content_stream(pieces: list[str]) -> Exchange:
    chunks = [
        {"id": "c", "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]}
        for p in pieces
    ]
    return sse_exchange(sse_bytes(chunks))


def test_cumulative_deltas_accepts_a_counting_stream() -> None:
    pieces = ["1", *(f" {n}" for n in range(2, 12))]  # "1", " 2", ..., " 10", " 11"
    assert streaming.deltas_are_incremental(_content_stream(pieces)) == []


@pytest.mark.parametrize(
    "pieces",
    [
        ["1", " 10", " 2", " 20", " 3", " 30"],
        ["1", " 10", " 100", " 1000", " 10000"],
        ["Powers", " of", " ten", ":", " 1", " 10", " 100", " 1000"],
        ["In", " the", " theme", " park"],
    ],
    ids=["tenfold-pairs", "powers-of-ten", "powers-of-ten-introduced", "words"],
)
def test_cumulative_deltas_accepts_chance_prefixes(pieces: list[str]) -> None:
    assert streaming.deltas_are_incremental(_content_stream(pieces)) == []


def test_cumulative_deltas_flags_a_cumulative_stream() -> None:
    pieces = ["Hello", "Hello there", "Hello there, how", "Hello there, how are you?"]
    findings = streaming.deltas_are_incremental(_content_stream(pieces))
    assert summary(findings) == [
        ("openai.stream.cumulative-deltas", "must", "/events/1/choices/0/delta/content")
    ]
    assert "3 of 3 deltas" in findings[0].message


# --- finish_reason ------------------------------------------------------------------------------


def test_finish_reason_flags_a_stream_without_choices() -> None:
    exchange = sse_exchange(sse_bytes([{"id": "c", "choices": [], "usage": None}]))
    findings = streaming.finish_reason_once_at_end(exchange)
    assert summary(findings) == [("openai.stream.finish-reason", "must", "/events")]


def test_finish_reason_judges_each_choice() -> None:
    chunks = [
        {"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]},
        {"choices": [{"index": 1, "delta": {"role": "assistant"}, "finish_reason": None}]},
        {"choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": "stop"}]},
        {"choices": [{"index": 1, "delta": {"content": "b"}, "finish_reason": None}]},
    ]
    findings = streaming.finish_reason_once_at_end(sse_exchange(sse_bytes(chunks)))
    assert summary(findings) == [
        ("openai.stream.finish-reason", "must", "/events/3/choices/0/finish_reason")
    ]
    assert "choice 1" in findings[0].message


# --- done sentinel ------------------------------------------------------------------------------


def test_done_sentinel_flags_a_done_without_any_line_end() -> None:
    raw = read("stream_done_unterminated.sse").removesuffix(b"\n")
    assert raw.endswith(b"data: [DONE]")
    findings = streaming.done_sentinel_last(sse_exchange(raw))
    assert summary(findings) == [("openai.stream.done-sentinel", "must", "/events/13")]
    assert "unterminated" in findings[0].message


def test_done_sentinel_message_says_the_event_was_unterminated() -> None:
    findings = streaming.done_sentinel_last(stream_exchange("stream_done_unterminated.sse"))
    assert "'data: [DONE]'" in findings[0].message
    assert "no blank line" in findings[0].message


def test_done_sentinel_flags_unterminated_data_after_done() -> None:
    raw = read("stream_include_usage.sse") + b'data: {"id": "late"}'
    findings = streaming.done_sentinel_last(sse_exchange(raw))
    assert summary(findings) == [("openai.stream.done-sentinel", "must", "/events/15")]
    assert "late" in findings[0].message


def test_done_sentinel_flags_an_empty_stream() -> None:
    findings = streaming.done_sentinel_last(sse_exchange(b""))
    assert summary(findings) == [("openai.stream.done-sentinel", "must", "/events")]


# --- include_usage ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["stream_faithful.sse", "stream_usage_on_every_chunk.sse", "stream_usage_not_last.sse"]
)
def test_include_usage_ignores_streams_that_did_not_ask(name: str) -> None:
    exchange = stream_exchange(name, request=PLAIN_STREAM_REQUEST)
    assert streaming.include_usage_honoured(exchange) == []


def test_include_usage_flags_two_usage_chunks() -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    raw = read("stream_include_usage.sse").replace(
        b"data: [DONE]", b"data: " + _chunk([], usage) + b"\n\ndata: [DONE]"
    )
    findings = streaming.include_usage_honoured(sse_exchange(raw))
    assert summary(findings) == [("openai.stream.include-usage", "must", "/events")]
    assert "2 such chunks" in findings[0].message


def _chunk(choices: list[Any], usage: Any) -> bytes:
    return json.dumps({"id": "c", "choices": choices, "usage": usage}).encode()


# --- matches non-streamed -----------------------------------------------------------------------


def test_matches_non_streamed_flags_a_different_answer() -> None:
    streamed = stream_exchange("stream_include_usage.sse")
    findings = streaming.matches_non_streamed(streamed, json_exchange("response_basic.json"))
    assert summary(findings) == [("openai.stream.matches-non-streamed", "must", "")]
    assert "7 words, words" in findings[0].message


def test_matches_non_streamed_flags_an_empty_stream() -> None:
    streamed = sse_exchange(b"data: [DONE]\n\n")
    findings = streaming.matches_non_streamed(
        streamed, json_exchange("bodies/response_counting.json")
    )
    assert summary(findings) == [("openai.stream.matches-non-streamed", "must", "")]


def test_matches_non_streamed_flags_a_much_shorter_answer() -> None:
    streamed = stream_exchange("stream_max_tokens_cut.sse")
    plain = json_exchange("bodies/response_max_tokens_ignored.json")
    findings = streaming.matches_non_streamed(streamed, plain)
    assert summary(findings) == [("openai.stream.matches-non-streamed", "must", "")]


# --- pseudo-streaming ---------------------------------------------------------------------------


def test_pseudo_streaming_flags_content_chunks_in_one_burst() -> None:
    # Nine events: role, five content chunks, finish, usage, [DONE], in one read after 2 s.
    times = [2.0 + 0.00001 * i for i in range(9)]
    exchange = stream_exchange("stream_max_tokens_cut.sse", times=times)
    findings = streaming.delivered_incrementally(exchange)
    assert summary(findings) == [("openai.stream.pseudo-streaming", "should", "/events")]
    assert "5 content chunks within 0.0 ms, the first after 2000 ms" in findings[0].message


def test_pseudo_streaming_accepts_a_very_fast_model() -> None:
    times = [0.2 + 0.001 * i for i in range(9)]  # 1000 tokens/s: fast, but really streamed
    exchange = stream_exchange("stream_max_tokens_cut.sse", times=times)
    assert streaming.delivered_incrementally(exchange) == []


def test_pseudo_streaming_accepts_chunks_spread_over_100_ms() -> None:
    times = [0.2 + 0.025 * i for i in range(9)]  # content chunks 100 ms apart end to end
    exchange = stream_exchange("stream_max_tokens_cut.sse", times=times)
    assert streaming.delivered_incrementally(exchange) == []


def test_pseudo_streaming_needs_five_content_chunks() -> None:
    # Role, three content chunks, an error and [DONE], all at once: too few to judge.
    exchange = stream_exchange("stream_error_event.sse", times=[1.0] * 6)
    assert streaming.delivered_incrementally(exchange) == []


# --- error event --------------------------------------------------------------------------------


def test_error_event_message_names_the_error() -> None:
    findings = streaming.no_error_event(stream_exchange("stream_error_event.sse"))
    assert "'upstream connection reset'" in findings[0].message
    assert "after 4 chunks" in findings[0].message


# --- malformed chunks never crash a check -------------------------------------------------------

MALFORMED = {
    "choices-string": [{"id": "c", "choices": "none"}],
    "delta-null": [{"id": "c", "choices": [{"index": 0, "delta": None, "finish_reason": None}]}],
    "chunk-array": [[{"id": "c"}], "text", 3, None],
    "choice-not-object": [{"id": "c", "choices": [None, 1, "x", []]}],
    "index-unhashable": [
        {"choices": [{"index": [0], "delta": {"role": "assistant"}, "finish_reason": "stop"}]},
        {"choices": [{"index": {"a": 1}, "delta": {"content": "x"}, "finish_reason": None}]},
    ],
    "error-not-object": [{"error": ["bad"]}, {"error": None}],
    "usage-not-object": [{"id": "c", "choices": [], "usage": 7}],
    "created-huge": [{"id": "c", "created": 10**30, "choices": []}],
}


@pytest.mark.parametrize("payloads", MALFORMED.values(), ids=list(MALFORMED))
@pytest.mark.parametrize("check", sorted(STREAM_CHECKS))
def test_malformed_chunks_give_findings_not_errors(check: str, payloads: list[Any]) -> None:
    findings = STREAM_CHECKS[check](sse_exchange(sse_bytes(payloads)))
    assert isinstance(findings, list)
    assert all(isinstance(f, Finding) for f in findings)


def test_first_delta_role_flags_a_null_delta() -> None:
    findings = streaming.first_delta_has_role(sse_exchange(sse_bytes(MALFORMED["delta-null"])))
    assert summary(findings) == [
        ("openai.stream.first-delta-role", "must", "/events/0/choices/0/delta/role")
    ]
    assert "delta null" in findings[0].message


def test_first_delta_role_pointer_counts_malformed_choices_too() -> None:
    chunk = {"choices": [None, {"index": 0, "delta": {"content": "x"}}]}
    findings = streaming.first_delta_has_role(sse_exchange(sse_bytes([chunk])))
    assert [f.location for f in findings] == ["/events/0/choices/1/delta/role"]


def test_a_chunk_nested_deeper_than_python_parses_is_not_json() -> None:
    raw = b"data: " + b"[" * 5000 + b"]" * 5000 + b"\n\ndata: [DONE]\n\n"
    exchange = sse_exchange(raw)
    for run in STREAM_CHECKS.values():
        assert isinstance(run(exchange), list)
    findings = streaming.events_are_json_chunks(exchange)
    assert summary(findings) == [("openai.stream.event-json", "must", "/events/0")]


# --- stream_not_truncated -------------------------------------------------------------------------


def test_a_stream_that_stops_without_finish_reason_or_done_is_truncated() -> None:
    exchange = stream_exchange("stream_truncated.sse")
    findings = streaming.stream_not_truncated(exchange)
    assert summary(findings) == [("openai.stream.truncated", "must", "/events/3")]
    assert "choice 0 without a finish_reason" in findings[0].message


@pytest.mark.parametrize(
    "name", ["stream_faithful.sse", "stream_no_done.sse", "stream_finish_reason_missing.sse"]
)
def test_a_stream_with_an_end_is_not_truncated(name: str) -> None:
    # No [DONE] after a finish_reason, or [DONE] after no finish_reason: other rules' findings.
    assert streaming.stream_not_truncated(stream_exchange(name)) == []


def test_a_stream_the_suite_cut_is_not_blamed_for_ending_early() -> None:
    exchange = stream_exchange("stream_truncated.sse")
    exchange.cut = "41 words streamed for a cap of 5 tokens"
    assert streaming.stream_not_truncated(exchange) == []
