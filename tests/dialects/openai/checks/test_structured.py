"""Checks of structured output (chatconform.dialects.openai.checks.structured)."""

from __future__ import annotations

import pytest
from check_helpers import (
    ANSWER_SCHEMA,
    PLAIN_STREAM_REQUEST,
    http_exchange,
    json_exchange,
    stream_exchange,
    summary,
)

from chatconform.dialects.openai.checks import structured

CONTENT = "/choices/0/message/content"


def judged(name: str) -> list[tuple[str, str, str]]:
    """Every structured-output finding on a sample, as a json_schema case judges it."""
    exchange = (
        stream_exchange(name, request=PLAIN_STREAM_REQUEST)
        if name.endswith(".sse")
        else json_exchange(name)
    )
    return summary(
        structured.json_not_fenced(exchange)
        + structured.content_is_json_object(exchange)
        + structured.content_matches_schema(exchange, ANSWER_SCHEMA)
    )


@pytest.mark.parametrize(
    "name", ["bodies/response_structured_valid.json", "stream_structured_schema_valid.sse"]
)
def test_json_valid_against_the_schema_passes(name: str) -> None:
    assert judged(name) == []


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("bodies/response_structured_prose.json", "openai.structured.not-json"),
        ("bodies/response_structured_array.json", "openai.structured.not-json"),
        ("bodies/response_structured_fenced.json", "openai.structured.fenced"),
        ("bodies/response_structured_missing_property.json", "openai.structured.schema-violated"),
    ],
)
def test_each_deviation_is_its_one_rule_at_the_content(name: str, rule: str) -> None:
    assert judged(name) == [(rule, "must", CONTENT)]


def test_a_schema_violation_names_what_is_missing() -> None:
    (finding,) = structured.content_matches_schema(
        json_exchange("bodies/response_structured_missing_property.json"), ANSWER_SCHEMA
    )
    assert "'operation' is a required property" in finding.message


def test_the_streamed_json_is_the_concatenated_deltas() -> None:
    exchange = stream_exchange("stream_structured_schema_valid.sse", request=PLAIN_STREAM_REQUEST)
    assert structured.content_json(exchange)["check"] == {"verified": True, "method": "added"}


@pytest.mark.parametrize(
    ("name", "refusal"),
    [
        ("bodies/response_structured_refusal.json", "I'm sorry, I can't help with that request."),
        ("stream_structured_refusal.sse", "I'm sorry, I can't help with that."),
    ],
)
def test_a_refusal_is_recognised_streamed_or_not(name: str, refusal: str) -> None:
    exchange = (
        stream_exchange(name, request=PLAIN_STREAM_REQUEST)
        if name.endswith(".sse")
        else json_exchange(name)
    )
    assert structured.refusal_text(exchange) == refusal


def test_no_refusal_reads_as_none() -> None:
    assert structured.refusal_text(json_exchange("bodies/response_structured_valid.json")) is None


def test_an_unsupported_strict_schema_accepted_is_flagged() -> None:
    accepted = json_exchange("bodies/response_structured_valid.json")
    findings = structured.unsupported_schema_refused(accepted, "a property left out of required")
    assert summary(findings) == [("openai.structured.strict-subset", "must", "")]
    assert "a property left out of required" in findings[0].message


def test_an_unsupported_strict_schema_refused_passes() -> None:
    refused = json_exchange("bodies/error_invalid_key.json", status=400)
    assert structured.unsupported_schema_refused(refused, "an open object") == []


def test_empty_content_is_not_json() -> None:
    body = b'{"choices":[{"index":0,"message":{"role":"assistant","content":""}}]}'
    assert summary(structured.content_is_json_object(http_exchange(body))) == [
        ("openai.structured.not-json", "must", CONTENT)
    ]
