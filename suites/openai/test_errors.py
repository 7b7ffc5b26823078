"""OpenAI Chat Completions errors: authentication, unknown models, malformed requests."""

from __future__ import annotations

from typing import Any

import pytest

from chatconform.case import CaseRecord, case
from chatconform.dialects.openai.checks import errors
from chatconform.dialects.openai.probe import INVALID_KEY, OpenAIProbe
from chatconform.dialects.openai.requests import chat_body
from chatconform.prompts import prompt

ERRORS = "https://platform.openai.com/docs/guides/error-codes#api-errors"
UNKNOWN_MODEL = "chatconform-no-such-model-0"


@case(
    "openai/errors/invalid-key",
    title="An invalid API key gets 401",
    requirement="A request with an invalid API key is refused with 401 and the error envelope.",
    source=ERRORS,
)
def test_invalid_key(openai: OpenAIProbe, case: CaseRecord) -> None:
    body = chat_body(prompt("arithmetic"), openai.model("text"), max_tokens=16)
    exchange = openai.chat(body, headers={"authorization": f"Bearer {INVALID_KEY}"})
    case.add(errors.invalid_key_refused(exchange), exchange)
    openai.check_error(exchange, (401,))


@case(
    "openai/errors/invalid-key-stream",
    title="An invalid API key gets 401, streamed too",
    requirement="A streamed request with an invalid API key is refused with 401, not a 200 stream.",
    source=ERRORS,
)
def test_invalid_key_stream(openai: OpenAIProbe, case: CaseRecord) -> None:
    body = chat_body(prompt("arithmetic"), openai.model("text"), max_tokens=16, stream=True)
    exchange = openai.chat(body, headers={"authorization": f"Bearer {INVALID_KEY}"})
    case.add(errors.invalid_key_refused(exchange), exchange)
    openai.check_error(exchange, (401,))


@case(
    "openai/errors/missing-key",
    title="A request without a key gets 401",
    requirement="A request without an API key is refused with 401 and the error envelope.",
    source=ERRORS,
)
def test_missing_key(openai: OpenAIProbe, case: CaseRecord) -> None:
    body = chat_body(prompt("arithmetic"), openai.model("text"), max_tokens=16)
    exchange = openai.chat(body, headers={"authorization": None})
    case.add(errors.invalid_key_refused(exchange), exchange)
    openai.check_error(exchange, (401,))


@case(
    "openai/errors/unknown-model",
    title="An unknown model is refused",
    requirement="A model that does not exist gets 404 (model_not_found) with the error envelope.",
    source=ERRORS,
)
def test_unknown_model(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = openai.chat(chat_body(prompt("arithmetic"), UNKNOWN_MODEL, max_tokens=16))
    case.add(errors.unknown_model_refused(exchange), exchange)
    openai.check_error(exchange, (404, 400))


MALFORMED: dict[str, dict[str, Any]] = {
    "no-messages": {"max_tokens": 16},
    "messages-not-array": {"messages": "What is 2 + 3?", "max_tokens": 16},
    "empty-messages": {"messages": [], "max_tokens": 16},
    "max-tokens-not-integer": {
        "messages": [{"role": "user", "content": "What is 2 + 3?"}],
        "max_tokens": "sixteen",
    },
    "unknown-role": {
        "messages": [{"role": "wizard", "content": "What is 2 + 3?"}],
        "max_tokens": 16,
    },
}


@case(
    "openai/errors/malformed",
    title="A malformed request gets 400",
    requirement="A request missing required fields or with wrong types is refused with 400 and the envelope.",
    source="openai-openapi: CreateChatCompletionRequest",
)
@pytest.mark.parametrize("variant", sorted(MALFORMED))
def test_malformed(openai: OpenAIProbe, case: CaseRecord, variant: str) -> None:
    body = {"model": openai.model("text"), **MALFORMED[variant]}
    exchange = openai.chat(body, valid=False)
    case.add(errors.invalid_request_refused(exchange), exchange)
    openai.check_error(exchange, (400,))


@case(
    "openai/errors/body-not-json",
    title="A body that is not JSON gets 400",
    requirement="A request body that is not JSON is refused with 400 and the error envelope.",
    source=ERRORS,
)
def test_body_not_json(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = openai.post_raw(
        "chat/completions", b'{"model": "x", "messages": [', {"content-type": "application/json"}
    )
    case.add(errors.invalid_request_refused(exchange), exchange)
    openai.check_error(exchange, (400,))
