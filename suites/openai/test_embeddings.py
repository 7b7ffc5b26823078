"""OpenAI embeddings: POST /embeddings with the configured embedding model (models.embeddings)."""

from __future__ import annotations

from typing import Any

import pytest

from chatconform.case import CaseRecord, case
from chatconform.dialects.openai.checks import embeddings, errors
from chatconform.dialects.openai.probe import OpenAIProbe
from chatconform.exchange import Exchange
from chatconform.finding import Finding

CREATE = "https://platform.openai.com/docs/api-reference/embeddings/create"
OBJECT = "https://platform.openai.com/docs/api-reference/embeddings/object"
# A sentence, a paraphrase of it and an unrelated one: any embedding model puts the first
# two closer together than the first and the last.
ANCHOR = "The cat sat on the mat."
PARAPHRASE = "A cat was sitting on the mat."
UNRELATED = "Interest rates rose sharply in March."
# Inputs of a batch, far apart in meaning, so that each one's vector is told from the others.
BATCH = (ANCHOR, UNRELATED, "Bake the bread for forty minutes.")
# Fewer than any embedding model has, and a size Matryoshka models offer.
DIMENSIONS = 64
# Words, about one token each: over every embedding model's input limit (8192 tokens for
# OpenAI's, 32k for the largest), and still a small request.
TOO_LONG_WORDS = 40_000


def _embedded(openai: OpenAIProbe, text: str | list[str], **params: Any) -> Exchange:
    """An embeddings request for ``text`` that must succeed and be readable."""
    body = {"model": openai.model("embeddings"), "input": text, **params}
    exchange = openai.embed(body)
    openai.expect_embeddings(exchange)
    return exchange


@case(
    "openai/embeddings/list-shape",
    title="POST /embeddings returns a list of embedding objects",
    requirement=(
        'POST /embeddings returns {"object": "list", "data": [{"object": "embedding", "index", '
        '"embedding": [floats]}], "model", "usage"}.'
    ),
    source=OBJECT,
)
def test_list_shape(openai: OpenAIProbe, case: CaseRecord) -> None:
    _embedded(openai, ANCHOR)


@case(
    "openai/embeddings/usage",
    title="Embeddings usage is reported",
    requirement="usage has prompt_tokens, positive for a non-empty input, and total_tokens equal to it.",
    source="openai-openapi: CreateEmbeddingResponse.usage",
)
def test_usage(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = _embedded(openai, ANCHOR)
    case.add(embeddings.embeddings_usage(exchange), exchange)


@case(
    "openai/embeddings/batch-order",
    title="A batch gets one embedding per input, in input order",
    requirement=(
        "An array input gets one embedding per item: data[i], index i, is the embedding "
        "input i gets when sent alone."
    ),
    source=f"{OBJECT}#embeddings/object-index",
    round_trips=4,
)
def test_batch_order(openai: OpenAIProbe, case: CaseRecord) -> None:
    batch = _embedded(openai, list(BATCH))
    singles = [_embedded(openai, text) for text in BATCH]
    case.add(embeddings.one_embedding_per_input(batch, singles), batch)


@case(
    "openai/embeddings/dimensions",
    title="dimensions shortens the embeddings",
    requirement=(
        "With dimensions N every embedding has N numbers; a model that cannot shorten its "
        "embeddings refuses the parameter."
    ),
    source=f"{CREATE}#embeddings-create-dimensions",
    optional="dimensions",
)
def test_dimensions(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = _embedded(openai, ANCHOR, dimensions=DIMENSIONS)
    case.add(embeddings.dimensions_honoured(exchange, DIMENSIONS), exchange)


@case(
    "openai/embeddings/base64",
    title="base64 embeddings decode to the float ones",
    requirement=(
        "With encoding_format base64 each embedding is base64 of little-endian float32 values, "
        "the vector encoding_format float gives (the official SDKs ask for base64 by default)."
    ),
    source=f"{CREATE}#embeddings-create-encoding_format",
    round_trips=2,
)
def test_base64(openai: OpenAIProbe, case: CaseRecord) -> None:
    as_float = _embedded(openai, ANCHOR, encoding_format="float")
    as_base64 = _embedded(openai, ANCHOR, encoding_format="base64")
    case.add(embeddings.base64_matches_float(as_float, as_base64), as_base64)


@case(
    "openai/embeddings/semantic",
    title="A sentence is closer to its paraphrase than to an unrelated sentence",
    requirement="Embeddings represent meaning: cosine(sentence, paraphrase) > cosine(sentence, unrelated).",
    source="https://platform.openai.com/docs/guides/embeddings",
    round_trips=3,
)
def test_semantic(openai: OpenAIProbe, case: CaseRecord) -> None:
    sent: dict[str, Exchange] = {}

    def attempt() -> list[Finding]:
        for name, text in (
            ("anchor", ANCHOR),
            ("paraphrase", PARAPHRASE),
            ("unrelated", UNRELATED),
        ):
            sent[name] = _embedded(openai, text)
        return embeddings.paraphrase_closer(sent["anchor"], sent["paraphrase"], sent["unrelated"])

    def control() -> str | None:
        # The plain version: the same sentence again. Vectors that do not even reproduce
        # have no similarities to judge.
        again = embeddings.single_vector(_embedded(openai, ANCHOR))
        first = embeddings.single_vector(sent["anchor"])
        same = embeddings.cosine(first, again) if first and again else None
        if same is not None and same >= embeddings.SAME_VECTOR:
            case.note(
                "control: the same sentence embedded again gets the same vector, so the "
                "failed comparison shows a deviation"
            )
            return None
        shown = "undefined" if same is None else f"{same:.3f}"
        return f"the same sentence embedded twice got vectors of cosine {shown}"

    case.until_accepted(attempt, control)


EMPTY: dict[str, Any] = {"empty-string": "", "empty-array": []}


@case(
    "openai/embeddings/empty-input",
    title="An empty input gets 400",
    requirement="input cannot be an empty string or an empty array: refused with 400 and the envelope.",
    source=f"{CREATE}#embeddings-create-input",
)
@pytest.mark.parametrize("variant", sorted(EMPTY))
def test_empty_input(openai: OpenAIProbe, case: CaseRecord, variant: str) -> None:
    body = {"model": openai.model("embeddings"), "input": EMPTY[variant]}
    exchange = openai.embed(body, valid=False)
    case.add(errors.invalid_request_refused(exchange), exchange)
    openai.check_error(exchange, (400,))


@case(
    "openai/embeddings/too-long-input",
    title="An input over the model's limit gets 400",
    requirement="An input over the model's maximum input tokens is refused with 400, not truncated.",
    source=f"{CREATE}#embeddings-create-input",
)
def test_too_long_input(openai: OpenAIProbe, case: CaseRecord) -> None:
    body = {"model": openai.model("embeddings"), "input": "hello " * TOO_LONG_WORDS}
    exchange = openai.embed(body)
    case.add(embeddings.too_long_input_refused(exchange, TOO_LONG_WORDS), exchange)
    openai.check_error(exchange, (400,))
