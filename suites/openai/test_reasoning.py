"""OpenAI Chat Completions with a reasoning model: effort, hidden reasoning and its tokens, streams."""

from __future__ import annotations

from typing import Any

import pytest

from chatconform.case import CaseRecord, case
from chatconform.dialects.openai.checks import reasoning
from chatconform.dialects.openai.checks.text import answer_text, finish_reasons
from chatconform.dialects.openai.probe import OpenAIProbe
from chatconform.dialects.openai.requests import chat_body
from chatconform.dialects.openai.stream import parse
from chatconform.exchange import Exchange
from chatconform.prompts import prompt

GUIDE = "https://platform.openai.com/docs/guides/reasoning"
API = "https://platform.openai.com/docs/api-reference/chat/create"
# Room to think before answering: reasoning spends the cap first, and a model that
# spends all of it answers nothing.
TOKENS = 1024


def _ask(openai: OpenAIProbe, case: CaseRecord, **params: Any) -> Exchange:
    """A trivial question to the reasoning model, judged on where its reasoning went.

    No temperature: reasoning models take only the default.
    """
    body = chat_body(prompt("arithmetic"), openai.model("reasoning"), max_tokens=TOKENS, **params)
    exchange = openai.chat(body)
    openai.expect_success(exchange)
    if exchange.streamed:
        openai.check_stream(exchange)
    if finish_reasons(exchange)[:1] == ["length"] and not answer_text(exchange):
        case.inconclusive(f"the reasoning used the whole cap ({TOKENS} tokens): no answer to judge")
    case.add(reasoning.reasoning_fields_reported(exchange), exchange)
    case.add(reasoning.reasoning_not_in_content(exchange), exchange)
    usage = (
        parse(exchange).usage()
        if exchange.streamed
        else (exchange.json_or_none() or {}).get("usage")
    )
    case.add(reasoning.reasoning_tokens_counted(exchange, usage), exchange)
    return exchange


@case(
    "openai/reasoning/answer",
    title="The answer is content alone; the reasoning is counted",
    requirement="A reasoning model's content is its answer; its reasoning is hidden (or in a field of its own) and counted in usage.completion_tokens_details.reasoning_tokens, within completion_tokens.",
    source=GUIDE,
)
def test_answer(openai: OpenAIProbe, case: CaseRecord) -> None:
    _ask(openai, case)


@case(
    "openai/reasoning/effort",
    title="reasoning_effort is accepted (or refused cleanly)",
    requirement="reasoning_effort low, medium or high is accepted by a reasoning model, or refused with a 4xx.",
    source=f"{API}#chat-create-reasoning_effort",
    optional="reasoning_effort",
)
@pytest.mark.parametrize("effort", ["low", "medium", "high"])
def test_effort(openai: OpenAIProbe, case: CaseRecord, effort: str) -> None:
    _ask(openai, case, reasoning_effort=effort)


@case(
    "openai/reasoning/streamed",
    title="Streamed reasoning comes before the answer",
    requirement="Streamed, a reasoning model's content deltas carry the answer alone; reasoning deltas, where a vendor streams them, come before the first content delta.",
    source=GUIDE,
)
def test_streamed(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = _ask(openai, case, stream=True)
    case.add(reasoning.reasoning_before_content(exchange), exchange)
