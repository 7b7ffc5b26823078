"""Checks of image input: the images reached the model, and bad or large ones are refused cleanly."""

from __future__ import annotations

from collections.abc import Iterator

from chatconform import judgements
from chatconform.dialects.openai.checks import Violation, check, expected
from chatconform.dialects.openai.checks.errors import error_object, looks_like_error
from chatconform.dialects.openai.checks.text import content_location, text_reply
from chatconform.exchange import Exchange

LARGE_IMAGE_STATUSES = (400, 413)


image_delivered = judgements.seen_check(
    "openai.image.not-delivered", "image_delivered", "image", text_reply, content_location
)
every_image_delivered = judgements.every_seen_check(
    "openai.image.multiple-images", "every_image_delivered", text_reply, content_location
)


image_request_not_server_error = judgements.media_crash_check(
    "openai.image.server-error", "image_request_not_server_error"
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
