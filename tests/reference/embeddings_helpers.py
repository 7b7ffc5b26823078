"""POST /v1/embeddings against the reference app, and each embeddings fault's effect on the wire."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx
from reference_helpers import AUTH, Api

from chatconform.reference.embeddings import DIMENSIONS, EMBEDDING_MODEL, MAX_INPUT_TOKENS, embed

TEXTS = [
    "The cat sat on the mat.",
    "Interest rates rose sharply in March.",
    "Bake the bread for forty minutes.",
]
TOO_LONG = "word " * (MAX_INPUT_TOKENS + 1)


def embeddings(api: Api, text: Any = TEXTS, **params: Any) -> httpx.Response:
    body = {"model": EMBEDDING_MODEL, "input": text, **params}
    return api.client.post("/v1/embeddings", json=body, headers=AUTH)


def vectors(api: Api, text: Any = TEXTS, **params: Any) -> list[Any]:
    response = embeddings(api, text, **params)
    assert response.status_code == 200, response.text
    return [entry["embedding"] for entry in response.json()["data"]]


def whose_vectors(api: Api) -> list[int]:
    """For each data[i] of a batch, which input's vector it is (-1: none of them)."""
    expected = [embed(t) for t in TEXTS]
    return [expected.index(v) if v in expected else -1 for v in vectors(api)]


def base64_bytes(api: Api) -> int:
    """How many bytes one base64-encoded vector decodes to."""
    (text,) = vectors(api, TEXTS[0], encoding_format="base64")
    return len(base64.b64decode(text))


def over_long_input(api: Api) -> tuple[int, int | None]:
    """The status of an input over the limit, and the prompt_tokens billed for it."""
    response = embeddings(api, TOO_LONG)
    return response.status_code, response.json().get("usage", {}).get("prompt_tokens")


def retrieved(api: Api) -> list[int]:
    """The status of GET /v1/models/{model} for each listed model."""
    listed = [m["id"] for m in api.get("/v1/models").json()["data"]]
    return [api.get(f"/v1/models/{model}").status_code for model in listed]


WIRE_EFFECTS: dict[str, tuple[Callable[[Api], Any], Any, Any]] = {
    "embeddings-order-shuffled": (whose_vectors, [0, 1, 2], [1, 2, 0]),
    "embeddings-dimensions-ignored": (
        lambda api: [len(v) for v in vectors(api, dimensions=64)],
        [64, 64, 64],
        [DIMENSIONS] * 3,
    ),
    "embeddings-base64-mismatch": (base64_bytes, DIMENSIONS * 4, DIMENSIONS * 8),
    "embeddings-ollama-shape": (
        lambda api: sorted(embeddings(api).json()),
        ["data", "model", "object", "usage"],
        ["embeddings", "model"],
    ),
    "embeddings-usage-missing": (
        lambda api: embeddings(api).json().get("usage"),
        {"prompt_tokens": 21, "total_tokens": 21},
        None,
    ),
    "embeddings-same-vector": (
        lambda api: len({tuple(v) for v in vectors(api)}),
        len(TEXTS),
        1,
    ),
    "embeddings-input-truncated": (over_long_input, (400, None), (200, MAX_INPUT_TOKENS)),
    "model-retrieve-404": (retrieved, [200, 200, 200], [404, 404, 404]),
}
