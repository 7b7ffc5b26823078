"""Anthropic Messages errors: authentication (both styles), unknown models, malformed requests."""

from __future__ import annotations

from typing import Any

import pytest

from chatconform.case import CaseRecord, case
from chatconform.dialects.anthropic.checks import errors
from chatconform.dialects.anthropic.probe import INVALID_KEY, MESSAGES, AnthropicProbe
from chatconform.dialects.anthropic.requests import message_body
from chatconform.prompts import prompt

ERRORS = "https://docs.anthropic.com/en/api/errors"
UNKNOWN_MODEL = "chatconform-no-such-model-0"
# Every way of sending a key, removed, so a case sends exactly the one it tests.
NO_KEY: dict[str, str | None] = {"x-api-key": None, "authorization": None}


def _body(anthropic: AnthropicProbe, **params: Any) -> dict[str, Any]:
    return message_body(prompt("arithmetic"), anthropic.model("text"), 16, **params)


@case(
    "anthropic/errors/invalid-key",
    title="An invalid API key gets 401 authentication_error",
    requirement="A request with an invalid x-api-key is refused with 401 and error type authentication_error.",
    source=ERRORS,
)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_invalid_key(anthropic: AnthropicProbe, case: CaseRecord, stream: bool) -> None:
    body = _body(anthropic, stream=True) if stream else _body(anthropic)
    exchange = anthropic.messages(body, headers={**NO_KEY, "x-api-key": INVALID_KEY})
    case.add(errors.invalid_key_refused(exchange), exchange)
    anthropic.check_error(exchange, (401,))


@case(
    "anthropic/errors/missing-key",
    title="A request without a key gets 401",
    requirement="A request without x-api-key (or Authorization) is refused with 401 authentication_error.",
    source=ERRORS,
)
def test_missing_key(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    exchange = anthropic.messages(_body(anthropic), headers=NO_KEY)
    case.add(errors.invalid_key_refused(exchange), exchange)
    anthropic.check_error(exchange, (401,))


@case(
    "anthropic/errors/auth-styles",
    title="Which ways of sending the key work",
    requirement="The official clients send x-api-key; Claude Code's ANTHROPIC_AUTH_TOKEN sends Authorization: Bearer. Which the provider accepts is reported.",
    source="https://docs.anthropic.com/en/api/overview#authentication",
    round_trips=2,
)
def test_auth_styles(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    key = anthropic.provider.api_key() or ""
    body = _body(anthropic)
    api_key = anthropic.messages(body, headers={**NO_KEY, "x-api-key": key})
    bearer = anthropic.messages(body, headers={**NO_KEY, "authorization": f"Bearer {key}"})
    # The configured style must work: that is every other case's premise, judged there.
    case.add(errors.auth_styles_accepted(api_key, bearer), api_key)


@case(
    "anthropic/errors/unknown-model",
    title="An unknown model gets 404 not_found_error",
    requirement="A model that does not exist is refused with 404 and error type not_found_error.",
    source=ERRORS,
)
def test_unknown_model(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    body = {**_body(anthropic), "model": UNKNOWN_MODEL}
    exchange = anthropic.messages(body)
    case.add(errors.unknown_model_refused(exchange), exchange)
    anthropic.check_error(exchange, (404,))


MALFORMED: dict[str, dict[str, Any]] = {
    "max-tokens-missing": {"messages": [{"role": "user", "content": "Hi"}]},
    "messages-not-array": {"max_tokens": 16, "messages": "Hi"},
    "role-invalid": {"max_tokens": 16, "messages": [{"role": "wizard", "content": "Hi"}]},
    "temperature-out-of-range": {
        "max_tokens": 16,
        "temperature": 7,
        "messages": [{"role": "user", "content": "Hi"}],
    },
}


@case(
    "anthropic/errors/malformed",
    title="A malformed request gets 400 invalid_request_error",
    requirement="A request missing max_tokens, or with wrong types or values, is refused with 400 and error type invalid_request_error.",
    source="https://docs.anthropic.com/en/api/messages",
)
@pytest.mark.parametrize("variant", sorted(MALFORMED))
def test_malformed(anthropic: AnthropicProbe, case: CaseRecord, variant: str) -> None:
    body = {"model": anthropic.model("text"), **MALFORMED[variant]}
    exchange = anthropic.messages(body, valid=False)
    case.add(errors.invalid_request_refused(exchange), exchange)
    anthropic.check_error(exchange, (400,))


@case(
    "anthropic/errors/body-not-json",
    title="A body that is not JSON gets 400",
    requirement="A request body that is not JSON is refused with 400 invalid_request_error.",
    source=ERRORS,
)
def test_body_not_json(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    exchange = anthropic.post_raw(
        MESSAGES, b'{"model": "x", "messages": [', {"content-type": "application/json"}
    )
    case.add(errors.invalid_request_refused(exchange), exchange)
    anthropic.check_error(exchange, (400,))
