"""Semantic checks of answers: the model saw what was sent and honoured the parameters."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from chatconform import judgements
from chatconform.answers import accepted
from chatconform.dialects.openai.checks import Violation, check, expected
from chatconform.dialects.openai.checks.completion import FINISH_REASONS
from chatconform.dialects.openai.stream import (
    choice_entries,
    choice_index,
    choices,
    index_order,
    parse,
)
from chatconform.exchange import Exchange, clip
from chatconform.finding import Finding
from chatconform.reply import Reply


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


def finish_reason_location(exchange: Exchange) -> str:
    """The pointer of the first choice's finish_reason (``finish_reasons(exchange)[0]``):
    into its event for a stream; /events when a stream has none."""
    located = located_finish_reasons(exchange)
    if located:
        return located[0][1]
    return "/events" if exchange.streamed else "/choices/0/finish_reason"


def content_location(exchange: Exchange, choice: int = 0) -> str:
    """The JSON pointer of one choice's answer text, for findings about the answer.

    For a response, ``/choices/<position>/message/content`` (the choice's position in
    the choices array). For a stream, the event carrying the choice's first non-empty
    content delta, ``/events/<i>/choices/<position>/delta/content``: where the answer
    starts, to be read on from there. A streamed choice without content points at its
    first chunk, and a stream without that choice at /events.
    """
    if not exchange.streamed:
        entries = choice_entries(exchange.json_or_none(), choice)
        return f"/choices/{entries[0][0] if entries else choice}/message/content"
    first: str | None = None
    for i, chunk in parse(exchange).chunks:
        for j, entry in choice_entries(chunk, choice):
            where = f"/events/{i}/choices/{j}/delta/content"
            delta = entry.get("delta")
            content = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(content, str) and content:
                return where
            first = first or where
    return first or "/events"


def _finish_reason_other_than(reasons: list[Any], wanted: str) -> bool:
    """Whether the first choice's finish_reason is missing, or another official value
    than ``wanted``; an unofficial one is openai.completion.finish-reason's finding."""
    return not reasons or (reasons[0] != wanted and reasons[0] in (*FINISH_REASONS, None))


def _usage_location(exchange: Exchange) -> str:
    """Where usage.completion_tokens is: the response's, or the last usage chunk's."""
    if exchange.streamed:
        carrying = [i for i, c in parse(exchange).chunks if isinstance(c.get("usage"), dict)]
        if carrying:
            return f"/events/{carrying[-1]}/usage/completion_tokens"
    return "/usage/completion_tokens"


def text_reply(exchange: Exchange) -> Reply:
    """Only the text of the answer: what the semantic judgements read (a reply without
    what the dialect's full reader adds, which would import these checks)."""
    return Reply(text=answer_text(exchange))


def _answer_check(rule_id: str, name: str, what: str) -> Callable[..., list[Finding]]:
    return judgements.answer_check(rule_id, name, what, text_reply, content_location)


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
    """At most max_tokens tokens are generated; a cut completion says finish_reason length.

    A stream the suite cut (``exchange.cut``: far over the cap) is judged on the
    words it carried; it has no finish_reason to judge.
    """
    answer = answer_text(exchange)
    completion = usage.get("completion_tokens") if isinstance(usage, dict) else None
    if isinstance(completion, int) and completion > max_tokens:
        yield Violation(
            expected(f"completion_tokens <= {max_tokens}", str(completion)),
            location=_usage_location(exchange),
            evidence=exchange.excerpt(),
        )
    # A token holds at most one word of this probe, whatever the tokenizer.
    if len(answer.split()) > max_tokens:
        yield Violation(
            expected(
                f"at most {max_tokens} words (max_tokens {max_tokens})",
                f"{len(answer.split())} words"
                + (f" (cut by the suite: {exchange.cut})" if exchange.cut else "")
                + f": {clip(answer, 120)!r}",
            ),
            location=content_location(exchange),
            evidence=exchange.excerpt(),
        )
    # Cut only if it reached the cap: an answer shorter than that (empty, say) may
    # end with stop. A token holds at most one word, so cap words reached it.
    # A value outside the enum is openai.completion.finish-reason's to report, not this rule's.
    reasons = finish_reasons(exchange)
    reached = len(answer.split()) >= max_tokens
    if exchange.cut is None and reached and _finish_reason_other_than(reasons, "length"):
        yield Violation(
            expected(
                "finish_reason 'length' (the answer needs far more tokens)",
                repr(reasons[0] if reasons else None),
            ),
            location=finish_reason_location(exchange),
            evidence=exchange.excerpt(),
        )


@check("openai.text.stop")
def stop_honoured(
    exchange: Exchange, stop: str, before: str, after: Sequence[str]
) -> Iterator[Violation]:
    """Generation stops at a stop sequence, which is not included (create chat: stop).

    Ignoring stop is claimed only on proof in the output: the stop sequence, or text
    that comes after it (``after``) once the text before it (``before``) was written;
    numbers the answer quotes from the prompt before counting prove nothing. An
    answer that never reaches ``before`` is no proof either way (see ``reaches``).
    """
    answer = answer_text(exchange)
    counted = _after_token(answer, before)
    past = [word for word in after if counted is not None and accepted(counted, [word])]
    if stop in (counted if counted is not None else "") or past:
        shown = repr(stop) if stop in counted else f"text after it ({', '.join(map(repr, past))})"
        yield Violation(
            expected(f"the answer cut before {stop!r}", f"{shown} in {clip(answer, 120)!r}"),
            location=content_location(exchange),
            evidence=exchange.excerpt(),
        )
        return
    if counted is None:
        return
    located = located_finish_reasons(exchange)
    if _finish_reason_other_than([reason for reason, _ in located], "stop"):
        yield Violation(
            expected("finish_reason 'stop'", repr(located[0][0] if located else None)),
            location=finish_reason_location(exchange),
            evidence=exchange.excerpt(),
        )


def reaches(exchange: Exchange, before: str) -> bool:
    """Whether the answer wrote ``before`` (as a whole word): only then can stop be judged."""
    return _after_token(answer_text(exchange), before) is not None


def _after_token(answer: str, word: str) -> str | None:
    """The answer after the first whole-word ``word``, or None when it has none."""
    match = re.search(rf"(?<![\w.,-]){re.escape(word)}(?![\w]|[.,]\d)", answer)
    return None if match is None else answer[match.end() :]


@check("openai.text.n-choices")
def n_choices_honoured(exchange: Exchange, n: int) -> Iterator[Violation]:
    """The response (or the stream, its chunks told apart by index) has n choices
    indexed 0..n-1 (create chat: n)."""
    if exchange.streamed:
        found = {choice_index(e) for _, chunk in parse(exchange).chunks for e in choices(chunk)}
        indexes = sorted(i for i in found if isinstance(i, int))
    else:
        indexes = sorted(
            entry["index"]
            for entry in choices(exchange.json_or_none())
            if isinstance(entry.get("index"), int)
        )
    if indexes != list(range(n)):
        yield Violation(
            expected(f"{n} choices with index 0..{n - 1}", f"indexes {indexes}"),
            location="/events" if exchange.streamed else "/choices",
            evidence=exchange.excerpt(),
        )
