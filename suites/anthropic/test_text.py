"""Anthropic Messages, non-streamed text: answers, system prompts, turns, caps, stops, usage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chatconform.case import CaseRecord, Control, case
from chatconform.dialects.anthropic.checks import message as checks
from chatconform.dialects.anthropic.checks import semantics
from chatconform.dialects.anthropic.checks import usage as usage_checks
from chatconform.dialects.anthropic.probe import AnthropicProbe, over_cap
from chatconform.dialects.anthropic.requests import message_body, text_block
from chatconform.exchange import Exchange
from chatconform.finding import Finding
from chatconform.prompts import Prompt, prompt

API = "https://docs.anthropic.com/en/api/messages"
CAPABILITY = "text"
# Numbers the counting probe writes after the stop sequence "5".
AFTER_STOP = tuple(str(n) for n in range(6, 31))


def _semantic(
    anthropic: AnthropicProbe,
    case: CaseRecord,
    body: dict[str, Any],
    check: Callable[..., list[Finding]],
    accept: tuple[str, ...],
    control: Control | None,
) -> None:
    def attempt() -> list[Finding]:
        exchange = anthropic.messages(body)
        anthropic.expect_success(exchange)
        return check(exchange, accept)

    case.until_accepted(attempt, control)


def _plain(anthropic: AnthropicProbe, p: Prompt) -> dict[str, Any]:
    return message_body(p, anthropic.model(CAPABILITY), 16, temperature=0)


@case(
    "anthropic/text/basic-answer",
    title="A trivial prompt is answered",
    requirement="The message answers the user's turn.",
    source=API,
)
def test_basic_answer(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    p = prompt("arithmetic")
    # This case is the calibration of the others: it has no control of its own.
    _semantic(
        anthropic, case, _plain(anthropic, p), semantics.answers_trivial_prompt, p.accept, None
    )


@case(
    "anthropic/text/system-string",
    title="A system prompt given as a string is obeyed",
    requirement="system, a string, gives instructions the model follows.",
    source=f"{API}#body-system",
)
def test_system_string(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    p = prompt("system_codeword")
    control = anthropic.control(p.control, CAPABILITY)
    _semantic(
        anthropic, case, _plain(anthropic, p), semantics.follows_system_prompt, p.accept, control
    )


@case(
    "anthropic/text/system-blocks",
    title="A system prompt given as text blocks is obeyed",
    requirement="system may be an array of text blocks (with cache_control); the model follows them.",
    source=f"{API}#body-system",
)
def test_system_blocks(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    p = prompt("system_codeword")
    body = _plain(anthropic, p)
    body["system"] = [{**text_block(body["system"]), "cache_control": {"type": "ephemeral"}}]
    control = anthropic.control(p.control, CAPABILITY)
    _semantic(anthropic, case, body, semantics.follows_system_prompt, p.accept, control)


@case(
    "anthropic/text/multi-turn",
    title="Earlier turns are used",
    requirement="The model answers given every turn of messages, earlier ones included.",
    source=f"{API}#body-messages",
)
def test_multi_turn(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    p = prompt("multi_turn")
    control = anthropic.control(p.control, CAPABILITY)
    _semantic(
        anthropic, case, _plain(anthropic, p), semantics.uses_earlier_turns, p.accept, control
    )


@case(
    "anthropic/text/text-blocks",
    title="User content as text blocks is read",
    requirement="A turn's content may be an array of content blocks; text blocks are text.",
    source=f"{API}#body-messages-content",
)
def test_text_blocks(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    p = prompt("content_parts")
    control = (
        anthropic.control(p.control, CAPABILITY) if p.control else anthropic.calibration(CAPABILITY)
    )
    _semantic(
        anthropic, case, _plain(anthropic, p), semantics.answers_trivial_prompt, p.accept, control
    )


@case(
    "anthropic/text/sampling-params",
    title="temperature, top_p and top_k are accepted",
    requirement="temperature (0-1), top_p and top_k are sampling parameters of the Messages API.",
    source=f"{API}#body-temperature",
)
@pytest.mark.parametrize(
    "params",
    [{"temperature": 0.2}, {"top_p": 0.9}, {"top_k": 40}],
    ids=["temperature", "top_p", "top_k"],
)
def test_sampling_params(anthropic: AnthropicProbe, case: CaseRecord, params: dict) -> None:
    p = prompt("arithmetic")
    body = message_body(p, anthropic.model(CAPABILITY), 16, **params)
    # The plain version is the same prompt without the parameter.
    control = anthropic.control(p, CAPABILITY)
    _semantic(anthropic, case, body, semantics.answers_trivial_prompt, p.accept, control)


@case(
    "anthropic/text/max-tokens",
    title="max_tokens is honoured",
    requirement="At most max_tokens tokens are generated; a cut message has stop_reason max_tokens.",
    source=f"{API}#body-max-tokens",
    round_trips=2,
)
def test_max_tokens(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    body = message_body(prompt("counting"), anthropic.model(CAPABILITY), 5, temperature=0)
    # Streamed first: the suite counts what arrives and cuts a provider ignoring the cap.
    streamed = anthropic.messages({**body, "stream": True}, cut=over_cap(5))
    anthropic.expect_success(streamed)
    anthropic.check_stream(streamed)
    if case.add(checks.max_tokens_honoured(streamed, 5), streamed):
        return
    plain = anthropic.messages(body)
    anthropic.expect_success(plain)
    case.add(checks.max_tokens_honoured(plain, 5), plain)


@case(
    "anthropic/text/stop-sequences",
    title="stop_sequences are honoured and named",
    requirement="Generation stops before a stop sequence, which is not included; stop_reason stop_sequence and stop_sequence name it.",
    source=f"{API}#body-stop-sequences",
)
def test_stop_sequences(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    body = message_body(
        prompt("counting"), anthropic.model(CAPABILITY), 80, temperature=0, stop_sequences=["5"]
    )
    for n in range(1, case.max_attempts + 1):
        case.attempts = n
        exchange = anthropic.messages(body)
        anthropic.expect_success(exchange)
        findings = case.add(checks.stop_sequence_honoured(exchange, "5", "4", AFTER_STOP), exchange)
        # The stop sequence (or what follows it) in the output is proof: no retry.
        if findings or checks.reaches(exchange, "4"):
            return
    case.inconclusive(
        "the answer never reached the stop sequence (no '4' before it): stop not judged"
    )


@case(
    "anthropic/text/response-schema",
    title="The response is a Messages API message",
    requirement="The response is a message object (type message, role assistant, content blocks, stop_reason, usage) of the official schema.",
    source="https://docs.anthropic.com/en/api/messages#response",
)
def test_response_schema(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    exchange = anthropic.messages(_plain(anthropic, prompt("arithmetic")))
    anthropic.expect_success(exchange)
    case.add(checks.message_matches_schema(exchange), exchange)
    case.add(checks.stop_reason_defined(exchange), exchange)


@case(
    "anthropic/text/model-echo",
    title="The response names the requested model",
    requirement="model is the model that answered: the requested one (or its dated version).",
    source="https://docs.anthropic.com/en/api/messages#response-model",
)
def test_model_echo(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    exchange = anthropic.messages(_plain(anthropic, prompt("arithmetic")))
    anthropic.expect_success(exchange)
    case.add(checks.model_matches_request(exchange), exchange)


@case(
    "anthropic/text/usage",
    title="usage is present and follows the prompt",
    requirement="usage counts input_tokens and output_tokens of this request: more input for a longer prompt, output within max_tokens.",
    source="https://docs.anthropic.com/en/api/messages#response-usage",
    round_trips=2,
)
def test_usage(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    short = anthropic.messages(_plain(anthropic, prompt("arithmetic")))
    anthropic.expect_success(short)
    case.add(checks.usage_present(short), short)
    case.add(checks.usage_plausible(short, 16), short)
    long = anthropic.messages(_plain(anthropic, prompt("padded_arithmetic")))
    anthropic.expect_success(long)
    case.add(checks.usage_follows_prompt(short, long), long)


# --- usage honesty beyond one response ----------------------------------------------------


def _note_uncounted(case: CaseRecord, *exchanges: Exchange) -> None:
    """Say why usage was not compared: an answer without a count is anthropic/text/usage's
    (or the stream's input-tokens) finding, not this case's."""
    if not all(usage_checks.prompt_count(e).tokens for e in exchanges):
        case.note("not compared: an answer reported no input tokens (or 0)")


@case(
    "anthropic/text/usage-streamed",
    title="Streamed usage matches the non-streamed usage",
    requirement="The same request reports the same input tokens streamed and not.",
    source="https://docs.anthropic.com/en/docs/build-with-claude/streaming",
    round_trips=2,
)
def test_usage_streamed(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    body = _plain(anthropic, prompt("arithmetic"))
    plain = anthropic.messages(body)
    anthropic.expect_success(plain)
    streamed = anthropic.messages({**body, "stream": True})
    anthropic.expect_success(streamed)
    anthropic.check_stream(streamed)
    _note_uncounted(case, plain, streamed)
    case.add(usage_checks.streamed_usage_matches(plain, streamed), streamed)


@case(
    "anthropic/text/usage-rate",
    title="input_tokens grows with the prompt at a tokenizer's rate",
    requirement="A longer prompt counts more input tokens: about one per 4 characters of "
    "English (one per 2 to one per 8).",
    source="https://docs.anthropic.com/en/api/messages#response-usage",
    round_trips=2,
)
def test_usage_rate(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    exchanges = []
    for name in ("arithmetic", "prose_arithmetic"):
        exchange = anthropic.messages(_plain(anthropic, prompt(name)))
        anthropic.expect_success(exchange)
        exchanges.append(exchange)
    short, long = exchanges
    _note_uncounted(case, short, long)
    # Not growing at all is anthropic/text/usage's finding (anthropic.usage.fixed).
    case.add(usage_checks.prompt_rate_plausible(short, long), long)
