"""Checks of GET /v1/models.

https://docs.anthropic.com/en/api/models-list
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from chatconform.check import Violation, check, expected
from chatconform.dialects.anthropic.checks.errors import error_object
from chatconform.dialects.anthropic.checks.message import same_model
from chatconform.exchange import Exchange, clip
from chatconform.schemas import schema_errors

# At most this many schema problems reported per list.
MAX_SCHEMA_FINDINGS = 5
_SHAPE = '{"data": [ModelInfo], "has_more", "first_id", "last_id"}'


@check("anthropic.models.list-shape")
def models_list_shape(exchange: Exchange) -> Iterator[Violation]:
    """GET /v1/models returns a page of ModelInfo objects (models list reference)."""
    payload = exchange.json_or_none()
    if payload is None:
        body = clip(exchange.body.decode("utf-8", "replace"), 120)
        yield Violation(
            expected(f"a JSON {_SHAPE}", f"a body that is not JSON: {body!r}"),
            evidence=exchange.excerpt(),
        )
        return
    for pointer, message in schema_errors("anthropic", "models_list", payload)[
        :MAX_SCHEMA_FINDINGS
    ]:
        yield Violation(expected(_SHAPE, message), location=pointer, evidence=exchange.excerpt())


@check("anthropic.models.configured-listed")
def configured_models_listed(exchange: Exchange, models: Sequence[str]) -> Iterator[Violation]:
    """GET /v1/models lists the models the key can use (models list reference).

    Judged on the last page only (has_more false): a model may be on a later page.
    """
    payload = exchange.json_or_none()
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list) or payload.get("has_more") is True:
        return
    listed = [m["id"] for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]
    # One finding for all: findings deduplicate on (rule, location), and all point at /data.
    missing = [m for m in models if not any(same_model(m, other) for other in listed)]
    if missing:
        shown = ", ".join(listed[:10]) + (
            f" and {len(listed) - 10} more" if len(listed) > 10 else ""
        )
        yield Violation(
            expected(
                f"{', '.join(map(repr, missing))} among the listed models",
                clip(shown) or "no models",
            ),
            location="/data",
            evidence=exchange.excerpt(),
        )


@check("anthropic.models.absent")
def models_endpoint_offered(exchange: Exchange) -> Iterator[Violation]:
    """GET /v1/models is offered; a 404 says the provider does not list its models (info)."""
    if exchange.status != 404:
        return
    error = error_object(exchange)
    kind = error.get("type") if error else None
    how = (
        f"with the error envelope ({clip(repr(kind), 60)})"
        if isinstance(kind, str)
        else "without the error envelope"
    )
    yield Violation(
        expected("the model list", f"HTTP 404 {how}"),
        evidence=exchange.excerpt(),
    )
