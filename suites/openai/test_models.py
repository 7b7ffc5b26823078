"""OpenAI models endpoints: GET /models and GET /models/{model}."""

from __future__ import annotations

from chatconform.case import CaseRecord, case
from chatconform.config import DIALECT_CAPABILITIES
from chatconform.dialects.openai.checks import errors, models
from chatconform.dialects.openai.checks.completion import same_model
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


RETRIEVE = "https://platform.openai.com/docs/api-reference/models/retrieve"
UNKNOWN_MODEL = "chatconform-no-such-model-0"


@case(
    "openai/models/retrieve",
    title="GET /models/{model} returns a listed model",
    requirement="GET /models/{model} returns the model object of a model GET /models lists.",
    source=RETRIEVE,
    optional="GET /models/{model}",
    round_trips=2,
)
def test_retrieve(openai: OpenAIProbe, case: CaseRecord) -> None:
    listing = openai.get("models")
    openai.expect_success(listing, chat=False)
    listed = models.listed_ids(listing) or []
    text_model = openai.spoken.model_for("text")
    # The model a user configured, where the list names it; else the first listed.
    chosen = [m for m in listed if text_model and same_model(text_model, m)] or listed
    if not chosen:
        case.skip("GET /models lists no model to retrieve")
    exchange = openai.get(f"models/{chosen[0]}")
    # A 404 for a model the list names is a false answer, not the refusal of a feature.
    if exchange.status != 404:
        openai.expect_success(exchange, chat=False)
    if case.add(models.listed_model_retrieved(exchange, chosen[0]), exchange):
        case.broken("the listed model cannot be retrieved (see findings)")
    case.add(models.model_fields_present(exchange), exchange)


@case(
    "openai/models/retrieve-unknown",
    title="GET /models/{model} of an unknown model gets 404",
    requirement="GET /models/{model} of a model that does not exist is refused with 404 and the envelope.",
    source=RETRIEVE,
    optional="GET /models/{model}",
)
def test_retrieve_unknown(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = openai.get(f"models/{UNKNOWN_MODEL}")
    case.add(errors.unknown_model_refused(exchange), exchange)
    openai.check_error(exchange, (404,))
