"""Checks of image input: the images reached the model, and bad or large ones are refused cleanly."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from chatconform.answers import mentions
from chatconform.checks import Violation, check, expected
from chatconform.checks.errors import error_object, looks_like_error
from chatconform.checks.text import answer_text, content_location
from chatconform.exchange import Exchange, clip

LARGE_IMAGE_STATUSES = (400, 413)


def _matched(answer: str, accepted: Sequence[Sequence[str]]) -> list[bool]:
    """For each expected answer (with its synonyms), whether the answer names it as whole
    words ("red" is inside "shared": "no image was shared" does not see a red circle)."""
    return [any(mentions(answer, term) for term in group) for group in accepted]


def _wanted(accepted: Sequence[Sequence[str]]) -> str:
    """Every group, any answer of each, for messages: ('blue' or 'azure') and 'green'."""
    alternatives = [" or ".join(map(repr, group)) for group in accepted]
    if len(alternatives) > 1:
        alternatives = [
            f"({a})" if len(g) > 1 else a for a, g in zip(alternatives, accepted, strict=True)
        ]
    return " and ".join(alternatives)


@check("openai.image.not-delivered")
def image_delivered(exchange: Exchange, accepted: Sequence[Sequence[str]]) -> Iterator[Violation]:
    """The answer names what the image shows (vision guide: images are model input)."""
    answer = answer_text(exchange)
    if not any(_matched(answer, accepted)):
        yield Violation(
            expected(
                f"an answer about the image naming {_wanted(accepted)}", repr(clip(answer, 200))
            ),
            location=content_location(exchange),
            evidence=exchange.excerpt(),
        )


@check("openai.image.multiple-images")
def every_image_delivered(
    exchange: Exchange, accepted: Sequence[Sequence[str]]
) -> Iterator[Violation]:
    """An answer that needs every image names what each shows (vision guide: multiple images)."""
    answer = answer_text(exchange)
    matched = _matched(answer, accepted)
    # No image seen at all is image_delivered's finding; this one is about a partial view.
    if any(matched) and not all(matched):
        missing = [group for group, found in zip(accepted, matched, strict=True) if not found]
        yield Violation(
            expected(
                f"an answer naming {_wanted(accepted)} (one per image)",
                f"{clip(answer, 200)!r}: nothing about {_wanted(missing)}",
            ),
            location=content_location(exchange),
            evidence=exchange.excerpt(),
        )


@check("openai.image.server-error")
def image_request_not_server_error(
    exchange: Exchange, repeat: Exchange, control: Exchange
) -> Iterator[Violation]:
    """A valid image does not cause a 5xx (error codes guide: 5xx are server faults)."""
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


@check("openai.image.invalid-accepted")
def invalid_image_refused(exchange: Exchange) -> Iterator[Violation]:
    """An unusable image is refused with 400 (vision guide: image input requirements)."""
    if 200 <= (exchange.status or 0) < 300 and not looks_like_error(exchange):
        yield Violation(
            expected("HTTP 400 with the error envelope", f"HTTP {exchange.status} with an answer"),
            evidence=exchange.excerpt(),
        )


@check("openai.image.size-limit")
def large_image_refused_cleanly(exchange: Exchange) -> Iterator[Violation]:
    """A refused large image gets 413 or 400 with the error envelope (vision guide: size limits)."""
    status = exchange.status or 0
    if not 400 <= status < 500:
        return
    if status not in LARGE_IMAGE_STATUSES or error_object(exchange) is None:
        received = "the error envelope" if error_object(exchange) else "no error envelope"
        yield Violation(
            expected(
                "HTTP 413 or 400 with the error envelope",
                f"HTTP {status} ({exchange.content_type or 'no content type'}) with {received}",
            ),
            evidence=exchange.excerpt(),
        )
