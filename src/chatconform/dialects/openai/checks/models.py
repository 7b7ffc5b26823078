"""Checks of GET /models."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from chatconform.dialects.openai.checks import Violation, check, expected
from chatconform.dialects.openai.checks.completion import same_model
from chatconform.exchange import Exchange
from chatconform.schemas import missing_key_at, schema_errors

# Model fields the spec requires that model pickers do without; openai.models.model-fields
# reports their absence (a should) and the list-shape check leaves it to that rule.
_SOFT_FIELDS = ("created", "owned_by")
_SOFT_ABSENT = re.compile(rf"/data/\d+/({'|'.join(_SOFT_FIELDS)})")


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
    problems = [
        p
        for p in schema_errors("openai", "models_list", payload)
        if not missing_key_at(*p, _SOFT_ABSENT)
    ]
    for pointer, message in problems[:5]:
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


@check("openai.models.model-fields")
def model_fields_present(exchange: Exchange) -> Iterator[Violation]:
    """Each listed model has created and owned_by (openai-openapi Model)."""
    payload = exchange.json_or_none()
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        return  # list-shape says so
    entries = [(k, m) for k, m in enumerate(data) if isinstance(m, dict)]
    for field in _SOFT_FIELDS:
        lacking = [(k, m.get("id")) for k, m in entries if field not in m]
        if lacking:
            first, model = lacking[0]
            others = f" and {len(lacking) - 1} more" if len(lacking) > 1 else ""
            # One finding per field, however many models lack it.
            yield Violation(
                expected(
                    f"{field} on every model object",
                    f"no {field} on {model!r}{others} (of {len(data)} models)",
                ),
                location=f"/data/{first}/{field}",
                evidence=exchange.excerpt(),
            )
