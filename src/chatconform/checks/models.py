"""Checks of GET /models."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from chatconform.checks import Violation, check, expected
from chatconform.checks.response import same_model
from chatconform.exchange import Exchange
from chatconform.schemas import schema_errors


@check("openai.models.list-shape")
def models_list_shape(exchange: Exchange) -> Iterator[Violation]:
    """GET /models returns {"object": "list", "data": [...]} (models list reference)."""
    payload = exchange.json_or_none()
    if payload is None:
        yield Violation(
            expected('a JSON {"object": "list", "data": [...]}', "a body that is not JSON"),
            evidence=exchange.excerpt(),
        )
        return
    for pointer, message in schema_errors("openai", "models_list", payload)[:5]:
        yield Violation(
            expected('{"object": "list", "data": [model objects]}', message),
            location=pointer,
            evidence=exchange.excerpt(),
        )


@check("openai.models.configured-listed")
def configured_models_listed(exchange: Exchange, models: Sequence[str]) -> Iterator[Violation]:
    """GET /models lists the models the key can use (models list reference)."""
    payload = exchange.json_or_none()
    data = payload.get("data") if isinstance(payload, dict) else payload
    if not isinstance(data, list):
        return
    listed = [m.get("id") for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]
    # One finding for all: findings deduplicate on (rule, location), and all point at /data.
    missing = [m for m in models if not any(same_model(m, other) for other in listed)]
    if missing:
        shown = ", ".join(listed[:10]) + (
            f" and {len(listed) - 10} more" if len(listed) > 10 else ""
        )
        yield Violation(
            expected(
                f"{', '.join(map(repr, missing))} among the listed models", shown or "no models"
            ),
            location="/data",
            evidence=exchange.excerpt(),
        )
