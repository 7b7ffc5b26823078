"""Claude Code readiness: the CLI's way of using the Messages API, replayed step by step.

One case, one line: ready, or the first step that breaks the CLI and why.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from chatconform.case import CaseRecord, case
from chatconform.dialects.anthropic import claude_code as profile
from chatconform.dialects.anthropic.checks import semantics
from chatconform.dialects.anthropic.probe import MESSAGES, AnthropicProbe
from chatconform.dialects.anthropic.requests import assistant_turn, conversation, tool_definition
from chatconform.dialects.anthropic.stream import parse
from chatconform.exchange import Exchange
from chatconform.finding import Finding
from chatconform.probe import NOT_A_REFUSAL, TRANSIENT
from chatconform.tool_probes import tool_probe

CAPABILITY = "claude_code"


class Replay:
    """The profile's steps against one provider, stopping the case at the first that breaks."""

    def __init__(self, anthropic: AnthropicProbe, case: CaseRecord) -> None:
        self.anthropic = anthropic
        self.case = case

    def send(self, step: profile.Step, path: str, request: dict[str, Any]) -> Exchange:
        """One step's request; the transport and status policy of every case applies: an
        outage, a redirect or refused credentials cannot be judged, a 5xx is sent again."""
        url = path + profile.QUERY
        exchange = self.anthropic.messages(
            request, headers=profile.HEADERS, path=url, valid=path == MESSAGES
        )
        status = exchange.status or 0
        where = f"step {step.number} ({step.name})"
        if status in TRANSIENT or status in NOT_A_REFUSAL or 300 <= status < 400:
            self.case.inconclusive(
                f"{where}: HTTP {status}, not judged: {self.anthropic.error_message(exchange)}"
            )
        if status >= 500:
            again = self.anthropic.messages(
                request, headers=profile.HEADERS, path=url, valid=path == MESSAGES
            )
            if not (again.status or 0) >= 500:
                self.case.inconclusive(
                    f"{where}: HTTP {status}, then HTTP {again.status}: a transient failure"
                )
        if not 200 <= status < 300:
            self.breaks(step, exchange, f"HTTP {status}: {self.anthropic.error_message(exchange)}")
        return exchange

    def breaks(
        self, step: profile.Step, exchange: Exchange, why: str, findings: Sequence[Finding] = ()
    ) -> None:
        self.case.add(profile.step_works(exchange, step, why, findings), exchange)
        self.case.broken(
            f"not ready for Claude Code: step {step.number} ({step.name}) breaks: {why}"
        )

    def streamed(self, step: profile.Step, request: dict[str, Any]) -> Exchange:
        exchange = self.send(step, MESSAGES, request)
        problems = profile.stream_problems(exchange)
        if problems:
            self.breaks(
                step, exchange, "the stream is unusable to the SDK the CLI is built on", problems
            )
        return exchange


@case(
    "anthropic/claude_code/ready",
    title="Claude Code works against this provider",
    requirement="Claude Code's requests work: count_tokens; streamed turns on /v1/messages?beta=true with anthropic-beta, cache_control system blocks, metadata.user_id and tools; thinking blocks carried back; tool results, errors included.",
    source="https://docs.anthropic.com/en/docs/claude-code/llm-gateway",
    round_trips=4,
)
def test_ready(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    model = anthropic.model(CAPABILITY)
    # The CLI thinks when its model can: where that model is the configured thinking one.
    thinking = anthropic.spoken.model_for("thinking") == model
    probe = tool_probe("round_trip")
    tools = [tool_definition(name) for name in probe.tools]
    _, messages = conversation(probe.messages)
    replay = Replay(anthropic, case)
    request = profile.body(model, messages, tools, thinking=thinking)

    counted = replay.send(
        profile.COUNT_TOKENS,
        f"{MESSAGES}/count_tokens",
        {k: request[k] for k in ("model", "system", "messages", "tools")},
    )
    problem = profile.count_tokens_problem(counted)
    if problem:
        replay.breaks(profile.COUNT_TOKENS, counted, problem)

    def attempt() -> list[Finding]:
        first = replay.streamed(profile.TOOL_CALL, request)
        if semantics.expected_calls_made(first, probe.expect):
            # The CLI cannot go on without the call: the profile's one finding says so.
            why = "the model did not call the tool the question needs"
            return case.tie(profile.step_works(first, profile.TOOL_CALL, why), first)
        blocks = parse(first).accumulate().get("content") or []
        uses = [b for b in blocks if b.get("type") == "tool_use"]
        answered = [*messages, assistant_turn(blocks)]
        result = [
            {"type": "tool_result", "tool_use_id": b["id"], "content": json.dumps(probe.result)}
            for b in uses
        ]
        replay.streamed(
            profile.TOOL_RESULT,
            {**request, "messages": [*answered, {"role": "user", "content": result}]},
        )
        failed = [
            {**r, "content": "Error: the weather service is unavailable", "is_error": True}
            for r in result
        ]
        replay.streamed(
            profile.ERROR_RESULT,
            {**request, "messages": [*answered, {"role": "user", "content": failed}]},
        )
        return []

    # Whether the model calls the tool is a semantic claim: made only of a model that answers.
    case.until_accepted(attempt, anthropic.calibration(CAPABILITY))
    case.note("ready: every step of the Claude Code profile worked")
