"""Checks that a valid request is answered: a core request is not refused, none crashes."""

from __future__ import annotations

from collections.abc import Iterator

from chatconform.checks import Violation, check, expected
from chatconform.exchange import Exchange


@check("openai.request.refused")
def core_request_not_refused(exchange: Exchange) -> Iterator[Violation]:
    """A provider that claims the dialect answers its core requests (chat create reference)."""
    status = exchange.status or 0
    if 400 <= status < 500:
        yield Violation(
            expected(
                "an answer: the request is valid and uses only core features of the dialect",
                f"HTTP {status}",
            ),
            evidence=exchange.excerpt(),
        )


@check("openai.request.server-error")
def valid_request_not_server_error(
    exchange: Exchange, repeat: Exchange, control: Exchange
) -> Iterator[Violation]:
    """A valid request never gets a 5xx that persists while others are answered (error codes guide)."""
    statuses = [e.status or 0 for e in (exchange, repeat)]
    control_status = control.status or 0
    if all(s >= 500 for s in statuses) and 200 <= control_status < 300:
        yield Violation(
            expected(
                "an answer (or a 4xx with the error envelope, for an optional feature)",
                f"HTTP {statuses[0]}, and HTTP {statuses[1]} when sent again, while a plain "
                f"request sent right after got HTTP {control_status}",
            ),
            evidence=exchange.excerpt(),
        )
