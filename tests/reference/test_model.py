"""The deterministic model: probe answers, rules, tokenizer and prompt token counts."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from chatconform.reference.model import (
    DEFAULT_ANSWER,
    UNKNOWN_COLOUR,
    prompt_tokens,
    respond,
    token_pieces,
    tokens,
)

PROMPTS_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "prompts.toml"
PROMPTS: dict[str, Any] = tomllib.loads(PROMPTS_PATH.read_text(encoding="utf-8"))


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


@pytest.mark.parametrize("name", sorted(PROMPTS))
def test_answers_every_probe_with_an_accepted_answer(name: str) -> None:
    probe = PROMPTS[name]
    answer = respond(probe["messages"])
    assert any(accepted.lower() in answer.lower() for accepted in probe["accept"]), answer
    assert answer != DEFAULT_ANSWER


CONTROLS = sorted(name for name, probe in PROMPTS.items() if "control" in probe)


@pytest.mark.parametrize("name", CONTROLS)
def test_answers_the_plain_version_of_every_semantic_probe(name: str) -> None:
    probe = PROMPTS[name]
    answer = respond(probe["control"]["messages"])
    assert any(accepted.lower() in answer.lower() for accepted in probe["accept"]), answer


def test_a_tool_result_pasted_as_text_is_answered_from() -> None:
    answer = respond([user('The service says: {"city": "Paris", "temperature": 17.3}. Weather?')])
    assert "temperature 17.3" in answer


def test_the_plain_instruction_does_not_leak_into_a_message_without_one() -> None:
    # The system-prompt-dropped fault leaves only this: it must not be answered "kiwi".
    assert respond([user("Hello! How are you today?")]) == DEFAULT_ANSWER


def test_fixture_file_has_probes() -> None:
    assert len(PROMPTS) >= 6


@pytest.mark.parametrize("role", ["system", "developer"])
def test_instructed_word_comes_from_system_or_developer(role: str) -> None:
    messages = [
        {"role": role, "content": 'Always REPLY WITH EXACTLY ONE WORD: "Papaya".'},
        user("What is 2 + 2?"),
    ]
    assert respond(messages) == "Papaya"


def test_an_instruction_in_the_last_user_message_is_followed_as_a_real_model_would() -> None:
    # The plain version (control) of the system-prompt probe depends on this.
    assert respond([user("Reply with exactly one word: kiwi")]) == "kiwi"
    earlier = [user("Reply with exactly one word: kiwi"), user("Hello!")]
    assert respond(earlier) == DEFAULT_ANSWER, "only the message being answered instructs"


def test_favourite_colour_unknown_without_earlier_statement() -> None:
    assert respond([user("What is my favourite colour?")]) == UNKNOWN_COLOUR


def test_favourite_colour_ignores_assistant_claims_and_takes_latest() -> None:
    messages = [
        user("My favourite colour is red."),
        {"role": "assistant", "content": "Sure, my favourite colour is blue."},
        user("Actually my favorite color is green."),
        user("What is my favourite colour?"),
    ]
    assert respond(messages) == "green"


@pytest.mark.parametrize(
    ("prompt", "answer"),
    [
        ("Count from 3 to 6", "3 4 5 6"),
        ("please count from 5 to 2.", "5 4 3 2"),
        ("Count from 7 to 7", "7"),
    ],
)
def test_counting(prompt: str, answer: str) -> None:
    assert respond([user(prompt)]) == answer


def test_counting_is_bounded() -> None:
    assert len(tokens(respond([user("Count from 1 to 1000000000")]))) == 1000


@pytest.mark.parametrize(
    ("prompt", "answer"),
    [
        ("What is 2 + 3?", "5"),
        ("what is 10 - 12", "-2"),
        ("What is 6 * 7?", "42"),
        ("What is 6 × 7?", "42"),
        ("What is -4 + 1?", "-3"),
    ],
)
def test_arithmetic(prompt: str, answer: str) -> None:
    assert respond([user(prompt)]) == answer


def test_only_the_last_user_message_is_a_question() -> None:
    messages = [user("What is 2 + 3?"), {"role": "assistant", "content": "5"}, user("Thanks!")]
    assert respond(messages) == DEFAULT_ANSWER


def test_non_text_parts_are_ignored() -> None:
    content = [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "text", "text": "What is 2 * 3?"},
    ]
    assert respond([{"role": "user", "content": content}]) == "6"


def test_default_answer_for_anything_else() -> None:
    assert respond([user("Tell me a story.")]) == DEFAULT_ANSWER
    assert respond([]) == DEFAULT_ANSWER


def test_tokens_are_words_with_leading_whitespace() -> None:
    assert tokens("1 2 3") == ["1", " 2", " 3"]
    assert tokens("  Hello,  world!") == ["  Hello,", "  world!"]
    assert "".join(tokens(DEFAULT_ANSWER)) == DEFAULT_ANSWER
    assert tokens("") == []


def test_token_pieces_join_to_the_exact_text() -> None:
    assert token_pieces("1 2 ") == ["1", " 2 "]
    assert token_pieces("   ") == ["   "]
    assert token_pieces("") == []


def test_prompt_tokens_count_words_punctuation_and_messages() -> None:
    assert prompt_tokens([user("Hi, you!")]) == 3 + 4
    parts = [{"type": "text", "text": "a b"}, {"type": "image_url", "image_url": {"url": "x"}}]
    assert prompt_tokens([user("x"), {"role": "user", "content": parts}]) == (3 + 1) + (3 + 2)
    assert prompt_tokens([]) == 0
