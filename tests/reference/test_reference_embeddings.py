"""The reference provider's embedding model and POST /v1/embeddings, faithful and with faults."""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

import httpx
import pytest
from reference_helpers import AUTH, Api

from chatconform.reference.embeddings import DIMENSIONS, EMBEDDING_MODEL, MAX_INPUT_TOKENS, embed
from chatconform.schemas import schema_errors

ANCHOR = "The cat sat on the mat."
PARAPHRASE = "A cat was sitting on the mat."
UNRELATED = "Interest rates rose sharply in March."
TEXTS = [ANCHOR, UNRELATED, "Bake the bread for forty minutes."]


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _embeddings(api: Api, text: Any, **params: Any) -> httpx.Response:
    body = {"model": EMBEDDING_MODEL, "input": text, **params}
    return api.client.post("/v1/embeddings", json=body, headers=AUTH)


def _vectors(response: httpx.Response) -> list[list[float]]:
    assert response.status_code == 200, response.text
    return [entry["embedding"] for entry in response.json()["data"]]


# --- the model ----------------------------------------------------------------------------------


def test_embeddings_are_unit_vectors_of_float32_values() -> None:
    vector = embed(ANCHOR)
    assert len(vector) == DIMENSIONS
    assert math.isclose(_dot(vector, vector), 1.0, rel_tol=1e-6)
    assert all(struct.unpack("<f", struct.pack("<f", v))[0] == v for v in vector)


def test_a_paraphrase_is_closer_than_an_unrelated_sentence() -> None:
    anchor, paraphrase, unrelated = embed(ANCHOR), embed(PARAPHRASE), embed(UNRELATED)
    assert _dot(anchor, paraphrase) > _dot(anchor, unrelated) + 0.3


def test_the_same_text_gets_the_same_vector_whatever_its_case_and_punctuation() -> None:
    assert embed(ANCHOR) == embed("the cat sat on the mat")
    assert embed("") == embed("!?")  # no word: one fixed direction, never a zero vector


# --- POST /v1/embeddings, faithful -------------------------------------------------------------


def test_an_answer_is_a_list_of_embeddings_with_usage(api: Api) -> None:
    response = _embeddings(api, TEXTS)
    body = response.json()
    assert schema_errors("openai", "embeddings_response", body) == []
    assert [e["index"] for e in body["data"]] == [0, 1, 2]
    assert _vectors(response) == [embed(t) for t in TEXTS]
    assert body["model"] == EMBEDDING_MODEL
    assert body["usage"] == {"prompt_tokens": 21, "total_tokens": 21}


def test_dimensions_shortens_the_vectors(api: Api) -> None:
    assert [len(v) for v in _vectors(_embeddings(api, TEXTS, dimensions=64))] == [64, 64, 64]


def test_base64_is_the_float_vector_as_little_endian_float32(api: Api) -> None:
    response = _embeddings(api, ANCHOR, encoding_format="base64")
    (text,) = _vectors(response)
    raw = base64.b64decode(text)
    assert list(struct.unpack(f"<{len(raw) // 4}f", raw)) == embed(ANCHOR)


def test_token_arrays_are_embedded_too(api: Api) -> None:
    assert len(_vectors(_embeddings(api, [[1, 2, 3], [4, 5]]))) == 2
    assert len(_vectors(_embeddings(api, [1, 2, 3]))) == 1


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        ({"input": ""}, 400, "input", None),
        ({"input": []}, 400, "input", None),
        ({"input": "word " * (MAX_INPUT_TOKENS + 1)}, 400, "input", None),
        ({"input": ANCHOR, "dimensions": DIMENSIONS + 1}, 400, "dimensions", None),
        ({"input": ANCHOR, "encoding_format": "binary"}, 400, "encoding_format", None),
        ({"input": ANCHOR, "model": "reference-1"}, 404, "model", "model_not_found"),
        ({}, 400, "input", None),
    ],
    ids=[
        "empty-string",
        "empty-array",
        "too-long",
        "too-many-dimensions",
        "unknown-encoding",
        "chat-model",
        "no-input",
    ],
)
def test_invalid_requests_get_the_error_envelope(
    api: Api, body: dict[str, Any], status: int, param: str, code: str | None
) -> None:
    request = {"model": EMBEDDING_MODEL, **body}
    response = api.client.post("/v1/embeddings", json=request, headers=AUTH)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert schema_errors("openai", "error", response.json()) == []
    assert (error["param"], error["code"]) == (param, code)


def test_the_key_is_required(api: Api) -> None:
    response = api.client.post("/v1/embeddings", json={"model": EMBEDDING_MODEL, "input": "x"})
    assert response.status_code == 401


# --- faults ------------------------------------------------------------------------------------


def test_order_shuffled_gives_each_index_another_input_s_vector() -> None:
    response = _embeddings(Api("embeddings-order-shuffled"), TEXTS)
    assert [e["index"] for e in response.json()["data"]] == [0, 1, 2]
    assert _vectors(response) == [embed(TEXTS[1]), embed(TEXTS[2]), embed(TEXTS[0])]


def test_dimensions_ignored_answers_full_size() -> None:
    vectors = _vectors(_embeddings(Api("embeddings-dimensions-ignored"), ANCHOR, dimensions=64))
    assert [len(v) for v in vectors] == [DIMENSIONS]


def test_base64_mismatch_packs_float64() -> None:
    api = Api("embeddings-base64-mismatch")
    (text,) = _vectors(_embeddings(api, ANCHOR, encoding_format="base64"))
    raw = base64.b64decode(text)
    assert list(struct.unpack(f"<{len(raw) // 8}d", raw)) == embed(ANCHOR)
    assert _vectors(_embeddings(api, ANCHOR)) == [embed(ANCHOR)]  # floats stay right


def test_ollama_shape_answers_a_bare_list_of_vectors() -> None:
    body = _embeddings(Api("embeddings-ollama-shape"), TEXTS).json()
    assert body == {"model": EMBEDDING_MODEL, "embeddings": [embed(t) for t in TEXTS]}


def test_usage_missing_drops_usage_only() -> None:
    body = _embeddings(Api("embeddings-usage-missing"), ANCHOR).json()
    assert "usage" not in body
    assert body["data"][0]["embedding"] == embed(ANCHOR)


def test_same_vector_gives_every_text_one_vector() -> None:
    vectors = _vectors(_embeddings(Api("embeddings-same-vector"), [ANCHOR, UNRELATED]))
    assert vectors[0] == vectors[1]


def test_input_truncated_embeds_the_first_tokens_of_an_over_long_input() -> None:
    text = "word " * (MAX_INPUT_TOKENS + 100)
    response = _embeddings(Api("embeddings-input-truncated"), text)
    assert _vectors(response) == [embed("word " * MAX_INPUT_TOKENS)]
    assert response.json()["usage"]["prompt_tokens"] == MAX_INPUT_TOKENS


def test_model_retrieve_404_refuses_listed_models() -> None:
    api = Api("model-retrieve-404")
    assert EMBEDDING_MODEL in [m["id"] for m in api.get("/v1/models").json()["data"]]
    response = api.get(f"/v1/models/{EMBEDDING_MODEL}")
    assert response.status_code == 404
    assert schema_errors("openai", "error", response.json()) == []


def test_model_fields_missing_applies_to_a_retrieved_model_too() -> None:
    response = Api("model-fields-missing").get(f"/v1/models/{EMBEDDING_MODEL}")
    assert response.json() == {"id": EMBEDDING_MODEL, "object": "model"}
