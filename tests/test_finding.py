"""Tests of findings and their deduplication (chatconform.finding)."""

from __future__ import annotations

import pytest

from chatconform.exchange import EXCERPT_CHARS
from chatconform.finding import MESSAGE_CHARS, Finding, deduplicate, make_finding
from chatconform.rules import Severity, rule

SCHEMA = "openai.stream.chunk-schema"
OBJECT = "openai.stream.chunk-object"


def test_make_finding_takes_severity_and_title_from_the_catalog() -> None:
    finding = make_finding(
        "openai.completion.created-unit",
        "Expected: seconds\nReceived: 1700000000000",
        location="/created",
        evidence="{...}",
        exchange=2,
    )
    entry = rule("openai.completion.created-unit")
    assert finding.severity is Severity.SHOULD
    assert finding.title == entry.title
    assert (finding.rule, finding.location, finding.evidence, finding.exchange) == (
        "openai.completion.created-unit",
        "/created",
        "{...}",
        2,
    )
    assert make_finding("openai.auth.not-enforced", "m").severity is Severity.MUST


def test_make_finding_bounds_the_evidence() -> None:
    finding = make_finding(SCHEMA, "m", evidence="z" * (EXCERPT_CHARS * 3))
    assert len(finding.evidence) < EXCERPT_CHARS + 50


def test_make_finding_bounds_the_message() -> None:
    message = "Expected: a short answer\nReceived: " + "y" * (MESSAGE_CHARS * 3)
    finding = make_finding(SCHEMA, message)
    assert len(finding.message) < MESSAGE_CHARS + 50
    assert finding.message.startswith("Expected: a short answer\nReceived: yyy")
    assert finding.message.endswith("more characters]")


def test_unknown_rule_id_raises_key_error() -> None:
    with pytest.raises(KeyError, match=r"openai\.no\.such-rule"):
        make_finding("openai.no.such-rule", "m")


def test_to_dict_is_plain_data() -> None:
    data = make_finding(OBJECT, "m", location="/object").to_dict()
    assert data["severity"] == "must"
    assert type(data["severity"]) is str
    assert data["rule"] == OBJECT
    assert data["location"] == "/object"


def test_deduplicate_keeps_the_first_per_rule_and_location() -> None:
    first = make_finding(OBJECT, "first", location="/object", exchange=0)
    again = make_finding(OBJECT, "again", location="/object", exchange=3)
    elsewhere = make_finding(OBJECT, "elsewhere", location="/choices/0/object")
    other_rule = make_finding("openai.stream.chunk-identity", "id", location="/object")
    assert deduplicate([first, again, elsewhere, other_rule]) == [first, elsewhere, other_rule]


def test_schema_finding_yields_to_a_specific_one_at_the_same_location() -> None:
    schema = make_finding(SCHEMA, "schema says no", location="/object")
    specific = make_finding(OBJECT, "object is wrong", location="/object")
    assert deduplicate([schema, specific]) == [specific]
    assert deduplicate([specific, schema]) == [specific]


def test_schema_finding_at_a_different_location_is_kept() -> None:
    schema = make_finding(SCHEMA, "schema says no", location="/choices/0/delta")
    specific = make_finding(OBJECT, "object is wrong", location="/object")
    assert deduplicate([schema, specific]) == [schema, specific]


def test_schema_findings_do_not_suppress_each_other() -> None:
    stream = make_finding(SCHEMA, "chunk", location="/object")
    response = make_finding("openai.completion.schema", "response", location="/object")
    assert deduplicate([stream, response]) == [stream, response]


def test_schema_finding_without_location_is_never_suppressed() -> None:
    schema = make_finding(SCHEMA, "schema says no")
    specific = make_finding(OBJECT, "object is wrong")
    assert deduplicate([schema, specific]) == [schema, specific]


def test_deduplicate_of_nothing_is_nothing() -> None:
    assert deduplicate([]) == []


def test_finding_is_immutable() -> None:
    finding = Finding(rule="r", severity=Severity.INFO, title="t", message="m")
    with pytest.raises(AttributeError):
        finding.message = "changed"  # type: ignore[misc]
