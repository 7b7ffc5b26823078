"""What Claude Code sends, replayed step by step, and what each step needs to work.

Claude Code (Anthropic's CLI) drives the Messages API in its own way: the beta
endpoint (``?beta=true``) with ``anthropic-beta`` features, system prompt blocks with
``cache_control``, ``metadata.user_id``, every turn streamed with tools, thinking
blocks carried between turns, tool results (errors included), and
``/v1/messages/count_tokens``. A relay that breaks any of these breaks the CLI, often
by hanging it. The profile judges each step with the dialect's checks and reports
the first step that breaks, with the rules that say why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from chatconform.check import Violation, check, expected
from chatconform.dialects.anthropic.checks import streaming, thinking, tools
from chatconform.exchange import Exchange
from chatconform.finding import Finding
from chatconform.schemas import schema_errors

QUERY = "?beta=true"
BETAS = (
    "claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14"
)
HEADERS: dict[str, str | None] = {
    "anthropic-beta": BETAS,
    "x-app": "cli",
    "user-agent": "claude-cli/2.0.0 (external, cli)",
    "anthropic-dangerous-direct-browser-access": "true",
}
SYSTEM = [
    {
        "type": "text",
        "text": "You are Claude Code, Anthropic's official CLI for Claude.",
        "cache_control": {"type": "ephemeral"},
    },
    {
        "type": "text",
        "text": "You are an interactive CLI tool that helps users with software engineering tasks. "
        "Use the tools available to you to answer the user.",
        "cache_control": {"type": "ephemeral"},
    },
]
METADATA = {
    "user_id": "user_0000000000000000000000000000000000000000000000000000000000000000"
    "_account__session_00000000-0000-4000-8000-000000000000"
}
# Claude Code's own cap; the profile's probes stop long before it.
MAX_TOKENS = 1024
THINKING_BUDGET = 1024
# What makes a stream unusable to the SDK the CLI is built on, which dispatches on
# event names and accumulates blocks by index.
STREAM_RULES: tuple[Callable[[Exchange], list[Finding]], ...] = (
    streaming.content_type_is_event_stream,
    streaming.events_are_json,
    streaming.no_error_event,
    streaming.stream_not_truncated,
    streaming.event_names_match,
    streaming.event_order,
    streaming.block_indices_contiguous,
    streaming.block_lifecycle,
    *tools.UNREADABLE,
    # The CLI sends each tool_use back with its result, by id.
    tools.tool_use_fields,
    tools.stop_reason_tool_use,
    # An unsigned thinking block is refused when the CLI sends it back next turn.
    thinking.thinking_signed,
)


@dataclass(frozen=True)
class Step:
    number: int
    name: str


COUNT_TOKENS = Step(1, "count_tokens of the conversation")
TOOL_CALL = Step(2, "a streamed turn that calls a tool")
TOOL_RESULT = Step(3, "a streamed turn after the tool result (thinking carried back)")
ERROR_RESULT = Step(4, "a streamed turn after a tool result with is_error")


def body(
    model: str, messages: list[dict[str, Any]], tools_: list[dict[str, Any]], thinking: bool
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "model": model,
        "max_tokens": MAX_TOKENS,
        "system": SYSTEM,
        "messages": messages,
        "tools": tools_,
        "metadata": METADATA,
        "stream": True,
        "temperature": 1,
    }
    if thinking:
        # The smallest budget the API allows, below max_tokens as it requires.
        request["thinking"] = {"type": "enabled", "budget_tokens": THINKING_BUDGET}
        request["max_tokens"] = THINKING_BUDGET + MAX_TOKENS
        # Thinking requires temperature 1, which is what the CLI sends anyway.
    return request


def count_tokens_problem(exchange: Exchange) -> str | None:
    """Why a count_tokens answer is unusable, or None."""
    if not 200 <= (exchange.status or 0) < 300:
        return None  # the status is judged like every step's
    problems = schema_errors("anthropic", "count_tokens", exchange.json_or_none())
    if problems:
        pointer, message = problems[0]
        return f"the answer is not {{input_tokens}}: {pointer or '/'}: {message}"
    return None


def stream_problems(exchange: Exchange) -> list[Finding]:
    """What in a streamed answer the CLI cannot use, as the dialect's findings."""
    return [f for run in STREAM_RULES for f in run(exchange)]


@check("anthropic.claude-code.ready")
def step_works(
    exchange: Exchange, step: Step, why: str | None, findings: Sequence[Finding] = ()
) -> Iterator[Violation]:
    """Each step of Claude Code's use of the Messages API works (LLM gateway guide).

    ``why`` is what broke the step (None when nothing did); ``findings`` the dialect's
    findings that show it, named in the message rather than reported again.
    """
    if why is None:
        return
    detail = ""
    if findings:
        rules = ", ".join(sorted({f.rule for f in findings}))
        detail = f" ({rules}: {findings[0].message.splitlines()[-1]})"
    yield Violation(
        expected(
            "every step of the profile to work",
            f"step {step.number} ({step.name}) breaks: {why}{detail}",
        ),
        evidence=exchange.excerpt(),
    )
