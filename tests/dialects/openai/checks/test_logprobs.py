"""Checks of log probabilities (chatconform.dialects.openai.checks.logprobs)."""

from __future__ import annotations

import pytest
from check_helpers import json_exchange, summary

from chatconform.dialects.openai.checks import logprobs

WHERE = "/choices/0/logprobs"


def test_log_probabilities_as_requested_pass() -> None:
    assert logprobs.logprobs_as_requested(json_exchange("bodies/response_logprobs.json"), 2) == []


@pytest.mark.parametrize(
    ("name", "location", "said"),
    [
        ("bodies/response_logprobs_positive.json", f"{WHERE}/content", "logprob 0.99"),
        ("bodies/response_logprobs_null.json", WHERE, "None"),
        (
            "bodies/response_logprobs_top_ignored.json",
            f"{WHERE}/content",
            "no token has top_logprobs",
        ),
        ("bodies/response_logprobs_bytes_wrong.json", f"{WHERE}/content", "not its UTF-8 bytes"),
    ],
)
def test_each_problem_is_one_finding(name: str, location: str, said: str) -> None:
    findings = logprobs.logprobs_as_requested(json_exchange(name), 2)
    assert summary(findings) == [("openai.logprobs.valid", "must", location)]
    assert said in findings[0].message


def test_a_character_split_between_tokens_is_official_not_a_deviation() -> None:
    """OpenAI gives the tokens of a part of a character as "bytes:\\xe2\\x82" with the raw
    bytes: they spell the content only joined with the next token's."""
    exchange = json_exchange("bodies/response_logprobs_character_split.json")
    assert logprobs.logprobs_as_requested(exchange, 2) == []


def test_more_alternatives_than_asked_is_flagged() -> None:
    findings = logprobs.logprobs_as_requested(json_exchange("bodies/response_logprobs.json"), 1)
    assert "at most 1 asked" in findings[0].message
