"""The deterministic rule-based model that answers the reference provider's requests."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chatconform.reference.vision import Sight, answer_about_images, sights_in

DEFAULT_ANSWER = "Hello! I am the chatconform reference model."
UNKNOWN_COLOUR = "I don't know your favourite colour."
UNKNOWN_CODE_WORD = "I don't know the code word."
# Keeps a "count from 1 to 1e9" prompt from building a gigabyte answer.
MAX_COUNT = 1000

_TOKEN = re.compile(r"\s*\S+")
_PROMPT_UNIT = re.compile(r"\w+|[^\w\s]")
_ONE_WORD = re.compile(r"reply with exactly one word\s*:\s*[\"'“‘]?([^\s\"'”’.,;:!?]+)", re.I)
_COLOUR_QUESTION = re.compile(r"what\s+is\s+my\s+favou?rite\s+colou?r", re.I)
_COLOUR_STATEMENT = re.compile(r"my\s+favou?rite\s+colou?r\s+is\s+([A-Za-z][A-Za-z-]*)", re.I)
_CODE_WORD_QUESTION = re.compile(r"what\s+is\s+the\s+code\s+word", re.I)
_CODE_WORD_STATEMENT = re.compile(r"code\s+word\s+is\s+[\"'“‘]?([\w-]+)", re.I)
_COUNT = re.compile(r"count\s+from\s+(-?\d+)\s+to\s+(-?\d+)", re.I)
_JSON_OBJECT = re.compile(r"\{[^{}]*\}")
_ARITHMETIC = re.compile(r"what\s+is\s+(-?\d+)\s*([+\-*×])\s*(-?\d+)", re.I)


@dataclass(frozen=True)
class Turn:
    """One message as the model reads it: its role, its text, what it saw in its images."""

    role: str
    text: str
    images: tuple[Sight, ...] = ()


Rule = Callable[[Sequence[Turn]], str | None]


def tokens(text: str) -> list[str]:
    """Each word with its leading whitespace: "1 2 3" is three tokens."""
    return _TOKEN.findall(text)


def token_pieces(text: str) -> list[str]:
    """``tokens(text)``, any trailing whitespace kept on the last piece: they join to text."""
    pieces = tokens(text)
    rest = text[len("".join(pieces)) :]
    if rest and pieces:
        pieces[-1] += rest
    elif rest:
        pieces = [rest]
    return pieces


def message_text(message: Any) -> str:
    """The text of a message: string content, or its text parts joined by newlines."""
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            part["text"]
            for part in content
            if isinstance(part, dict)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
        ]
        return "\n".join(texts)
    return ""


def prompt_units(text: str) -> int:
    """The words and punctuation marks of a text: what a prompt is counted in."""
    return len(_PROMPT_UNIT.findall(text))


def prompt_tokens(messages: list[dict]) -> int:
    """3 per message plus one per word or punctuation mark in its text."""
    return sum(3 + prompt_units(message_text(message)) for message in messages)


def conversation(messages: list[dict]) -> list[Turn]:
    return [
        Turn(
            role=str(message.get("role", "")), text=message_text(message), images=sights_in(message)
        )
        for message in messages
        if isinstance(message, dict)
    ]


def _last_user(turns: Sequence[Turn]) -> int | None:
    for position in range(len(turns) - 1, -1, -1):
        if turns[position].role == "user":
            return position
    return None


def _instructed_word(turns: Sequence[Turn]) -> str | None:
    """An instruction to reply with one word: from a system or developer message, or
    given plainly in the last user message."""
    last = _last_user(turns)
    instructing = [t for t in turns if t.role in ("system", "developer")]
    if last is not None:
        instructing.append(turns[last])
    for turn in reversed(instructing):
        match = _ONE_WORD.search(turn.text)
        if match:
            return match.group(1)
    return None


def _favourite_colour(turns: Sequence[Turn]) -> str | None:
    last = _last_user(turns)
    if last is None or not _COLOUR_QUESTION.search(turns[last].text):
        return None
    # The statement may come in an earlier turn, or before the question in the same one.
    for turn in reversed(turns[: last + 1]):
        match = _COLOUR_STATEMENT.search(turn.text) if turn.role == "user" else None
        if match:
            return match.group(1)
    return UNKNOWN_COLOUR


def _code_word(turns: Sequence[Turn]) -> str | None:
    """ "What is the code word?" is answered with the word that follows "code word is" in the
    conversation: in the question's own turn (a document read into it) or an earlier one."""
    last = _last_user(turns)
    if last is None or not _CODE_WORD_QUESTION.search(turns[last].text):
        return None
    for turn in reversed(turns[: last + 1]):
        match = _CODE_WORD_STATEMENT.search(turn.text)
        if match:
            return match.group(1)
    return UNKNOWN_CODE_WORD


def _count(turns: Sequence[Turn]) -> str | None:
    last = _last_user(turns)
    match = _COUNT.search(turns[last].text) if last is not None else None
    if not match:
        return None
    start, end = int(match.group(1)), int(match.group(2))
    step = 1 if end >= start else -1
    numbers = range(start, end + step, step)[:MAX_COUNT]
    return " ".join(str(number) for number in numbers)


def _arithmetic(turns: Sequence[Turn]) -> str | None:
    last = _last_user(turns)
    match = _ARITHMETIC.search(turns[last].text) if last is not None else None
    if not match:
        return None
    left, operator, right = int(match.group(1)), match.group(2), int(match.group(3))
    if operator == "+":
        return str(left + right)
    if operator == "-":
        return str(left - right)
    return str(left * right)


def _describe_result(text: str) -> str:
    try:
        result = json.loads(text)
    except ValueError:
        return text
    if isinstance(result, dict):
        return ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in result.items())
    return text


def _tool_results(turns: Sequence[Turn]) -> str | None:
    """After tool calls, the answer reports what the tools returned; images they returned
    answer the question that called for them as the user's own images would."""
    results = []
    images: tuple[Sight, ...] = ()
    end = len(turns)
    # The Messages API lets the user's question follow the results in the same turn.
    if end > 1 and turns[-1].role == "user" and turns[-2].role == "tool":
        end -= 1
    for turn in reversed(turns[:end]):
        if turn.role != "tool":
            break
        results.insert(0, _describe_result(turn.text))
        images = turn.images + images
    last = _last_user(turns)
    if images and last is not None:
        seen = answer_about_images([Turn("user", turns[last].text, images)])
        if seen is not None:
            return seen
    return "The tools returned: " + "; ".join(results) + "." if results else None


def _reported_facts(turns: Sequence[Turn]) -> str | None:
    """A question about facts given as a JSON object in the same user message (a tool
    result pasted as text) is answered from them."""
    last = _last_user(turns)
    match = _JSON_OBJECT.search(turns[last].text) if last is not None else None
    if not match:
        return None
    try:
        facts = json.loads(match.group(0))
    except ValueError:
        return None
    return f"It reports: {_describe_result(match.group(0))}." if isinstance(facts, dict) else None


# Tried in order; the first rule with an answer wins. New capabilities (images, tools)
# add a rule here rather than special-casing any probe.
RULES: list[Rule] = [
    _instructed_word,
    _tool_results,
    _reported_facts,
    answer_about_images,
    _favourite_colour,
    _code_word,
    _count,
    _arithmetic,
]


def respond(messages: list[dict]) -> str:
    """The answer to a conversation, from its content alone."""
    turns = conversation(messages)
    for rule in RULES:
        answer = rule(turns)
        if answer is not None:
            return answer
    return DEFAULT_ANSWER
