"""Semantic judgements that are the same in every dialect, over the neutral ``Reply``.

An answer accepted, every image seen, the expected tool called with the question's
arguments: each dialect registers these under its own rule ids (``<dialect>.text.*``)
and says where in its wire format the answer is; the judgement itself is written here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatconform.answers import accepted, mentions
from chatconform.check import Violation, check, expected
from chatconform.exchange import Exchange, clip
from chatconform.finding import Finding
from chatconform.reply import Reply, ToolCall

# How a dialect reads an exchange, and where its answer text is (a JSON pointer).
Reader = Callable[[Exchange], Reply]
Locator = Callable[[Exchange], str]


@dataclass(frozen=True)
class ExpectedCall:
    """A call the probe's question asks for: the tool, and text its arguments must hold."""

    name: str
    arguments: dict[str, str] = field(default_factory=dict)

    def described(self) -> str:
        args = ", ".join(f"{k} ~ {v!r}" for k, v in self.arguments.items())
        return f"{self.name}({args})"


def answer_check(
    rule_id: str, name: str, what: str, read: Reader, locate: Locator
) -> Callable[..., list[Finding]]:
    """A check that the answer contains one of the accepted answers (fixtures' ``accept``)."""

    def contains_accepted_answer(exchange: Exchange, accept: Sequence[str]) -> Iterator[Violation]:
        answer = read(exchange).text
        if not accepted(answer, accept):
            yield Violation(
                expected(
                    f"{what}: an answer containing {' or '.join(map(repr, accept))}",
                    repr(clip(answer, 200)),
                ),
                location=locate(exchange),
                evidence=exchange.excerpt(),
            )

    contains_accepted_answer.__name__ = contains_accepted_answer.__qualname__ = name
    contains_accepted_answer.__doc__ = f"The answer shows {what} (accepted answers from fixtures)."
    return check(rule_id)(contains_accepted_answer)


def matched(answer: str, groups: Sequence[Sequence[str]]) -> list[bool]:
    """For each expected answer (with its synonyms), whether the answer names it as whole
    words ("red" is inside "shared": "no image was shared" does not see a red circle)."""
    return [any(mentions(answer, term) for term in group) for group in groups]


def wanted(groups: Sequence[Sequence[str]]) -> str:
    """Every group, any answer of each, for messages: ('blue' or 'azure') and 'green'."""
    alternatives = [" or ".join(map(repr, group)) for group in groups]
    if len(alternatives) > 1:
        alternatives = [
            f"({a})" if len(g) > 1 else a for a, g in zip(alternatives, groups, strict=True)
        ]
    return " and ".join(alternatives)


def seen_check(
    rule_id: str, name: str, what: str, read: Reader, locate: Locator
) -> Callable[..., list[Finding]]:
    """A check that the answer names something of what was shown (an image, a document)."""

    def shown_content_reached_model(
        exchange: Exchange, groups: Sequence[Sequence[str]]
    ) -> Iterator[Violation]:
        answer = read(exchange).text
        if not any(matched(answer, groups)):
            yield Violation(
                expected(
                    f"an answer about the {what} naming {wanted(groups)}", repr(clip(answer, 200))
                ),
                location=locate(exchange),
                evidence=exchange.excerpt(),
            )

    shown_content_reached_model.__name__ = shown_content_reached_model.__qualname__ = name
    shown_content_reached_model.__doc__ = (
        f"The answer names what the {what} shows: it reached the model."
    )
    return check(rule_id)(shown_content_reached_model)


def every_seen_check(
    rule_id: str, name: str, read: Reader, locate: Locator
) -> Callable[..., list[Finding]]:
    """A check that an answer needing every image names what each shows."""

    def every_image_reached_model(
        exchange: Exchange, groups: Sequence[Sequence[str]]
    ) -> Iterator[Violation]:
        answer = read(exchange).text
        found = matched(answer, groups)
        # Nothing seen at all is the single-image check's finding; this one is a partial view.
        if any(found) and not all(found):
            missing = [group for group, hit in zip(groups, found, strict=True) if not hit]
            yield Violation(
                expected(
                    f"an answer naming {wanted(groups)} (one per image)",
                    f"{clip(answer, 200)!r}: nothing about {wanted(missing)}",
                ),
                location=locate(exchange),
                evidence=exchange.excerpt(),
            )

    every_image_reached_model.__name__ = every_image_reached_model.__qualname__ = name
    every_image_reached_model.__doc__ = "An answer that needs every image names what each shows."
    return check(rule_id)(every_image_reached_model)


def media_crash_check(rule_id: str, name: str) -> Callable[..., list[Finding]]:
    """A check that a valid image (or document) does not cause a 5xx that persists while the
    same request without it is answered."""

    def media_request_not_server_error(
        exchange: Exchange, repeat: Exchange, control: Exchange
    ) -> Iterator[Violation]:
        status, control_status = exchange.status or 0, control.status or 0
        if status >= 500 and (repeat.status or 0) >= 500 and 200 <= control_status < 300:
            yield Violation(
                expected(
                    "an answer, or a 4xx with the error envelope",
                    f"HTTP {status}, and HTTP {repeat.status} when sent again, while the same "
                    f"request without the image got HTTP {control_status}",
                ),
                evidence=exchange.excerpt(),
            )

    media_request_not_server_error.__name__ = media_request_not_server_error.__qualname__ = name
    media_request_not_server_error.__doc__ = (
        "A valid image does not cause a 5xx (5xx are server faults, in every dialect)."
    )
    return check(rule_id)(media_request_not_server_error)


def satisfies(call: ToolCall, want: ExpectedCall) -> bool:
    """Whether a call is the wanted one: its tool, and arguments holding the wanted text.
    The form of the arguments is the structural checks' to report."""
    if call.name != want.name:
        return False
    if not want.arguments:
        return True
    value: Any = call.parsed()
    if not isinstance(value, dict):
        return False
    return all(
        key in value and text.lower() in json.dumps(value[key], ensure_ascii=False).lower()
        for key, text in want.arguments.items()
    )


def missing_calls(calls: Sequence[ToolCall], expect: Sequence[ExpectedCall]) -> list[ExpectedCall]:
    """The wanted calls no call satisfies, each call satisfying at most one."""
    unused = list(calls)
    missing = []
    for want in expect:
        match = next((c for c in unused if satisfies(c, want)), None)
        if match is None:
            missing.append(want)
        else:
            unused.remove(match)
    return missing


def calls_text(calls: Sequence[ToolCall]) -> str:
    if not calls:
        return "no tool call"
    return "; ".join(f"{c.name}({clip(c.arguments, 120)})" for c in calls)
