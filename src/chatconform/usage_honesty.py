"""Usage honesty across requests, judged the same way in every dialect.

One response's usage can look plausible and still be invented. Compared across
requests it cannot hide: the same prompt costs the same tokens streamed or not, a
far longer prompt costs more, and the extra characters cost about what a tokenizer
charges for English. Each dialect says where its prompt count is (a ``Counter``) and
registers these judgements under its own rule ids (``<dialect>.usage.*``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from chatconform.check import Violation, check, expected
from chatconform.exchange import Exchange
from chatconform.finding import Finding

# English prose costs about one token per 4 characters in the common tokenizers
# (OpenAI's cl100k and o200k about 4.2-4.4, Llama 3 about 4.3, the SentencePiece
# vocabularies of Llama 2 and Mistral about 3.7, Claude's about 3.5). A rate outside one
# token per 2 to one per 8 characters, a factor of 2 beyond that either side, is no
# tokenizer's count of English: a multiplied, capped or estimated usage.
FEWEST_CHARS_PER_TOKEN = 2
MOST_CHARS_PER_TOKEN = 8
# The rate is judged over at least this many extra characters (some 250 tokens): the
# few tokens a count may differ by (rounding, message framing) cannot move it out of
# the band.
MIN_EXTRA_CHARS = 1000


@dataclass(frozen=True)
class PromptCount:
    """The prompt tokens an answer reported, for how many characters of prompt text."""

    chars: int
    # None when the answer reported no count (a missing usage is another rule's finding).
    tokens: int | None
    # Where the count is (a JSON pointer into the response or the stream's events).
    location: str
    evidence: str


# How a dialect reads an exchange's prompt count.
Counter = Callable[[Exchange], PromptCount]


def stream_matches_check(rule_id: str, count: Counter, field: str) -> Callable[..., list[Finding]]:
    """A check that a stream reports the prompt count its non-streamed twin reports."""

    def streamed_usage_matches(plain: Exchange, streamed: Exchange) -> Iterator[Violation]:
        answered, sent = count(plain), count(streamed)
        # A missing or zero count is the presence and plausibility rules' finding.
        if not answered.tokens or not sent.tokens or answered.tokens == sent.tokens:
            return
        yield Violation(
            expected(
                f"{field} {answered.tokens} in the stream, as in the non-streamed answer to "
                "the same request",
                f"{field} {sent.tokens}",
            ),
            location=sent.location,
            evidence=sent.evidence,
        )

    streamed_usage_matches.__doc__ = (
        f"The same request reports the same {field} streamed and not streamed."
    )
    return check(rule_id)(streamed_usage_matches)


def follows_prompt_check(rule_id: str, count: Counter, field: str) -> Callable[..., list[Finding]]:
    """A check that a far longer prompt reports more prompt tokens than a short one."""

    def usage_follows_prompt(short: Exchange, long: Exchange) -> Iterator[Violation]:
        few, many = count(short), count(long)
        counts = _compared(few, many)
        if counts is None or counts[1] > counts[0]:
            return
        same = "the same count for both" if counts[1] == counts[0] else "fewer"
        yield Violation(
            expected(
                f"more {field} for the {many.chars}-character prompt than for the "
                f"{few.chars}-character one",
                f"{counts[1]} for the long prompt, {counts[0]} for the short one ({same})",
            ),
            location=many.location,
            evidence=many.evidence,
        )

    usage_follows_prompt.__doc__ = f"{field} grows with the prompt: usage is counted, not made up."
    return check(rule_id)(usage_follows_prompt)


def prompt_rate_check(rule_id: str, count: Counter, field: str) -> Callable[..., list[Finding]]:
    """A check that the extra characters of a longer prompt cost a plausible number of
    tokens: one per ``FEWEST_CHARS_PER_TOKEN`` to ``MOST_CHARS_PER_TOKEN`` characters."""

    def prompt_rate_plausible(short: Exchange, long: Exchange) -> Iterator[Violation]:
        few, many = count(short), count(long)
        counts = _compared(few, many)
        # Not growing at all is the follows-prompt rule's finding, not a rate.
        if counts is None or counts[1] <= counts[0]:
            return
        extra_chars = many.chars - few.chars
        extra_tokens = counts[1] - counts[0]
        rate = extra_chars / extra_tokens
        if FEWEST_CHARS_PER_TOKEN <= rate <= MOST_CHARS_PER_TOKEN:
            return
        yield Violation(
            expected(
                f"{extra_chars} more characters of English prose counted as "
                f"{extra_chars // MOST_CHARS_PER_TOKEN} to {extra_chars // FEWEST_CHARS_PER_TOKEN}"
                f" more {field} (one per {FEWEST_CHARS_PER_TOKEN} to {MOST_CHARS_PER_TOKEN} "
                "characters; about one per 4 in common tokenizers)",
                f"{extra_tokens} more ({counts[1]} for {many.chars} characters, {counts[0]} "
                f"for {few.chars}): one per {rate:.1f} characters",
            ),
            location=many.location,
            evidence=many.evidence,
        )

    prompt_rate_plausible.__doc__ = (
        f"{field} grows with the prompt at a tokenizer's rate (about 4 characters a token)."
    )
    return check(rule_id)(prompt_rate_plausible)


def _compared(few: PromptCount, many: PromptCount) -> tuple[int, int] | None:
    """The short and the long prompt's counts, when they can be compared: both reported
    and non-zero (a zero is the plausibility rule's finding), for prompts far enough
    apart in length."""
    if not few.tokens or not many.tokens or many.chars - few.chars < MIN_EXTRA_CHARS:
        return None
    return few.tokens, many.tokens
