"""Checks of non-streamed chat.completion responses (chatconform.dialects.openai.checks.completion)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from check_helpers import (
    CHAT_REQUEST,
    http_exchange,
    json_exchange,
    sample,
    stream_exchange,
    summary,
)

from chatconform.dialects.openai.checks import completion
from chatconform.exchange import Exchange
from chatconform.finding import Finding, deduplicate

NOW = 1_763_800_000.0  # 2025-11-22, the samples' time


# --- response_is_json ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["response_basic.json", "response_tool_calls.json"])
def test_response_is_json_accepts_a_chat_completion(name: str) -> None:
    assert completion.response_is_json(json_exchange(name)) == []


def test_response_is_json_flags_an_html_gateway_page() -> None:
    exchange = json_exchange("bodies/response_html_gateway_page.html", content_type="text/html")
    findings = completion.response_is_json(exchange)
    assert summary(findings) == [("openai.completion.not-json", "must", "")]
    assert "text/html" in findings[0].message
    assert "502 Bad Gateway" in findings[0].evidence


def test_response_is_json_flags_a_json_array() -> None:
    findings = completion.response_is_json(json_exchange("bodies/response_json_array.json"))
    assert summary(findings) == [("openai.completion.not-json", "must", "")]
    assert "a JSON list" in findings[0].message


def test_response_is_json_flags_bytes_that_are_not_utf8() -> None:
    findings = completion.response_is_json(http_exchange(b'{"id": "\xff\xfe"}'))
    assert summary(findings) == [("openai.completion.not-json", "must", "")]


def test_response_is_json_flags_json_nested_deeper_than_python_parses() -> None:
    findings = completion.response_is_json(http_exchange(b"[" * 100_000))
    assert summary(findings) == [("openai.completion.not-json", "must", "")]


# --- response_matches_schema --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["response_basic.json", "response_tool_calls.json"])
def test_response_schema_accepts_official_samples(name: str) -> None:
    assert completion.response_matches_schema(json_exchange(name)) == []


def test_response_schema_flags_a_message_without_role() -> None:
    findings = completion.response_matches_schema(
        json_exchange("bodies/response_message_role_missing.json")
    )
    assert summary(findings) == [("openai.completion.schema", "must", "/choices/0/message/role")]
    assert "'role' is a required property" in findings[0].message


def test_response_schema_ignores_a_body_that_is_not_an_object() -> None:
    # response_is_json reports it; the schema check has nothing to point into.
    assert (
        completion.response_matches_schema(json_exchange("bodies/response_json_array.json")) == []
    )


# --- what clients tolerate: should rules in place of the schema's must --------------------------


@pytest.mark.parametrize(
    "name", ["response_basic.json", "response_tool_calls.json", "bodies/response_two_choices.json"]
)
def test_faithful_responses_have_their_null_fields(name: str) -> None:
    assert completion.null_fields_present(json_exchange(name)) == []
    assert completion.optional_fields_not_null(json_exchange(name)) == []


def test_null_field_absent_flags_missing_refusal_and_logprobs() -> None:
    exchange = json_exchange("bodies/response_refusal_logprobs_absent.json")
    findings = completion.null_fields_present(exchange)
    assert summary(findings) == [
        ("openai.completion.null-field-absent", "should", "/choices/0/logprobs"),
        ("openai.completion.null-field-absent", "should", "/choices/0/message/refusal"),
    ]
    assert "'refusal' is a required property" in findings[1].message


def test_optional_field_null_flags_nulls_where_the_spec_omits() -> None:
    findings = completion.optional_fields_not_null(
        json_exchange("bodies/response_optional_fields_null.json")
    )
    assert summary(findings) == [
        ("openai.completion.optional-field-null", "should", "/choices/0/message/function_call"),
        ("openai.completion.optional-field-null", "should", "/choices/0/message/tool_calls"),
        ("openai.completion.optional-field-null", "should", "/system_fingerprint"),
        (
            "openai.completion.optional-field-null",
            "should",
            "/usage/completion_tokens_details/audio_tokens",
        ),
        ("openai.completion.optional-field-null", "should", "/usage/prompt_tokens_details"),
    ]


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("bodies/response_refusal_logprobs_absent.json", completion.null_fields_present),
        ("bodies/response_optional_fields_null.json", completion.optional_fields_not_null),
    ],
)
def test_a_tolerated_deviation_is_a_should_in_place_of_the_schema_must(
    name: str, check: Callable[[Exchange], list[Finding]]
) -> None:
    exchange = json_exchange(name)
    schema = completion.response_matches_schema(exchange)
    named = check(exchange)
    assert schema, "the strict schema rejects it"
    assert {f.location for f in schema} == {f.location for f in named}
    assert summary(deduplicate([*schema, *named])) == summary(named)


def test_optional_field_null_leaves_required_fields_and_usage_to_other_rules() -> None:
    # A null id is a must (the schema's); a null usage is openai.usage.present's.
    payload = sample("response_basic.json")
    payload["id"] = None
    payload["usage"] = None
    payload["choices"][0]["message"]["refusal"] = None
    exchange = http_exchange(json.dumps(payload).encode())
    assert completion.optional_fields_not_null(exchange) == []
    assert completion.null_fields_present(exchange) == []
    assert {f.location for f in completion.response_matches_schema(exchange)} == {"/id", "/usage"}


# --- finish_reason_in_enum ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["response_basic.json", "response_tool_calls.json", "bodies/response_max_tokens_cut.json"],
)
def test_finish_reason_accepts_official_values(name: str) -> None:
    assert completion.finish_reason_in_enum(json_exchange(name)) == []


def test_finish_reason_flags_anthropic_end_turn() -> None:
    findings = completion.finish_reason_in_enum(
        json_exchange("bodies/response_finish_reason_end_turn.json")
    )
    assert summary(findings) == [
        ("openai.completion.finish-reason", "must", "/choices/0/finish_reason")
    ]
    assert "'end_turn'" in findings[0].message


def test_finish_reason_points_at_the_second_choice() -> None:
    payload = sample("bodies/response_two_choices.json")
    payload["choices"][1]["finish_reason"] = "eos"
    findings = completion.finish_reason_in_enum(http_exchange(_dumps(payload)))
    assert summary(findings) == [
        ("openai.completion.finish-reason", "must", "/choices/1/finish_reason")
    ]


def test_finish_reason_pointer_counts_malformed_choices_too() -> None:
    payload = sample("bodies/response_finish_reason_end_turn.json")
    payload["choices"].insert(0, "not a choice")
    findings = completion.finish_reason_in_enum(http_exchange(_dumps(payload)))
    assert [f.location for f in findings] == ["/choices/1/finish_reason"]


# --- created_violation / created_in_seconds -----------------------------------------------------


@pytest.mark.parametrize(
    "created",
    [int(NOW), int(NOW) - 3600, int(NOW) - 9 * 365 * 86400, int(NOW) + 3600],
    ids=["now", "an-hour-ago", "nine-years-ago", "an-hour-ahead"],
)
def test_created_violation_accepts_seconds(created: int) -> None:
    assert completion.created_violation(created, now=NOW) is None


@pytest.mark.parametrize(
    ("created", "says"),
    [
        (int(NOW * 1000), "milliseconds: 2025-11-22"),
        (0, "not within ten years"),
        (-1, "not within ten years"),
        (int(NOW) - 11 * 365 * 86400, "not within ten years"),
        (int(NOW) + 2 * 86400, "not within ten years"),
        (int(NOW * 1_000_000), "not within ten years"),  # microseconds: not ms either
        (10**20, "not within ten years"),
        (10**400, "not within ten years"),
    ],
    ids=["ms", "zero", "negative", "eleven-years-ago", "two-days-ahead", "us", "1e20", "1e400"],
)
def test_created_violation_flags_other_units(created: int, says: str) -> None:
    problem = completion.created_violation(created, now=NOW)
    assert problem is not None
    assert says in problem


@pytest.mark.parametrize("created", [None, "1763770000", 1763770000.5, True])
def test_created_violation_flags_what_is_not_an_integer(created: object) -> None:
    # The created-timestamp case judges the field whole: a string is no timestamp.
    assert completion.created_violation(created, now=NOW) == f"{created!r} (not an integer)"


def test_created_in_seconds_accepts_a_faithful_response() -> None:
    assert completion.created_in_seconds(json_exchange("response_basic.json")) == []


def test_created_in_seconds_flags_milliseconds() -> None:
    findings = completion.created_in_seconds(json_exchange("bodies/response_created_ms.json"))
    assert summary(findings) == [("openai.completion.created-unit", "should", "/created")]
    assert "milliseconds" in findings[0].message


def test_created_in_seconds_flags_zero() -> None:
    payload = sample("response_basic.json") | {"created": 0}
    findings = completion.created_in_seconds(http_exchange(_dumps(payload)))
    assert summary(findings) == [("openai.completion.created-unit", "should", "/created")]


def test_created_in_seconds_points_into_the_first_chunk_of_a_stream() -> None:
    assert completion.created_in_seconds(stream_exchange("stream_include_usage.sse")) == []
    findings = completion.created_in_seconds(stream_exchange("stream_created_ms.sse"))
    assert summary(findings) == [("openai.completion.created-unit", "should", "/events/0/created")]


# --- model_family / same_model / model_matches_request ------------------------------------------


@pytest.mark.parametrize(
    ("requested", "served"),
    [
        ("gpt-4o", "gpt-4o"),
        ("gpt-4o", "gpt-4o-2024-08-06"),
        ("gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
        ("gpt-4", "gpt-4-0613"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-3-5-sonnet-latest", "claude-3-5-sonnet-20241022"),
        ("openai/gpt-4o", "gpt-4o"),
        ("llama3.2", "llama3.2:latest"),
        ("GPT-4o", "gpt-4o"),
    ],
)
def test_same_model_accepts_snapshots_and_aliases(requested: str, served: str) -> None:
    assert completion.same_model(requested, served)
    assert completion.same_model(served, requested)


@pytest.mark.parametrize(
    ("requested", "served"),
    [
        ("gpt-4o", "gpt-4o-mini"),
        ("gpt-4o", "gpt-4"),
        ("gpt-3.5-turbo", "reference-1"),
        ("claude-sonnet-4-20250514", "claude-opus-4-20250514"),
        ("llama3.2", "llama3.2:3b"),
    ],
)
def test_same_model_tells_different_models_apart(requested: str, served: str) -> None:
    assert not completion.same_model(requested, served)
    assert not completion.same_model(served, requested)


def test_model_family_strips_vendor_prefix_and_snapshot() -> None:
    assert completion.model_family("openai/gpt-4o-2024-08-06") == "gpt-4o"
    assert completion.model_family("-latest") == "-latest"  # never strips a name to nothing


@pytest.mark.parametrize(
    ("name", "requested"),
    [
        ("bodies/response_model_dated_snapshot.json", "gpt-4o-mini"),
        ("response_basic.json", "gpt-4o"),
        ("response_basic.json", "openai/gpt-4o"),
    ],
)
def test_model_matches_request_accepts_a_snapshot(name: str, requested: str) -> None:
    exchange = json_exchange(name, request=CHAT_REQUEST | {"model": requested})
    assert completion.model_matches_request(exchange) == []


def test_model_matches_request_flags_a_substituted_model() -> None:
    findings = completion.model_matches_request(
        json_exchange("bodies/response_model_substituted.json")
    )
    assert summary(findings) == [("openai.completion.model-mismatch", "should", "/model")]
    assert "'gpt-3.5-turbo-0125'" in findings[0].message


def test_model_matches_request_points_into_the_first_chunk_of_a_stream() -> None:
    exchange = stream_exchange("stream_include_usage.sse")
    assert completion.model_matches_request(exchange) == []
    request = {"model": "gpt-4o-mini", "messages": [], "stream": True, "max_tokens": 8}
    findings = completion.model_matches_request(
        stream_exchange("stream_include_usage.sse", request=request)
    )
    assert summary(findings) == [("openai.completion.model-mismatch", "should", "/events/0/model")]


# --- usage --------------------------------------------------------------------------------------


def test_usage_present_accepts_a_response_with_usage() -> None:
    assert completion.usage_present(json_exchange("response_basic.json")) == []


def test_usage_present_flags_a_response_without_usage() -> None:
    findings = completion.usage_present(json_exchange("bodies/response_usage_missing.json"))
    assert summary(findings) == [("openai.usage.present", "should", "/usage")]


def test_usage_present_flags_null_usage() -> None:
    payload = sample("response_basic.json") | {"usage": None}
    findings = completion.usage_present(http_exchange(_dumps(payload)))
    assert summary(findings) == [("openai.usage.present", "should", "/usage")]


@pytest.mark.parametrize("name", ["response_basic.json", "response_tool_calls.json"])
def test_usage_consistent_accepts_official_samples(name: str) -> None:
    assert completion.usage_total_consistent(sample(name)["usage"]) == []


def test_usage_consistent_flags_a_padded_total() -> None:
    usage = sample("bodies/response_usage_total_mismatch.json")["usage"]
    findings = completion.usage_total_consistent(usage)
    assert summary(findings) == [("openai.usage.consistent", "should", "/usage/total_tokens")]
    assert "19 + 1 = 20" in findings[0].message


def test_usage_consistent_uses_the_given_location() -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 3}
    findings = completion.usage_total_consistent(usage, location="/events/12/usage")
    assert [f.location for f in findings] == ["/events/12/usage/total_tokens"]


@pytest.mark.parametrize("usage", [None, {}, {"prompt_tokens": "1", "total_tokens": 3}, []])
def test_usage_consistent_leaves_malformed_usage_to_the_schema(usage: object) -> None:
    assert completion.usage_total_consistent(usage) == []


# CHAT_REQUEST's prompt has 42 characters in one message: prompt_tokens in [4, 122].
def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


@pytest.mark.parametrize("prompt", [4, 19, 122])
def test_usage_plausible_accepts_counts_within_bounds(prompt: int) -> None:
    assert completion.usage_plausible(_usage(prompt, 1), CHAT_REQUEST, "5") == []


@pytest.mark.parametrize("prompt", [0, 3, 123, 2000])
def test_usage_plausible_flags_prompt_tokens_out_of_bounds(prompt: int) -> None:
    findings = completion.usage_plausible(_usage(prompt, 1), CHAT_REQUEST, "5")
    assert summary(findings) == [("openai.usage.plausible", "should", "/usage/prompt_tokens")]
    assert "between 4 and 122 for 42 characters" in findings[0].message


def test_usage_plausible_flags_no_completion_tokens_for_an_answer() -> None:
    findings = completion.usage_plausible(_usage(19, 0), CHAT_REQUEST, "5")
    assert summary(findings) == [("openai.usage.plausible", "should", "/usage/completion_tokens")]


def test_usage_plausible_accepts_no_completion_tokens_for_no_answer() -> None:
    assert completion.usage_plausible(_usage(19, 0), CHAT_REQUEST, "  ") == []


def test_usage_plausible_counts_text_parts_and_messages() -> None:
    request = {
        "messages": [
            {"role": "system", "content": "x" * 100},
            {
                "role": "user",
                "content": [{"type": "text", "text": "y" * 100}, {"type": "image_url"}],
            },
        ]
    }
    # 200 characters in 2 messages: between 20 and 200 + 64 + 32 = 296.
    assert completion.usage_plausible(_usage(296, 1), request, "ok") == []
    findings = completion.usage_plausible(_usage(297, 1), request, "ok", location="/events/9/usage")
    assert summary(findings) == [
        ("openai.usage.plausible", "should", "/events/9/usage/prompt_tokens")
    ]


def test_usage_plausible_on_a_recorded_response() -> None:
    exchange = json_exchange("bodies/response_arithmetic.json")
    usage = exchange.json()["usage"]
    assert completion.usage_plausible(usage, CHAT_REQUEST, "5") == []


def _dumps(payload: object) -> bytes:
    return json.dumps(payload).encode()


@pytest.mark.parametrize("served", [None, 7])
def test_model_echo_flags_a_model_that_is_not_a_string(served: object) -> None:
    exchange = json_exchange("response_basic.json")
    payload = exchange.json()
    payload["model"] = served
    exchange.body = json.dumps(payload).encode()
    findings = completion.model_matches_request(exchange)
    assert [(f.rule, f.location) for f in findings] == [
        ("openai.completion.model-mismatch", "/model")
    ]


# --- service_tier_official ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "flagged"), [("default", False), (None, False), ("on_demand", True)]
)
def test_a_vendor_service_tier_is_a_should_where_the_schema_reports_it(
    tier: str | None, flagged: bool
) -> None:
    exchange = json_exchange("bodies/response_arithmetic.json")
    payload = json.loads(exchange.body)
    payload["service_tier"] = tier
    exchange.body = json.dumps(payload).encode()
    findings = completion.service_tier_official(exchange)
    assert summary(findings) == (
        [("openai.completion.service-tier", "should", "/service_tier")] if flagged else []
    )
    schema = completion.response_matches_schema(exchange)
    assert [f.location for f in schema] == (["/service_tier"] if flagged else [])
    assert [f.rule for f in deduplicate([*schema, *findings])] == [f.rule for f in findings]
