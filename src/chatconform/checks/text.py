"""Semantic checks of answers: the model saw what was sent and honoured the parameters."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from chatconform.checks import Violation, check, expected
from chatconform.exchange import Exchange, clip
from chatconform.finding import Finding
from chatconform.stream import choice_entries, choice_index, choices, index_order, parse


def answer_text(exchange: Exchange, choice: int = 0) -> str:
    """The assistant's text for one choice, streamed or not ("" when there is none)."""
    if exchange.streamed:
        return parse(exchange).text(choice)
    for entry in choices(exchange.json_or_none()):
        if entry.get("index", 0) == choice:
            message = entry.get("message")
            content = message.get("content") if isinstance(message, dict) else None
            return content if isinstance(content, str) else ""
    return ""


def located_finish_reasons(exchange: Exchange) -> list[tuple[Any, str]]:
    """(finish_reason, its JSON pointer) of every choice, in choice order; for a stream,
    the last non-null one of each choice, pointing into its event."""
    if exchange.streamed:
        reasons: dict[int | str, tuple[Any, str]] = {}
        for i, chunk in parse(exchange).chunks:
            for j, entry in choice_entries(chunk):
                if entry.get("finish_reason") is not None:
                    where = f"/events/{i}/choices/{j}/finish_reason"
                    reasons[choice_index(entry)] = (entry["finish_reason"], where)
        return [reasons[k] for k in sorted(reasons, key=index_order)]
    return [
        (entry.get("finish_reason"), f"/choices/{j}/finish_reason")
        for j, entry in choice_entries(exchange.json_or_none())
    ]


def finish_reasons(exchange: Exchange) -> list[Any]:
    """finish_reason of every choice (the non-null one for streams), in choice order."""
    return [reason for reason, _ in located_finish_reasons(exchange)]


def accepted(answer: str, accept: Sequence[str]) -> bool:
    lowered = answer.lower()
    return any(a.lower() in lowered for a in accept)


def _answer_check(rule_id: str, name: str, what: str) -> Callable[..., list[Finding]]:
    def contains_accepted_answer(exchange: Exchange, accept: Sequence[str]) -> Iterator[Violation]:
        answer = answer_text(exchange)
        if not accepted(answer, accept):
            yield Violation(
                expected(
                    f"{what}: an answer containing {' or '.join(map(repr, accept))}",
                    repr(clip(answer, 200)),
                ),
                location="/choices/0/message/content",
                evidence=exchange.excerpt(),
            )

    contains_accepted_answer.__name__ = contains_accepted_answer.__qualname__ = name
    contains_accepted_answer.__doc__ = f"The answer shows {what} (accepted answers from fixtures)."
    return check(rule_id)(contains_accepted_answer)


answers_trivial_prompt = _answer_check(
    "openai.text.answer", "answers_trivial_prompt", "the prompt answered"
)
follows_system_prompt = _answer_check(
    "openai.text.system-prompt", "follows_system_prompt", "the system message obeyed"
)
follows_developer_message = _answer_check(
    "openai.text.developer-role", "follows_developer_message", "the developer message obeyed"
)
uses_earlier_turns = _answer_check(
    "openai.text.multi-turn", "uses_earlier_turns", "a fact from an earlier turn"
)
reads_content_parts = _answer_check(
    "openai.text.content-parts", "reads_content_parts", "the text parts read"
)


@check("openai.text.max-tokens")
def max_tokens_honoured(exchange: Exchange, max_tokens: int, usage: Any) -> Iterator[Violation]:
    """At most max_tokens tokens are generated; a cut completion says finish_reason length."""
    answer = answer_text(exchange)
    completion = usage.get("completion_tokens") if isinstance(usage, dict) else None
    if isinstance(completion, int) and completion > max_tokens:
        yield Violation(
            expected(f"completion_tokens <= {max_tokens}", str(completion)),
            location="/usage/completion_tokens",
            evidence=exchange.excerpt(),
        )
    # A token holds at most one word of this probe, whatever the tokenizer.
    if len(answer.split()) > max_tokens:
        yield Violation(
            expected(
                f"at most {max_tokens} words (max_tokens {max_tokens})",
                f"{len(answer.split())} words: {clip(answer, 120)!r}",
            ),
            location="/choices/0/message/content",
            evidence=exchange.excerpt(),
        )
    reasons = finish_reasons(exchange)
    if reasons[:1] != ["length"]:
        yield Violation(
            expected(
                "finish_reason 'length' (the answer needs far more tokens)",
                repr(reasons[0] if reasons else None),
            ),
            location="/choices/0/finish_reason",
            evidence=exchange.excerpt(),
        )


@check("openai.text.stop")
def stop_honoured(exchange: Exchange, stop: str, before: str) -> Iterator[Violation]:
    """Generation stops at a stop sequence, which is not included (create chat: stop)."""
    answer = answer_text(exchange)
    if stop in answer:
        yield Violation(
            expected(f"the answer cut before {stop!r}", repr(clip(answer, 120))),
            location="/choices/0/message/content",
            evidence=exchange.excerpt(),
        )
    elif before not in answer:
        yield Violation(
            expected(f"the text before the stop sequence ({before!r})", repr(clip(answer, 120))),
            location="/choices/0/message/content",
            evidence=exchange.excerpt(),
        )
    reasons = finish_reasons(exchange)
    if reasons[:1] != ["stop"]:
        yield Violation(
            expected("finish_reason 'stop'", repr(reasons[0] if reasons else None)),
            location="/choices/0/finish_reason",
            evidence=exchange.excerpt(),
        )


@check("openai.text.n-choices")
def n_choices_honoured(exchange: Exchange, n: int) -> Iterator[Violation]:
    """The response has n choices indexed 0..n-1 (create chat: n)."""
    indexes = sorted(
        entry["index"]
        for entry in choices(exchange.json_or_none())
        if isinstance(entry.get("index"), int)
    )
    if indexes != list(range(n)):
        yield Violation(
            expected(f"{n} choices with index 0..{n - 1}", f"indexes {indexes}"),
            location="/choices",
            evidence=exchange.excerpt(),
        )
