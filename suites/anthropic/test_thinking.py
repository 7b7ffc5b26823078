"""Extended thinking: signed thinking blocks, streamed as thinking and signature deltas,
carried back into the next turn of a tool loop. Run when a thinking model is configured
(models.thinking of the anthropic dialect)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chatconform.case import CaseRecord, case
from chatconform.dialects.anthropic.checks import message, semantics
from chatconform.dialects.anthropic.checks import thinking as checks
from chatconform.dialects.anthropic.checks import tools as tool_checks
from chatconform.dialects.anthropic.probe import AnthropicProbe
from chatconform.dialects.anthropic.requests import assistant_turn, message_body, tool_body
from chatconform.exchange import Exchange
from chatconform.finding import Finding
from chatconform.prompts import prompt
from chatconform.tool_probes import tool_probe

GUIDE = "https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking"
CAPABILITY = "thinking"
BUDGET = 1024
MAX_TOKENS = 2048
THINKING = {"type": "enabled", "budget_tokens": BUDGET}


def _send(anthropic: AnthropicProbe, case: CaseRecord, body: dict[str, Any]) -> Exchange:
    exchange = anthropic.messages(body)
    anthropic.expect_success(exchange)
    if exchange.streamed:
        anthropic.check_stream(exchange)
        case.add(checks.thinking_streamed(exchange), exchange)
    case.add(checks.thinking_block_present(exchange), exchange)
    case.add(checks.thinking_signed(exchange), exchange)
    case.add(message.usage_plausible(exchange, MAX_TOKENS), exchange)
    return exchange


@case(
    "anthropic/thinking/signed-blocks",
    title="Thinking comes as signed thinking blocks",
    requirement="With thinking enabled, the answer starts with thinking blocks whose signature is non-empty; streamed, as thinking_delta and signature_delta; output within max_tokens.",
    source=GUIDE,
)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_signed_blocks(anthropic: AnthropicProbe, case: CaseRecord, stream: bool) -> None:
    p = prompt("arithmetic")
    body = message_body(p, anthropic.model(CAPABILITY), MAX_TOKENS, thinking=THINKING)
    if stream:
        body["stream"] = True

    def attempt() -> list[Finding]:
        return semantics.answers_trivial_prompt(_send(anthropic, case, body), p.accept)

    case.until_accepted(attempt, anthropic.calibration(CAPABILITY))


@case(
    "anthropic/thinking/tool-loop",
    title="Signed thinking blocks are accepted back in a tool loop",
    requirement="The thinking blocks of a tool-use turn, sent back unchanged with the tool_result, are accepted, and the answer uses the result.",
    source=f"{GUIDE}#extended-thinking-with-tool-use",
    round_trips=2,
)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_tool_loop(anthropic: AnthropicProbe, case: CaseRecord, stream: bool) -> None:
    probe = tool_probe("round_trip")
    body = tool_body(probe, anthropic.model(CAPABILITY), MAX_TOKENS, thinking=THINKING)
    if stream:
        body["stream"] = True

    def attempt() -> list[Finding]:
        first = _send(anthropic, case, body)
        # What cannot be sent back as it came stops the case: the next turn would be
        # refused for it, and blamed on the provider twice.
        unusable = (*tool_checks.UNREADABLE, tool_checks.tool_use_fields)
        if [f for run in unusable for f in case.add(run(first), first)]:
            case.broken("the tool_use blocks cannot be sent back as they came (see findings)")
        if checks.thinking_block_present(first) or checks.thinking_signed(first):
            case.broken("the thinking blocks cannot be sent back as they came (see findings)")
        made = semantics.expected_calls_made(first, probe.expect)
        if made:
            return case.tie(made, first)
        blocks = [block for _, block in message.content_blocks(first)]
        results = [
            {"type": "tool_result", "tool_use_id": b["id"], "content": json.dumps(probe.result)}
            for b in blocks
            if b.get("type") == "tool_use"
        ]
        messages = [
            *body["messages"],
            assistant_turn(blocks),
            {"role": "user", "content": results},
        ]
        second = _send(anthropic, case, {**body, "messages": messages})
        return case.tie(semantics.tool_result_used(second, probe.accept), second)

    case.until_accepted(attempt, anthropic.calibration(CAPABILITY))
