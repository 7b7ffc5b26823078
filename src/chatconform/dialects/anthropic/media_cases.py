"""How image and document cases run in the Messages API: build turns, ask, judge refusals.

The image suites differ only in how an image travels (``vision``: a url source the
provider fetches; ``base64_image``: the bytes in the request), and documents travel
the same two ways, so they share this.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chatconform.case import CaseRecord
from chatconform.dialects.anthropic.checks import errors as error_checks
from chatconform.dialects.anthropic.checks import semantics
from chatconform.dialects.anthropic.probe import AnthropicProbe
from chatconform.dialects.anthropic.requests import text_block
from chatconform.exchange import Exchange, clip
from chatconform.finding import Finding
from chatconform.images import ImageFile, thumbnail

VISION_GUIDE = "https://docs.anthropic.com/en/docs/build-with-claude/vision"
PDF_GUIDE = "https://docs.anthropic.com/en/docs/build-with-claude/pdf-support"
# Enough for "The first shape is blue and the second one is green." and no more.
MAX_TOKENS = 30
ANSWER_CHARS = 500
MEDIA_TYPES = ("image", "document")


def body(
    anthropic: AnthropicProbe,
    capability: str,
    messages: list[dict[str, Any]],
    *,
    stream: bool = False,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "model": anthropic.model(capability),
        "max_tokens": MAX_TOKENS,
        "temperature": 0,
        "messages": messages,
    }
    if stream:
        request["stream"] = True
    return request


def question_turn(
    question: str, blocks: Sequence[dict[str, Any]], *, media_first: bool = True
) -> list[dict[str, Any]]:
    """One user turn: the media blocks and the question (the docs put images first)."""
    parts = [*blocks, text_block(question)] if media_first else [text_block(question), *blocks]
    return [{"role": "user", "content": parts}]


def without_media(request: dict[str, Any]) -> dict[str, Any]:
    """The same request with its images and documents taken out: the plain version."""

    def strip(content: Any) -> Any:
        if not isinstance(content, list):
            return content
        kept = []
        for block in content:
            if block.get("type") in MEDIA_TYPES:
                continue
            if block.get("type") == "tool_result":
                block = {**block, "content": strip(block.get("content"))}
            kept.append(block)
        return kept or "(nothing)"

    messages = [{**m, "content": strip(m["content"])} for m in request["messages"]]
    return {**request, "messages": messages}


def show(case: CaseRecord, question: str, files: Sequence[ImageFile]) -> None:
    """Put the pictures and the question in the report, beside the evidence."""
    if files:
        case.media["images"] = [{"file": f.file, "thumbnail": thumbnail(f)} for f in files]
    case.media["question"] = question


def ask(
    anthropic: AnthropicProbe,
    case: CaseRecord,
    capability: str,
    request: dict[str, Any],
    groups: Sequence[Sequence[str]],
    *,
    seen: Callable[..., list[Finding]] = semantics.image_delivered,
    feature: str | None = None,
) -> None:
    """Ask about the media until the answer shows them, at most ``k`` attempts; the claim
    that they were not seen is made only of a model that answers the trivial prompt."""
    anthropic.optional_unless_configured(capability, feature)

    def attempt() -> list[Finding]:
        exchange = anthropic.messages(request)
        anthropic.expect_success(
            exchange,
            control=without_media(request),
            crash=semantics.image_request_not_server_error,
        )
        if exchange.streamed:
            anthropic.check_stream(exchange)
        reply = anthropic.reply(exchange)
        if reply.tool_calls and not reply.text.strip():
            # A model may ask for a tool (again) instead of answering: that says nothing
            # about whether it saw what was shown.
            names = ", ".join(sorted({c.name or "?" for c in reply.tool_calls}))
            case.inconclusive(f"the model called a tool ({names}) instead of answering")
        case.media["answer"] = clip(reply.text, ANSWER_CHARS)
        findings = seen(exchange, groups)
        if seen is semantics.image_delivered:
            findings += semantics.every_image_delivered(exchange, groups)
        return findings

    case.until_accepted(attempt, anthropic.calibration(capability))


def expect_refusal(
    anthropic: AnthropicProbe, case: CaseRecord, capability: str, request: dict[str, Any]
) -> None:
    """Unusable media gets 400 invalid_request_error in the envelope: never a 5xx, never
    an answer."""
    exchange = anthropic.messages(request, valid=False)
    case.add(error_checks.invalid_request_refused(exchange), exchange)
    anthropic.check_error(exchange, (400,))
    if (exchange.status or 0) >= 400:
        case.note(f"refused: {refusal(anthropic, exchange)}")


def refusal(anthropic: AnthropicProbe, exchange: Exchange) -> str:
    return f"HTTP {exchange.status}: {anthropic.error_message(exchange)}"
