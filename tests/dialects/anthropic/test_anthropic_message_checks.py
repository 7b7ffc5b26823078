"""Checks of a Message (chatconform.dialects.anthropic.checks.message)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from anthropic_helpers import (
    COUNTING,
    PLAIN_REQUEST,
    PLAIN_THINKING_REQUEST,
    PLAIN_TOOL_REQUEST,
    THINKING_REQUEST,
    TOOL_REQUEST,
    http_exchange,
    json_exchange,
    payloads,
    sample,
    sse_bytes,
    sse_exchange,
    stream_exchange,
    summary,
)

from chatconform.dialects.anthropic.checks import message
from chatconform.exchange import Exchange
from chatconform.finding import Finding, deduplicate

# Every check of the module that judges one exchange, as a case calls it.
CHECKS: dict[str, Callable[[Exchange], list[Finding]]] = {
    "not-json": message.message_is_json,
    "openai-shape": message.not_openai_shaped,
    "schema": message.message_matches_schema,
    "stop-reason": message.stop_reason_defined,
    "model-mismatch": message.model_matches_request,
    "usage-present": message.usage_present,
    "usage-plausible": message.usage_plausible,
    "max-tokens": message.max_tokens_honoured,
}
STOP_REQUEST: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "messages": COUNTING,
    "stop_sequences": ["5"],
}
STREAM_STOP_REQUEST = {**STOP_REQUEST, "stream": True}
LONG_REQUEST: dict[str, Any] = {
    **PLAIN_REQUEST,
    "messages": [{"role": "user", "content": "Summarise this text. " + "The quick fox. " * 200}],
}

FAITHFUL_BODIES = [
    ("message_basic.json", PLAIN_REQUEST),
    ("message_tool_use.json", PLAIN_TOOL_REQUEST),
    ("message_thinking.json", PLAIN_THINKING_REQUEST),
    ("message_stop_sequence.json", STOP_REQUEST),
    ("message_citations.json", PLAIN_REQUEST),
    ("message_server_tools.json", PLAIN_REQUEST),
]
FAITHFUL_STREAMS = [
    ("stream_faithful_text.sse", None),
    ("stream_faithful_tool_use.sse", TOOL_REQUEST),
    ("stream_thinking.sse", THINKING_REQUEST),
    ("stream_ping_and_unknown_events.sse", None),
    ("stream_crlf.sse", None),
    ("stream_stop_sequence.sse", STREAM_STOP_REQUEST),
]


def test_checks_cover_the_module() -> None:
    registered = {fn.rule_id for fn in vars(message).values() if hasattr(fn, "rule_id")}
    assert {f"anthropic.{n}" for n in ("usage.fixed", "text.stop-sequence")} <= registered
    assert {fn.rule_id for fn in CHECKS.values()} == registered - {
        "anthropic.usage.fixed",
        "anthropic.text.stop-sequence",
    }


@pytest.mark.parametrize(("name", "request_body"), FAITHFUL_BODIES)
@pytest.mark.parametrize("check", sorted(CHECKS))
def test_faithful_message_gives_no_finding(
    name: str, request_body: dict[str, Any], check: str
) -> None:
    assert CHECKS[check](json_exchange(name, request=request_body)) == []


@pytest.mark.parametrize(("name", "request_body"), FAITHFUL_STREAMS)
@pytest.mark.parametrize("check", sorted(set(CHECKS) - {"not-json", "schema", "usage-present"}))
def test_faithful_stream_gives_no_finding(
    name: str, request_body: dict[str, Any] | None, check: str
) -> None:
    exchange = stream_exchange(name, **({"request": request_body} if request_body else {}))
    assert CHECKS[check](exchange) == []


def _body(**changes: Any) -> dict[str, Any]:
    body = sample("message_basic.json")
    for key, value in changes.items():
        if value is None and key != "stop_reason":
            body.pop(key, None)
        else:
            body[key] = value
    return body


def _all(exchange: Exchange) -> list[tuple[str, str, str]]:
    """Every finding of the module's checks, deduplicated as a report shows them."""
    return summary(deduplicate(f for run in CHECKS.values() for f in run(exchange)))


@pytest.mark.parametrize("body", [b"<html>502 Bad Gateway</html>", b"[1, 2]", b"\xff\xfe"])
def test_not_json_fires_on_what_is_no_json_object(body: bytes) -> None:
    assert summary(message.message_is_json(http_exchange(body, content_type="text/html"))) == [
        ("anthropic.message.not-json", "must", "")
    ]


def test_openai_completion_is_named_and_nothing_else_judged() -> None:
    findings = _all(json_exchange("message_openai_shaped.json"))
    assert findings == [("anthropic.message.openai-shape", "must", "")]
    assert (
        "chat completion"
        in message.not_openai_shaped(json_exchange("message_openai_shaped.json"))[0].message
    )


def test_openai_chunks_in_a_stream_are_named() -> None:
    found = message.not_openai_shaped(stream_exchange("stream_openai_chunks.sse"))
    assert summary(found) == [("anthropic.message.openai-shape", "must", "/events/0")]


@pytest.mark.parametrize(
    ("changes", "location"),
    [
        ({"role": "user"}, "/role"),
        ({"content": [{"type": "text"}]}, "/content/0/text"),
        ({"id": None}, "/id"),
        ({"stop_sequence": None}, "/stop_sequence"),
    ],
)
def test_schema_fires_where_the_message_breaks_it(changes: dict[str, Any], location: str) -> None:
    found = message.message_matches_schema(http_exchange(_body(**changes)))
    assert ("anthropic.message.schema", "must", location) in summary(found)


def test_stop_reason_outside_the_enum_is_one_finding() -> None:
    assert _all(http_exchange(_body(stop_reason="stop"))) == [
        ("anthropic.message.stop-reason", "must", "/stop_reason")
    ]
    assert _all(http_exchange(_body(stop_reason=None)))[0][::2] == (
        "anthropic.message.stop-reason",
        "/stop_reason",
    )


def test_stop_reason_outside_the_enum_in_a_stream() -> None:
    found = message.stop_reason_defined(stream_exchange("stream_stop_reason_invalid.sse"))
    assert summary(found) == [
        ("anthropic.message.stop-reason", "must", "/events/15/data/delta/stop_reason")
    ]


@pytest.mark.parametrize(
    ("requested", "served", "fires"),
    [
        ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929", False),
        ("claude-3-5-sonnet-latest", "claude-3-5-sonnet-20241022", False),
        ("anthropic/claude-sonnet-4-5", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", False),
        ("claude-opus-4-1", "claude-sonnet-4-5-20250929", True),
        ("claude-sonnet-4-5", "gpt-4o", True),
    ],
)
def test_model_mismatch(requested: str, served: str, fires: bool) -> None:
    exchange = http_exchange(_body(model=served), request={**PLAIN_REQUEST, "model": requested})
    assert bool(message.model_matches_request(exchange)) is fires


def test_model_mismatch_in_a_stream_points_at_message_start() -> None:
    exchange = stream_exchange(
        "stream_faithful_text.sse", request={**PLAIN_REQUEST, "model": "claude-opus-4-1"}
    )
    assert summary(message.model_matches_request(exchange)) == [
        ("anthropic.message.model-mismatch", "should", "/events/0/data/message/model")
    ]


@pytest.mark.parametrize(
    ("usage", "location"),
    [
        (None, "/usage"),
        ({"input_tokens": 12}, "/usage/output_tokens"),
        ({"input_tokens": 12, "output_tokens": "11"}, "/usage/output_tokens"),
        ({"input_tokens": 1.0, "output_tokens": 11}, "/usage/input_tokens"),
    ],
)
def test_usage_present(usage: Any, location: str) -> None:
    exchange = http_exchange(_body(usage=usage))
    assert summary(message.usage_present(exchange)) == [
        ("anthropic.usage.present", "must", location)
    ]
    # One place, one finding: the schema yields to the specific rule there.
    assert [f for f in _all(exchange) if f[2] == location] == [
        ("anthropic.usage.present", "must", location)
    ]


@pytest.mark.parametrize(
    ("usage", "location"),
    [
        ({"input_tokens": 0, "output_tokens": 11}, "/usage/input_tokens"),
        ({"input_tokens": 12, "output_tokens": 2000}, "/usage/output_tokens"),
        ({"input_tokens": 12, "output_tokens": 0}, "/usage/output_tokens"),
    ],
)
def test_usage_plausible_fires(usage: dict[str, Any], location: str) -> None:
    found = message.usage_plausible(http_exchange(_body(usage=usage)))
    assert summary(found) == [("anthropic.usage.plausible", "should", location)]


def test_usage_plausible_counts_cached_input() -> None:
    usage = {"input_tokens": 0, "cache_read_input_tokens": 900, "output_tokens": 11}
    assert message.usage_plausible(http_exchange(_body(usage=usage))) == []


def test_usage_fixed_fires_on_the_same_count_for_a_far_longer_prompt() -> None:
    short = json_exchange("message_basic.json")
    long = json_exchange("message_basic.json", request=LONG_REQUEST)
    found = message.usage_follows_prompt(short, long)
    assert summary(found) == [("anthropic.usage.fixed", "should", "/usage/input_tokens")]
    assert "12 for both" in found[0].message


def test_usage_fixed_is_silent_when_the_count_grows_or_the_prompts_are_alike() -> None:
    short = json_exchange("message_basic.json")
    long = http_exchange(
        _body(usage={"input_tokens": 830, "output_tokens": 11}), request=LONG_REQUEST
    )
    assert message.usage_follows_prompt(short, long) == []
    assert message.usage_follows_prompt(short, short) == []


def test_usage_fixed_in_a_stream_points_at_message_start() -> None:
    short = json_exchange("message_basic.json", request={**PLAIN_REQUEST, "messages": COUNTING})
    long = stream_exchange("stream_faithful_text.sse", request={**LONG_REQUEST, "stream": True})
    long_25 = http_exchange(
        _body(usage={"input_tokens": 25, "output_tokens": 3}), request=LONG_REQUEST
    )
    assert summary(message.usage_follows_prompt(long_25, long)) == []  # not a shorter prompt
    assert summary(message.usage_follows_prompt(short, long)) == []  # 25 > 12
    short_25 = http_exchange(_body(usage={"input_tokens": 25, "output_tokens": 3}))
    assert summary(message.usage_follows_prompt(short_25, long)) == [
        ("anthropic.usage.fixed", "should", "/events/0/data/message/usage/input_tokens")
    ]


# --- max_tokens and stop sequences ------------------------------------------------------------


CAPPED_REQUEST = {**PLAIN_REQUEST, "max_tokens": 8, "messages": COUNTING}


def test_max_tokens_faithful_cap() -> None:
    body = _body(content=[{"type": "text", "text": "1 2 3 4"}], stop_reason="max_tokens")
    body["usage"] = {"input_tokens": 25, "output_tokens": 8}
    assert message.max_tokens_honoured(http_exchange(body, request=CAPPED_REQUEST)) == []
    capped = stream_exchange("stream_max_tokens.sse", request={**CAPPED_REQUEST, "stream": True})
    assert message.max_tokens_honoured(capped) == []


def test_max_tokens_ignored() -> None:
    body = _body(content=[{"type": "text", "text": "1 2 3 4 5 6 7 8 9 10 11"}])
    body["usage"] = {"input_tokens": 25, "output_tokens": 24}
    found = message.max_tokens_honoured(http_exchange(body, request=CAPPED_REQUEST))
    assert summary(found) == [
        ("anthropic.text.max-tokens", "must", "/content/0/text"),
        ("anthropic.text.max-tokens", "must", "/stop_reason"),
    ]


def test_max_tokens_reached_without_saying_so_in_a_stream() -> None:
    events = payloads("stream_max_tokens.sse")
    events[-2]["delta"]["stop_reason"] = "end_turn"
    exchange = sse_exchange(sse_bytes(events), request={**CAPPED_REQUEST, "stream": True})
    assert summary(message.max_tokens_honoured(exchange)) == [
        ("anthropic.text.max-tokens", "must", "/events/7/data/delta/stop_reason")
    ]


def _stop(exchange: Exchange) -> list[Finding]:
    return message.stop_sequence_honoured(exchange, "5", "4", ("6", "7"))


def test_stop_sequence_faithful() -> None:
    assert _stop(json_exchange("message_stop_sequence.json", request=STOP_REQUEST)) == []
    assert _stop(stream_exchange("stream_stop_sequence.sse", request=STREAM_STOP_REQUEST)) == []
    # An answer that never reached the sequence proves nothing.
    assert _stop(json_exchange("message_basic.json", request=STOP_REQUEST)) == []


@pytest.mark.parametrize(
    ("changes", "location", "received"),
    [
        (
            {"content": [{"type": "text", "text": "1, 2, 3, 4, 5, 6"}], "stop_reason": "end_turn"},
            "/content/0/text",
            "'5' in",
        ),
        ({"stop_reason": "end_turn", "stop_sequence": None}, "/stop_reason", "'end_turn'"),
        ({"stop_sequence": "6"}, "/stop_sequence", "'6'"),
        ({"stop_sequence": None}, "/stop_sequence", "None"),
    ],
)
def test_stop_sequence_ignored(changes: dict[str, Any], location: str, received: str) -> None:
    body = sample("message_stop_sequence.json")
    body.update(changes)
    found = _stop(http_exchange(body, request=STOP_REQUEST))
    assert summary(found) == [("anthropic.text.stop-sequence", "must", location)]
    assert received in found[0].message


def test_stop_sequence_wrong_in_a_stream() -> None:
    events = payloads("stream_stop_sequence.sse")
    events[-2]["delta"]["stop_sequence"] = "\n\nHuman:"
    exchange = sse_exchange(sse_bytes(events), request=STREAM_STOP_REQUEST)
    assert summary(_stop(exchange)) == [
        ("anthropic.text.stop-sequence", "must", "/events/8/data/delta/stop_sequence")
    ]
