"""Request bodies of the OpenAI dialect (chatconform.dialects.openai.requests)."""

from __future__ import annotations

from chatconform.dialects.openai.requests import chat_body, with_token_param
from chatconform.prompts import prompt


def test_the_cap_moves_to_max_completion_tokens_in_place() -> None:
    body = chat_body(prompt("arithmetic"), "o4-mini", max_tokens=16, temperature=0)
    moved = with_token_param(body, "max_completion_tokens")
    assert list(moved) == ["model", "messages", "max_completion_tokens", "temperature"]
    assert moved["max_completion_tokens"] == 16
    assert "max_tokens" in body, "the body given is not changed"


def test_max_tokens_stays_where_the_provider_takes_it_or_both_are_given() -> None:
    body = chat_body(prompt("arithmetic"), "m", max_tokens=16)
    assert with_token_param(body, "max_tokens") is body
    both = {**body, "max_completion_tokens": 8}
    assert with_token_param(both, "max_completion_tokens") is both
