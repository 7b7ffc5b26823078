"""Checks of POST /embeddings (chatconform.dialects.openai.checks.embeddings)."""

from __future__ import annotations

from typing import Any

import pytest
from check_helpers import http_exchange, read, summary

from chatconform.dialects.openai.checks import embeddings
from chatconform.exchange import Exchange

URL = "https://api.example.test/v1/embeddings"
ANCHOR = "The cat sat on the mat."
BATCH = [ANCHOR, "Interest rates rose sharply in March.", "Bake the bread for forty minutes."]


def _request(text: str | list[str] = ANCHOR, **params: Any) -> dict[str, Any]:
    return {"model": "text-embedding-3-small", "input": text, **params}


def _embeddings(name: str, *, status: int = 200, **params: Any) -> Exchange:
    """The exchange of a sample body answering an embeddings request with ``params``."""
    text = params.pop("text", ANCHOR)
    return http_exchange(read(name), status=status, request=_request(text, **params), url=URL)


ANSWER = "embeddings_response.json"


# --- vectors, decoding, cosine ------------------------------------------------------------------


def test_base64_decodes_to_the_float_vector() -> None:
    floats = embeddings.vectors(_embeddings(ANSWER))
    decoded = embeddings.vectors(_embeddings("bodies/embeddings_base64.json"))
    assert floats == decoded
    assert floats is not None and len(floats[0]) == 4


@pytest.mark.parametrize("text", ["not base64!", "", "AAAA AAA"])
def test_decode_base64_refuses_what_is_not_float32(text: str) -> None:
    assert embeddings.decode_base64(text) is None


def test_cosine_of_different_lengths_or_zero_vectors_is_undefined() -> None:
    assert embeddings.cosine([1.0, 0.0], [1.0, 0.0, 0.0]) is None
    assert embeddings.cosine([0.0, 0.0], [1.0, 0.0]) is None
    assert embeddings.cosine([1.0, 0.0], [2.0, 0.0]) == pytest.approx(1.0)


# --- embeddings_schema --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params"),
    [(ANSWER, {}), ("bodies/embeddings_base64.json", {"encoding_format": "base64"})],
)
def test_schema_accepts_a_list_of_embeddings(name: str, params: dict[str, Any]) -> None:
    assert embeddings.embeddings_schema(_embeddings(name, **params)) == []


def test_schema_flags_the_ollama_native_shape() -> None:
    findings = embeddings.embeddings_schema(_embeddings("bodies/embeddings_ollama_shape.json"))
    assert summary(findings) == [
        ("openai.embeddings.schema", "must", "/data"),
        ("openai.embeddings.schema", "must", "/object"),
    ]
    assert "'data' is a required property" in findings[0].message


def test_schema_flags_base64_that_was_not_asked_for() -> None:
    findings = embeddings.embeddings_schema(_embeddings("bodies/embeddings_base64.json"))
    assert summary(findings) == [("openai.embeddings.schema", "must", "/data/0/embedding")]
    assert "an array of floats (encoding_format float)" in findings[0].message


def test_schema_flags_numbers_sent_as_strings() -> None:
    findings = embeddings.embeddings_schema(_embeddings("bodies/embeddings_values_as_strings.json"))
    assert summary(findings) == [("openai.embeddings.schema", "must", "/data/0/embedding")]


def test_schema_leaves_usage_to_its_own_rule() -> None:
    exchange = _embeddings("bodies/embeddings_usage_missing.json")
    assert embeddings.embeddings_schema(exchange) == []
    assert summary(embeddings.embeddings_usage(exchange)) == [
        ("openai.embeddings.usage", "should", "/usage")
    ]


def test_schema_flags_a_body_that_is_not_json() -> None:
    findings = embeddings.embeddings_schema(
        http_exchange(b"<html>502</html>", content_type="text/html", request=_request(), url=URL)
    )
    assert summary(findings) == [("openai.embeddings.schema", "must", "")]


# --- embeddings_usage ---------------------------------------------------------------------------


def test_usage_accepts_equal_prompt_and_total_tokens() -> None:
    assert embeddings.embeddings_usage(_embeddings(ANSWER)) == []


def test_usage_flags_a_total_that_is_not_the_prompt() -> None:
    findings = embeddings.embeddings_usage(
        _embeddings("bodies/embeddings_usage_total_differs.json")
    )
    assert summary(findings) == [("openai.embeddings.usage", "should", "/usage")]
    assert "prompt_tokens 7, total_tokens 0" in findings[0].message


# --- one_embedding_per_input --------------------------------------------------------------------

SINGLES = [
    ANSWER,
    "bodies/embeddings_unrelated.json",
    "bodies/embeddings_batch_third.json",
]


def _singles() -> list[Exchange]:
    return [_embeddings(name, text=text) for name, text in zip(SINGLES, BATCH, strict=True)]


def test_batch_in_input_order_passes() -> None:
    batch = _embeddings("bodies/embeddings_batch.json", text=BATCH)
    assert embeddings.one_embedding_per_input(batch, _singles()) == []


def test_batch_in_another_order_is_flagged_with_whose_vector_it_is() -> None:
    batch = _embeddings("bodies/embeddings_batch_rotated.json", text=BATCH)
    findings = embeddings.one_embedding_per_input(batch, _singles())
    assert summary(findings) == [("openai.embeddings.batch", "must", "/data/0")]
    assert "it is input 1's (cosine 1.000)" in findings[0].message


def test_batch_listed_out_of_index_order_is_flagged() -> None:
    batch = _embeddings("bodies/embeddings_batch_index_reversed.json", text=BATCH)
    findings = embeddings.one_embedding_per_input(batch, _singles())
    assert summary(findings) == [("openai.embeddings.batch", "must", "/data")]
    assert "index [2, 1, 0]" in findings[0].message


def test_batch_with_fewer_embeddings_than_inputs_is_flagged() -> None:
    batch = _embeddings("bodies/embeddings_batch_short.json", text=BATCH)
    findings = embeddings.one_embedding_per_input(batch, _singles())
    assert "3 embeddings, one per input" in findings[0].message


# --- dimensions_honoured ------------------------------------------------------------------------


def test_dimensions_honoured_passes_at_the_asked_size() -> None:
    assert embeddings.dimensions_honoured(_embeddings(ANSWER, dimensions=4), 4) == []


def test_dimensions_ignored_is_flagged() -> None:
    findings = embeddings.dimensions_honoured(_embeddings(ANSWER, dimensions=2), 2)
    assert summary(findings) == [("openai.embeddings.dimensions", "must", "/data/0/embedding")]
    assert "Received: embeddings of 4 numbers" in findings[0].message


# --- base64_matches_float -----------------------------------------------------------------------


def _base64(name: str) -> Exchange:
    return _embeddings(name, encoding_format="base64")


def test_base64_of_float32_matches() -> None:
    as_float = _embeddings(ANSWER, encoding_format="float")
    as_base64 = _base64("bodies/embeddings_base64.json")
    assert embeddings.base64_matches_float(as_float, as_base64) == []


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("bodies/embeddings_base64_float64.json", "it is the vector as little-endian float64"),
        ("bodies/embeddings_base64_big_endian.json", "it is the vector as big-endian float32"),
        (ANSWER, "Received: [0.02319999970495701"),
    ],
)
def test_base64_that_does_not_decode_to_the_vector_is_flagged(name: str, said: str) -> None:
    as_float = _embeddings(ANSWER, encoding_format="float")
    findings = embeddings.base64_matches_float(as_float, _base64(name))
    assert summary(findings) == [("openai.embeddings.base64", "must", "/data/0/embedding")]
    assert said in findings[0].message


# --- paraphrase_closer --------------------------------------------------------------------------


def test_a_paraphrase_closer_than_an_unrelated_sentence_passes() -> None:
    anchor, paraphrase, unrelated = (
        _embeddings(n)
        for n in (ANSWER, "bodies/embeddings_paraphrase.json", "bodies/embeddings_unrelated.json")
    )
    assert embeddings.paraphrase_closer(anchor, paraphrase, unrelated) == []


def test_the_same_vector_for_every_text_is_flagged() -> None:
    same = [_embeddings(ANSWER) for _ in range(3)]
    findings = embeddings.paraphrase_closer(*same)
    assert summary(findings) == [("openai.embeddings.semantic", "must", "/data/0/embedding")]
    assert "paraphrase 1.000; unrelated 1.000" in findings[0].message


def test_an_unrelated_sentence_closer_than_the_paraphrase_is_flagged() -> None:
    anchor, paraphrase, unrelated = (
        _embeddings(n)
        for n in (ANSWER, "bodies/embeddings_unrelated.json", "bodies/embeddings_paraphrase.json")
    )
    assert embeddings.paraphrase_closer(anchor, paraphrase, unrelated)


# --- too_long_input_refused ---------------------------------------------------------------------


def test_a_too_long_input_refused_passes() -> None:
    refused = http_exchange(read("error_envelope.json"), status=400, request=_request(), url=URL)
    assert embeddings.too_long_input_refused(refused, 40_000) == []


def test_a_too_long_input_embedded_is_flagged() -> None:
    findings = embeddings.too_long_input_refused(_embeddings(ANSWER), 40_000)
    assert summary(findings) == [("openai.embeddings.input-too-long", "should", "")]
    assert "HTTP 200 with an embedding, 7 prompt tokens counted" in findings[0].message
