"""OpenAI models endpoint: GET /models."""

from __future__ import annotations

from chatconform.case import CaseRecord, case
from chatconform.config import DIALECT_CAPABILITIES
from chatconform.dialects.openai.checks import models
from chatconform.dialects.openai.probe import OpenAIProbe

LIST = "https://platform.openai.com/docs/api-reference/models/list"


@case(
    "openai/models/list-shape",
    title="GET /models returns a list object",
    requirement='GET /models returns {"object": "list", "data": [model objects]}.',
    source=LIST,
    optional="GET /models",
)
def test_list_shape(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = openai.get("models")
    openai.expect_success(exchange, chat=False)
    case.add(models.models_list_shape(exchange), exchange)
    case.add(models.model_fields_present(exchange), exchange)


@case(
    "openai/models/configured-listed",
    title="The configured models are listed",
    requirement="GET /models lists the models available to the key, the configured ones included.",
    source=LIST,
    optional="GET /models",
)
def test_configured_listed(openai: OpenAIProbe, case: CaseRecord) -> None:
    spoken = openai.spoken
    configured = sorted({m for c in DIALECT_CAPABILITIES["openai"] if (m := spoken.model_for(c))})
    exchange = openai.get("models")
    openai.expect_success(exchange, chat=False)
    case.add(models.configured_models_listed(exchange, configured), exchange)
