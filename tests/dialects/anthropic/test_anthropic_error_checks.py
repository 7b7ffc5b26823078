"""Checks of error responses (chatconform.dialects.anthropic.checks.errors)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from anthropic_helpers import http_exchange, json_exchange, sample, summary

from chatconform.dialects.anthropic.checks import errors
from chatconform.exchange import Exchange
from chatconform.finding import Finding

# The checks a case runs on an error response, with the statuses it expects.
ERROR_CHECKS: dict[str, Callable[[Exchange], list[Finding]]] = {
    "anthropic.error.envelope": errors.error_envelope,
    "anthropic.error.type": errors.error_type_matches_status,
    "anthropic.error.status": lambda ex: errors.error_status_as_official(ex, (401, 404)),
    "anthropic.error.json-content-type": errors.error_served_as_json,
    "anthropic.error.http200-error-body": errors.no_error_with_200,
    "anthropic.error.server-error": errors.client_error_not_server_error,
    "anthropic.error.invalid-request-accepted": errors.invalid_request_refused,
    "anthropic.error.unknown-model-served": errors.unknown_model_refused,
    "anthropic.auth.not-enforced": errors.invalid_key_refused,
}
FAITHFUL = [("error_authentication.json", 401), ("error_not_found.json", 404)]


def test_checks_cover_the_module() -> None:
    module = {fn.rule_id for fn in vars(errors).values() if hasattr(fn, "rule_id")}
    assert module - set(ERROR_CHECKS) == {"anthropic.auth.styles"}


@pytest.mark.parametrize(("name", "status"), FAITHFUL)
@pytest.mark.parametrize("check", sorted(ERROR_CHECKS))
def test_faithful_error_gives_no_finding(name: str, status: int, check: str) -> None:
    assert ERROR_CHECKS[check](json_exchange(name, status=status)) == []


def test_openai_envelope_is_named_and_its_type_not_judged() -> None:
    exchange = json_exchange("error_openai_envelope.json", status=401)
    found = errors.error_envelope(exchange)
    assert summary(found) == [("anthropic.error.envelope", "must", "/type")]
    assert "an OpenAI error envelope" in found[0].message
    assert errors.error_type_matches_status(exchange) == []


@pytest.mark.parametrize(
    ("body", "location"),
    [
        (b'{"type": "error", "error": {"type": "authentication_error"}}', "/error/message"),
        (b'{"type": "error", "error": "invalid x-api-key"}', "/error"),
        (b'{"message": "invalid x-api-key"}', "/type"),
    ],
)
def test_envelope_fires_where_it_breaks(body: bytes, location: str) -> None:
    found = errors.error_envelope(http_exchange(body, status=401))
    assert ("anthropic.error.envelope", "must", location) in summary(found)


def test_envelope_not_json() -> None:
    exchange = http_exchange(b"<html>401 Unauthorized</html>", status=401, content_type="text/html")
    assert summary(errors.error_envelope(exchange)) == [("anthropic.error.envelope", "must", "")]
    assert summary(errors.error_served_as_json(exchange)) == [
        ("anthropic.error.json-content-type", "should", "")
    ]


@pytest.mark.parametrize(
    ("status", "kind", "fires"),
    [
        (401, "invalid_request_error", True),
        (404, "invalid_request_error", True),
        (529, "overloaded_error", False),
        (529, "api_error", True),
        (422, "invalid_request_error", False),  # no official type for 422
    ],
)
def test_error_type_matches_status(status: int, kind: str, fires: bool) -> None:
    body = sample("error_authentication.json")
    body["error"]["type"] = kind
    found = errors.error_type_matches_status(http_exchange(body, status=status))
    assert summary(found) == ([("anthropic.error.type", "should", "/error/type")] if fires else [])


def test_status_not_the_official_one() -> None:
    exchange = json_exchange("error_authentication.json", status=403)
    found = errors.error_status_as_official(exchange, (401,))
    assert summary(found) == [("anthropic.error.status", "should", "")]
    assert "HTTP 401" in found[0].message and "HTTP 403" in found[0].message


def test_error_with_200() -> None:
    exchange = json_exchange("error_authentication.json", status=200)
    assert summary(errors.no_error_with_200(exchange)) == [
        ("anthropic.error.http200-error-body", "must", "")
    ]
    assert errors.no_error_with_200(json_exchange("message_basic.json")) == []


def test_server_error_for_a_client_mistake() -> None:
    exchange = http_exchange(
        b'{"type": "error", "error": {"type": "api_error", "message": "boom"}}', status=500
    )
    assert summary(errors.client_error_not_server_error(exchange)) == [
        ("anthropic.error.server-error", "must", "")
    ]


@pytest.mark.parametrize(
    "check",
    [errors.invalid_request_refused, errors.unknown_model_refused, errors.invalid_key_refused],
)
def test_what_must_be_refused_answered_200(check: Callable[[Exchange], list[Finding]]) -> None:
    assert [f.rule for f in check(json_exchange("message_basic.json"))] == [check.rule_id]  # type: ignore[attr-defined]
    assert check(json_exchange("error_not_found.json", status=404)) == []


def test_unknown_model_names_the_model_that_answered() -> None:
    found = errors.unknown_model_refused(json_exchange("message_basic.json"))
    assert "claude-sonnet-4-5-20250929" in found[0].message


def test_auth_styles_names_the_refused_style() -> None:
    accepted = json_exchange("message_basic.json")
    refused = json_exchange("error_authentication.json", status=401)
    found = errors.auth_styles_accepted(accepted, refused)
    assert summary(found) == [("anthropic.auth.styles", "info", "")]
    assert "Authorization: Bearer refused (HTTP 401), x-api-key accepted" in found[0].message
    assert "x-api-key refused" in errors.auth_styles_accepted(refused, accepted)[0].message
    assert errors.auth_styles_accepted(accepted, accepted) == []
    assert errors.auth_styles_accepted(refused, refused) == []
