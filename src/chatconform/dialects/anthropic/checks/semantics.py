"""The shared semantic judgements (chatconform.judgements), as Messages API rules."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from chatconform import judgements
from chatconform.check import Violation, check, expected
from chatconform.dialects.anthropic.checks.message import text_location
from chatconform.dialects.anthropic.reply import read
from chatconform.exchange import Exchange, clip
from chatconform.judgements import ExpectedCall

answers_trivial_prompt = judgements.answer_check(
    "anthropic.text.answer", "answers_trivial_prompt", "the prompt answered", read, text_location
)
follows_system_prompt = judgements.answer_check(
    "anthropic.text.system-prompt",
    "follows_system_prompt",
    "the system prompt obeyed",
    read,
    text_location,
)
uses_earlier_turns = judgements.answer_check(
    "anthropic.text.multi-turn",
    "uses_earlier_turns",
    "a fact from an earlier turn",
    read,
    text_location,
)
image_delivered = judgements.seen_check(
    "anthropic.image.not-delivered", "image_delivered", "image", read, text_location
)
every_image_delivered = judgements.every_seen_check(
    "anthropic.image.multiple-images", "every_image_delivered", read, text_location
)
document_delivered = judgements.seen_check(
    "anthropic.document.not-delivered", "document_delivered", "document", read, text_location
)
image_request_not_server_error = judgements.media_crash_check(
    "anthropic.image.server-error", "image_request_not_server_error"
)
tool_result_used = judgements.answer_check(
    "anthropic.tools.result-used", "tool_result_used", "the tool result used", read, text_location
)


def _calls_location(exchange: Exchange) -> str:
    if exchange.streamed:
        return "/events"
    return "/content"


@check("anthropic.tools.expected-call")
def expected_calls_made(exchange: Exchange, expect: Sequence[ExpectedCall]) -> Iterator[Violation]:
    """The model calls the tool the question asks for, with the question's arguments."""
    calls = read(exchange).tool_calls
    missing = judgements.missing_calls(calls, expect)
    if missing:
        yield Violation(
            expected(
                f"{'; '.join(w.described() for w in missing)} among the tool_use blocks",
                clip(judgements.calls_text(calls), 400),
            ),
            location=_calls_location(exchange),
            evidence=exchange.excerpt(),
        )
