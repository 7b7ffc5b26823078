"""Anthropic's models list: GET /v1/models in the Messages API's shape, or a clean 404."""

from __future__ import annotations

from chatconform.case import CaseRecord, case
from chatconform.config import DIALECT_CAPABILITIES
from chatconform.dialects.anthropic.checks import models as checks
from chatconform.dialects.anthropic.probe import AnthropicProbe

LIST = "https://docs.anthropic.com/en/api/models-list"


@case(
    "anthropic/models/list",
    title="GET /v1/models lists models in Anthropic's shape",
    requirement="GET /v1/models answers {data: [{type model, id, display_name, created_at}], has_more, first_id, last_id}, listing the configured models; a provider without it answers 404.",
    source=LIST,
)
def test_list(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    exchange = anthropic.get("v1/models")
    if case.add(checks.models_endpoint_offered(exchange), exchange):
        return
    anthropic.expect_success(exchange, chat=False)
    if case.add(checks.models_list_shape(exchange), exchange):
        return
    spoken = anthropic.spoken
    configured = sorted(
        {m for c in DIALECT_CAPABILITIES["anthropic"] if (m := spoken.model_for(c))}
    )
    case.add(checks.configured_models_listed(exchange, configured), exchange)
