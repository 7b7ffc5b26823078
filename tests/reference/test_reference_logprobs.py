"""The reference's log probabilities, and several choices streamed together."""

from __future__ import annotations

import math

from reference_helpers import Api

QUESTION = [{"role": "user", "content": "Count from 1 to 3."}]


def test_logprobs_list_every_token_with_its_alternatives(api: Api) -> None:
    choice = api.chat(QUESTION, logprobs=True, top_logprobs=3).json()["choices"][0]
    content = choice["logprobs"]["content"]
    assert "".join(entry["token"] for entry in content) == choice["message"]["content"]
    for entry in content:
        assert entry["logprob"] <= 0
        assert bytes(entry["bytes"]).decode() == entry["token"]
        alternatives = entry["top_logprobs"]
        assert alternatives[0]["token"] == entry["token"]
        assert len({a["token"] for a in alternatives}) == 3
        assert sum(math.exp(a["logprob"]) for a in alternatives) <= 1


def test_without_logprobs_they_are_null(api: Api) -> None:
    assert api.chat(QUESTION).json()["choices"][0]["logprobs"] is None


def test_streamed_logprobs_ride_on_each_content_chunk(api: Api) -> None:
    for chunk in api.chunks(QUESTION, logprobs=True, top_logprobs=1):
        for choice in chunk["choices"]:
            if choice["delta"].get("content"):
                (entry,) = choice["logprobs"]["content"]
                assert entry["token"] == choice["delta"]["content"]


def test_two_streamed_choices_interleave_by_index(api: Api) -> None:
    chunks = api.chunks(QUESTION, n=2)
    order = [c["choices"][0]["index"] for c in chunks]
    assert order[:4] == [0, 1, 0, 1]
    for index in (0, 1):
        texts = [
            c["choices"][0]["delta"].get("content") or ""
            for c in chunks
            if c["choices"][0]["index"] == index
        ]
        assert "".join(texts) == "1 2 3"
        finishes = [
            c["choices"][0]["finish_reason"] for c in chunks if c["choices"][0]["index"] == index
        ]
        assert [f for f in finishes if f] == ["stop"]
