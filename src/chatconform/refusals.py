"""Checks that a valid request is answered, in every dialect: a core request is not refused,
none crashes. Each is registered once per dialect, under ``<dialect>.request.*``."""

from __future__ import annotations

from collections.abc import Iterator

from chatconform.check import Violation, check, expected
from chatconform.dialects import NAMES
from chatconform.exchange import Exchange


def _core_request_not_refused(exchange: Exchange) -> Iterator[Violation]:
    """A provider that claims the dialect answers its core requests (each dialect's create-message reference)."""
    status = exchange.status or 0
    if 400 <= status < 500:
        yield Violation(
            expected(
                "an answer: the request is valid and uses only core features of the dialect",
                f"HTTP {status}",
            ),
            evidence=exchange.excerpt(),
        )


def _valid_request_not_server_error(
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


core_request_not_refused = {
    d: check(f"{d}.request.refused")(_core_request_not_refused) for d in NAMES
}
valid_request_not_server_error = {
    d: check(f"{d}.request.server-error")(_valid_request_not_server_error) for d in NAMES
}
