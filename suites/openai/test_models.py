"""OpenAI models endpoint: GET /models."""

from __future__ import annotations

from chatconform.case import CaseRecord, case
from chatconform.checks import models
from chatconform.config import CAPABILITIES
from chatconform.probe import OpenAIProbe

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
    configured = sorted({m for c in CAPABILITIES if (m := openai.provider.model_for(c))})
    exchange = openai.get("models")
    openai.expect_success(exchange, chat=False)
    case.add(models.configured_models_listed(exchange, configured), exchange)
