"""Checks of error responses: status codes, the envelope, and what must be refused."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from chatconform.dialects.openai.checks import Violation, check, expected
from chatconform.exchange import Exchange, clip
from chatconform.schemas import schema_errors

# The fields openai.error.envelope-fields judges (a should: clients read any value or
# none); the envelope check leaves them to it.
_SOFT_FIELDS = ("/error/param", "/error/code")


def error_object(exchange: Exchange) -> dict[str, Any] | None:
    """The body's "error" object, if the body is an error envelope."""
    payload = exchange.json_or_none()
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        return payload["error"]
    return None


def looks_like_error(exchange: Exchange) -> bool:
    """A body that reports an error, in the official envelope or a common flat variant."""
    payload = exchange.json_or_none()
    if not isinstance(payload, dict) or "choices" in payload or "data" in payload:
        return False
    return "error" in payload or ("message" in payload and ("code" in payload or "type" in payload))


def _status(exchange: Exchange) -> int:
    return exchange.status or 0


@check("openai.auth.not-enforced")
def invalid_key_refused(exchange: Exchange) -> Iterator[Violation]:
    """An invalid or missing key is refused (error codes guide: 401 Invalid Authentication)."""
    if 200 <= _status(exchange) < 300 and not looks_like_error(exchange):
        yield Violation(
            expected("401 with an error envelope", f"HTTP {exchange.status} with a normal answer"),
            evidence=exchange.excerpt(),
        )


@check("openai.error.status")
def error_status_as_official(exchange: Exchange, statuses: Sequence[int]) -> Iterator[Violation]:
    """Errors use the official status codes (error codes guide)."""
    status = _status(exchange)
    if 400 <= status < 500 and status not in statuses:
        yield Violation(
            expected(f"HTTP {' or '.join(map(str, statuses))}", f"HTTP {status}"),
            evidence=exchange.excerpt(),
        )


@check("openai.error.envelope")
def error_envelope(exchange: Exchange) -> Iterator[Violation]:
    """Errors are {"error": {"message", "type", ...}} (openai-openapi ErrorResponse)."""
    payload = exchange.json_or_none()
    if payload is None:
        yield Violation(
            expected(
                'a JSON body {"error": {"message", "type", "param", "code"}}',
                "a body that is not JSON",
            ),
            evidence=exchange.excerpt(),
        )
        return
    problems = [p for p in schema_errors("openai", "error", payload) if p[0] not in _SOFT_FIELDS]
    for pointer, message in problems[:3]:
        yield Violation(
            expected('{"error": {"message": str, "type": str, "param", "code"}}', message),
            location=pointer,
            evidence=exchange.excerpt(),
        )


@check("openai.error.envelope-fields")
def error_envelope_complete(exchange: Exchange) -> Iterator[Violation]:
    """The error object has param and code, strings or null (openai-openapi Error)."""
    error = error_object(exchange)
    if error is None:
        return
    problems = [
        f"no {key}" if key not in error else f"{key} {json.dumps(error[key])}"
        for key in ("param", "code")
        if not (key in error and (error[key] is None or isinstance(error[key], str)))
    ]
    if problems:
        yield Violation(
            expected(
                "error.param and error.code present, each a string or null",
                clip(", ".join(problems), 200),
            ),
            location="/error",
            evidence=exchange.excerpt(),
        )


@check("openai.error.json-content-type")
def error_served_as_json(exchange: Exchange) -> Iterator[Violation]:
    """Error responses are JSON with a JSON content type (error codes guide)."""
    content_type = exchange.content_type.lower()
    if "json" not in content_type:
        yield Violation(
            f"Expected response header Content-Type to contain 'application/json', "
            f"got {exchange.content_type or 'none'!r}",
            evidence=exchange.excerpt(),
        )


@check("openai.error.http200-error-body")
def no_error_with_200(exchange: Exchange) -> Iterator[Violation]:
    """Errors come with a 4xx/5xx status, never 200 (error codes guide)."""
    if 200 <= _status(exchange) < 300 and looks_like_error(exchange):
        yield Violation(
            expected("a 4xx/5xx status for an error", f"HTTP {exchange.status} with an error body"),
            evidence=exchange.excerpt(),
        )


@check("openai.error.server-error")
def client_error_not_server_error(exchange: Exchange) -> Iterator[Violation]:
    """An invalid request gets 4xx, never 5xx (error codes guide)."""
    if _status(exchange) >= 500:
        yield Violation(
            expected("HTTP 400 for an invalid request", f"HTTP {exchange.status}"),
            evidence=exchange.excerpt(),
        )


@check("openai.error.unknown-model-served")
def unknown_model_refused(exchange: Exchange) -> Iterator[Violation]:
    """A model that does not exist is refused (404 model_not_found)."""
    if 200 <= _status(exchange) < 300 and not looks_like_error(exchange):
        payload = exchange.json_or_none()
        served = payload.get("model") if isinstance(payload, dict) else None
        yield Violation(
            expected("404 model_not_found", f"HTTP {exchange.status}, answered by {served!r}"),
            evidence=exchange.excerpt(),
        )


@check("openai.error.invalid-request-accepted")
def invalid_request_refused(exchange: Exchange) -> Iterator[Violation]:
    """A malformed request is refused with 400 (CreateChatCompletionRequest)."""
    if 200 <= _status(exchange) < 300 and not looks_like_error(exchange):
        yield Violation(
            expected("HTTP 400 with an error envelope", f"HTTP {exchange.status} with an answer"),
            evidence=exchange.excerpt(),
        )
