"""Checks of error responses: the envelope, error types and statuses, what must be refused.

https://docs.anthropic.com/en/api/errors
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from chatconform.check import Violation, check, expected
from chatconform.exchange import Exchange, clip
from chatconform.schemas import schema_errors

# The error type of each status (errors reference; 402 and 504 from the SDKs' ErrorObject).
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
# At most this many schema problems reported per error body.
MAX_SCHEMA_FINDINGS = 3


def _status(exchange: Exchange) -> int:
    return exchange.status or 0


def _ok(exchange: Exchange) -> bool:
    return 200 <= _status(exchange) < 300


def openai_envelope(payload: Any) -> bool:
    """Whether a body is OpenAI's {"error": {"message", "type", "param", "code"}} envelope."""
    if not isinstance(payload, dict) or payload.get("type") == "error":
        return False
    error = payload.get("error")
    return isinstance(error, dict) and (
        "type" not in payload or "code" in error or "param" in error
    )


def looks_like_error(exchange: Exchange) -> bool:
    """A body that reports an error: the Anthropic envelope, OpenAI's, or a flat variant."""
    payload = exchange.json_or_none()
    if not isinstance(payload, dict) or "content" in payload or "choices" in payload:
        return False
    if payload.get("type") == "error" or "error" in payload:
        return True
    return "message" in payload and ("code" in payload or "type" in payload)


def error_object(exchange: Exchange) -> dict[str, Any] | None:
    """The body's "error" object, if the body is an error envelope."""
    payload = exchange.json_or_none()
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        return payload["error"]
    return None


@check("anthropic.error.envelope")
def error_envelope(exchange: Exchange) -> Iterator[Violation]:
    """Errors are {"type": "error", "error": {"type", "message"}} (errors reference: error shapes)."""
    wanted = '{"type": "error", "error": {"type": str, "message": str}}'
    payload = exchange.json_or_none()
    if payload is None:
        body = clip(exchange.body.decode("utf-8", "replace"), 120)
        yield Violation(
            expected(wanted, f"a body that is not JSON: {body!r}"), evidence=exchange.excerpt()
        )
        return
    if openai_envelope(payload):
        yield Violation(
            expected(
                wanted, 'an OpenAI error envelope {"error": {"message", "type", "param", "code"}}'
            ),
            location="/type",
            evidence=exchange.excerpt(),
        )
        return
    for pointer, message in schema_errors("anthropic", "error", payload)[:MAX_SCHEMA_FINDINGS]:
        yield Violation(expected(wanted, message), location=pointer, evidence=exchange.excerpt())


@check("anthropic.error.type")
def error_type_matches_status(exchange: Exchange) -> Iterator[Violation]:
    """error.type names the HTTP status (errors reference: HTTP errors)."""
    error = error_object(exchange)
    wanted = ERROR_TYPES.get(_status(exchange))
    if error is None or wanted is None or openai_envelope(exchange.json_or_none()):
        return  # no envelope (envelope says so), or a status without an official type
    kind = error.get("type")
    if isinstance(kind, str) and kind != wanted:
        yield Violation(
            expected(f"error.type {wanted!r} for HTTP {exchange.status}", clip(repr(kind), 120)),
            location="/error/type",
            evidence=exchange.excerpt(),
        )


@check("anthropic.error.status")
def error_status_as_official(exchange: Exchange, statuses: Sequence[int]) -> Iterator[Violation]:
    """Errors use the official status for the case (errors reference: HTTP errors)."""
    status = _status(exchange)
    if 400 <= status < 500 and status not in statuses:
        yield Violation(
            expected(f"HTTP {' or '.join(map(str, statuses))}", f"HTTP {status}"),
            evidence=exchange.excerpt(),
        )


@check("anthropic.error.json-content-type")
def error_served_as_json(exchange: Exchange) -> Iterator[Violation]:
    """Errors are always returned as JSON (errors reference: error shapes)."""
    if "json" not in exchange.content_type.lower():
        yield Violation(
            f"Expected response header Content-Type to contain 'application/json', "
            f"got {exchange.content_type or 'none'!r}",
            evidence=exchange.excerpt(),
        )


@check("anthropic.error.http200-error-body")
def no_error_with_200(exchange: Exchange) -> Iterator[Violation]:
    """Errors come with a 4xx/5xx status, never 200 (errors reference)."""
    if _ok(exchange) and looks_like_error(exchange):
        yield Violation(
            expected("a 4xx/5xx status for an error", f"HTTP {exchange.status} with an error body"),
            evidence=exchange.excerpt(),
        )


@check("anthropic.error.server-error")
def client_error_not_server_error(exchange: Exchange) -> Iterator[Violation]:
    """An invalid request gets 4xx, never 5xx (errors reference)."""
    if _status(exchange) >= 500:
        yield Violation(
            expected(
                "HTTP 400 invalid_request_error for an invalid request", f"HTTP {exchange.status}"
            ),
            evidence=exchange.excerpt(),
        )


@check("anthropic.error.invalid-request-accepted")
def invalid_request_refused(exchange: Exchange) -> Iterator[Violation]:
    """A malformed request (no max_tokens, say) is refused with 400 (Messages API: required fields)."""
    if _ok(exchange) and not looks_like_error(exchange):
        yield Violation(
            expected("HTTP 400 invalid_request_error", f"HTTP {exchange.status} with an answer"),
            evidence=exchange.excerpt(),
        )


@check("anthropic.error.unknown-model-served")
def unknown_model_refused(exchange: Exchange) -> Iterator[Violation]:
    """A model that does not exist is refused with 404 not_found_error (errors reference)."""
    if _ok(exchange) and not looks_like_error(exchange):
        payload = exchange.json_or_none()
        served = payload.get("model") if isinstance(payload, dict) else None
        shown = (
            f", answered by {clip(repr(served), 80)}" if served is not None else " with an answer"
        )
        yield Violation(
            expected("HTTP 404 not_found_error", f"HTTP {exchange.status}{shown}"),
            evidence=exchange.excerpt(),
        )


@check("anthropic.auth.not-enforced")
def invalid_key_refused(exchange: Exchange) -> Iterator[Violation]:
    """A wrong or missing key is refused with 401 authentication_error (errors reference)."""
    if _ok(exchange) and not looks_like_error(exchange):
        yield Violation(
            expected("HTTP 401 authentication_error", f"HTTP {exchange.status} with an answer"),
            evidence=exchange.excerpt(),
        )


def _refused(exchange: Exchange) -> bool:
    return _status(exchange) in (401, 403)


@check("anthropic.auth.styles")
def auth_styles_accepted(api_key: Exchange, bearer: Exchange) -> Iterator[Violation]:
    """The key works as x-api-key and as Authorization: Bearer (Claude Code's ANTHROPIC_AUTH_TOKEN).

    ``api_key`` and ``bearer`` are the same request with the same valid key, sent in
    each style; only one style refused while the other answers is reported.
    """
    styles = (("x-api-key", api_key), ("Authorization: Bearer", bearer))
    for (name, refused), (other, accepted) in (styles, styles[::-1]):
        if _refused(refused) and _ok(accepted) and not looks_like_error(accepted):
            yield Violation(
                expected(
                    "the key accepted as x-api-key and as Authorization: Bearer",
                    f"{name} refused (HTTP {refused.status}), {other} accepted",
                ),
                evidence=refused.excerpt(),
            )
