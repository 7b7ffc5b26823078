"""Checks of error responses (chatconform.dialects.openai.checks.errors)."""

from __future__ import annotations

import json

import pytest
from check_helpers import http_exchange, json_exchange, sample, stream_exchange, summary

from chatconform.dialects.openai.checks import errors
from chatconform.exchange import Exchange


def _error(
    name: str, status: int, content_type: str = "application/json; charset=utf-8"
) -> Exchange:
    return json_exchange(name, status=status, content_type=content_type)


# --- looks_like_error / error_object ------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["error_envelope.json", "bodies/error_invalid_key.json", "bodies/error_flat.json"]
)
def test_looks_like_error_recognises_envelopes_official_and_flat(name: str) -> None:
    assert errors.looks_like_error(_error(name, 200))


@pytest.mark.parametrize(
    "name", ["response_basic.json", "models_list.json", "bodies/response_html_gateway_page.html"]
)
def test_looks_like_error_rejects_answers(name: str) -> None:
    assert not errors.looks_like_error(_error(name, 200))


def test_error_object_is_the_inner_object() -> None:
    assert (
        errors.error_object(_error("bodies/error_invalid_key.json", 401))["code"]
        == "invalid_api_key"
    )
    assert errors.error_object(_error("bodies/error_flat.json", 401)) is None


# --- invalid_key_refused ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("bodies/error_invalid_key.json", 401),
        ("error_envelope.json", 200),
        ("bodies/error_flat.json", 200),
    ],
    ids=["401", "200-with-error-body", "200-with-flat-error"],
)
def test_invalid_key_refused_accepts_a_refusal(name: str, status: int) -> None:
    # A 200 carrying an error is a refusal all the same; no_error_with_200 judges the status.
    assert errors.invalid_key_refused(_error(name, status)) == []


def test_invalid_key_refused_flags_an_answer() -> None:
    findings = errors.invalid_key_refused(_error("response_basic.json", 200))
    assert summary(findings) == [("openai.auth.not-enforced", "must", "")]
    assert "HTTP 200 with a normal answer" in findings[0].message


def test_invalid_key_refused_flags_a_stream() -> None:
    findings = errors.invalid_key_refused(stream_exchange("stream_include_usage.sse"))
    assert summary(findings) == [("openai.auth.not-enforced", "must", "")]


# --- error_status_as_official -------------------------------------------------------------------


def test_error_status_accepts_the_official_status() -> None:
    assert (
        errors.error_status_as_official(_error("bodies/error_invalid_key.json", 401), (401,)) == []
    )
    assert errors.error_status_as_official(_error("error_envelope.json", 400), (404, 400)) == []


def test_error_status_flags_403_for_an_invalid_key() -> None:
    findings = errors.error_status_as_official(_error("bodies/error_invalid_key.json", 403), (401,))
    assert summary(findings) == [("openai.error.status", "should", "")]
    assert findings[0].message == "Expected: HTTP 401\nReceived: HTTP 403"


@pytest.mark.parametrize("status", [200, 500, 503])
def test_error_status_leaves_non_4xx_to_other_checks(status: int) -> None:
    assert (
        errors.error_status_as_official(_error("bodies/error_invalid_key.json", status), (401,))
        == []
    )


# --- error_envelope -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["error_envelope.json", "bodies/error_invalid_key.json", "bodies/error_server_error.json"],
)
def test_error_envelope_accepts_the_official_envelope(name: str) -> None:
    assert errors.error_envelope(_error(name, 400)) == []


def test_error_envelope_flags_a_flat_error() -> None:
    findings = errors.error_envelope(_error("bodies/error_flat.json", 401))
    assert summary(findings) == [("openai.error.envelope", "must", "/error")]
    assert "'error' is a required property" in findings[0].message


def test_error_envelope_flags_plain_text() -> None:
    findings = errors.error_envelope(_error("bodies/error_plain_text.txt", 401, "text/plain"))
    assert summary(findings) == [("openai.error.envelope", "must", "")]
    assert "not JSON" in findings[0].message


def test_error_envelope_flags_a_message_that_is_not_a_string() -> None:
    payload = sample("bodies/error_invalid_key.json")
    payload["error"]["message"] = [payload["error"]["message"]]
    findings = errors.error_envelope(http_exchange(json.dumps(payload).encode(), status=401))
    assert summary(findings) == [("openai.error.envelope", "must", "/error/message")]


# --- error_envelope_complete --------------------------------------------------------------------


def test_envelope_fields_accepts_null_param_and_code() -> None:
    assert errors.error_envelope_complete(_error("error_envelope.json", 404)) == []


def test_envelope_fields_flags_missing_param_and_code() -> None:
    findings = errors.error_envelope_complete(_error("bodies/error_missing_param_code.json", 400))
    assert summary(findings) == [("openai.error.envelope-fields", "should", "/error")]
    assert "no param, no code" in findings[0].message


def test_envelope_fields_flags_an_integer_code() -> None:
    findings = errors.error_envelope_complete(_error("bodies/error_code_integer.json", 401))
    assert summary(findings) == [("openai.error.envelope-fields", "should", "/error")]
    assert "Received: code 401" in findings[0].message


@pytest.mark.parametrize(
    "name", ["bodies/error_code_integer.json", "bodies/error_missing_param_code.json"]
)
def test_error_envelope_leaves_param_and_code_to_envelope_fields(name: str) -> None:
    # The schema requires param and code as strings or null; what clients tolerate is the
    # should rule's, not a must of the envelope check.
    assert errors.error_envelope(_error(name, 401)) == []


def test_envelope_fields_leaves_a_flat_error_to_the_envelope_check() -> None:
    assert errors.error_envelope_complete(_error("bodies/error_flat.json", 401)) == []


# --- error_served_as_json -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/problem+json"],
)
def test_json_content_type_accepts_json(content_type: str) -> None:
    assert (
        errors.error_served_as_json(_error("bodies/error_invalid_key.json", 401, content_type))
        == []
    )


def test_json_content_type_flags_text_plain() -> None:
    findings = errors.error_served_as_json(_error("bodies/error_plain_text.txt", 401, "text/plain"))
    assert summary(findings) == [("openai.error.json-content-type", "should", "")]
    assert "got 'text/plain'" in findings[0].message


def test_json_content_type_flags_a_missing_header() -> None:
    findings = errors.error_served_as_json(_error("bodies/error_invalid_key.json", 401, ""))
    assert summary(findings) == [("openai.error.json-content-type", "should", "")]
    assert "got 'none'" in findings[0].message


# --- no_error_with_200 --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["error_envelope.json", "bodies/error_flat.json"])
def test_http200_error_body_flags_an_error_sent_with_200(name: str) -> None:
    findings = errors.no_error_with_200(_error(name, 200))
    assert summary(findings) == [("openai.error.http200-error-body", "must", "")]


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("bodies/error_invalid_key.json", 401),
        ("response_basic.json", 200),
        ("models_list.json", 200),
    ],
)
def test_http200_error_body_accepts_errors_with_4xx_and_answers_with_200(
    name: str, status: int
) -> None:
    assert errors.no_error_with_200(_error(name, status)) == []


def test_http200_error_body_accepts_a_stream() -> None:
    assert errors.no_error_with_200(stream_exchange("stream_include_usage.sse")) == []


# --- client_error_not_server_error --------------------------------------------------------------


def test_server_error_accepts_400() -> None:
    assert (
        errors.client_error_not_server_error(_error("bodies/error_missing_param_code.json", 400))
        == []
    )


@pytest.mark.parametrize("status", [500, 502])
def test_server_error_flags_5xx(status: int) -> None:
    findings = errors.client_error_not_server_error(
        _error("bodies/error_server_error.json", status)
    )
    assert summary(findings) == [("openai.error.server-error", "must", "")]
    assert f"HTTP {status}" in findings[0].message


# --- unknown_model_refused ----------------------------------------------------------------------


def test_unknown_model_accepts_404() -> None:
    assert errors.unknown_model_refused(_error("error_envelope.json", 404)) == []


def test_unknown_model_flags_an_answer_by_another_model() -> None:
    findings = errors.unknown_model_refused(_error("bodies/response_model_substituted.json", 200))
    assert summary(findings) == [("openai.error.unknown-model-served", "must", "")]
    assert "'gpt-3.5-turbo-0125'" in findings[0].message


# --- invalid_request_refused --------------------------------------------------------------------


def test_invalid_request_accepts_400() -> None:
    assert errors.invalid_request_refused(_error("bodies/error_missing_param_code.json", 400)) == []


def test_invalid_request_flags_an_answer() -> None:
    findings = errors.invalid_request_refused(_error("bodies/response_arithmetic.json", 200))
    assert summary(findings) == [("openai.error.invalid-request-accepted", "must", "")]
