"""The run's breaker: once the provider is gone, or refuses request after request, stop.

A provider that stops accepting connections half-way through a run would otherwise cost
every remaining case its own connect timeout, and one out of quota every case its
retries, for verdicts that can only be ``inconclusive``. After a streak of such outcomes
(shared by every thread and process of the run, through ``SharedState``), requests are
no longer sent; the exchange of each says why, and its case is inconclusive at once.
Any answer in between ends a streak: a provider that answers some requests is judged.
"""

from __future__ import annotations

from enum import Enum

from chatconform.shared_state import SharedState

# Connection failures in a row that mean the provider is gone: more than a blip.
UNREACHABLE_STREAK = 3
# Requests in a row still refused (429, 503) after their retries: out of quota, or down.
REFUSED_STREAK = 4


class Outcome(Enum):
    """What one request (all its attempts) came to, as far as the breaker cares."""

    ANSWERED = "answered"
    # Connected, then the exchange failed (a reset, a stall): the provider is there.
    CONNECTED = "connected"
    UNREACHABLE = "unreachable"
    REFUSED = "refused"


class Breaker:
    """Counts the run's streaks and trips, for the rest of the run, at the first too long."""

    def __init__(self, state: SharedState | None = None) -> None:
        self._state = state or SharedState()

    def tripped(self) -> str | None:
        """Why requests are no longer sent (``provider unreachable: ...``), or None."""
        return self._state.read().get("tripped")

    def trip(self, reason: str) -> None:
        """Stop the run sending, for ``reason`` (unless it has stopped already)."""
        with self._state.change() as state:
            if not state.get("tripped"):
                state["tripped"] = reason

    def record(self, outcome: Outcome, detail: str) -> None:
        """Count one request's ``outcome``; ``detail`` says it: the connection error, or
        for a refusal its cause and status (``rate limited: HTTP 429``)."""
        with self._state.change() as state:
            if state.get("tripped"):
                return
            unreachable = int(state.get("unreachable", 0))
            refused = int(state.get("refused", 0))
            if outcome is Outcome.UNREACHABLE:
                unreachable += 1
            else:
                unreachable = 0
            if outcome is Outcome.REFUSED:
                refused += 1
            elif outcome is Outcome.ANSWERED:
                refused = 0
            state["unreachable"], state["refused"] = unreachable, refused
            if unreachable >= UNREACHABLE_STREAK:
                state["tripped"] = (
                    f"provider unreachable: {unreachable} requests in a row could not "
                    f"connect (last: {detail})"
                )
            elif refused >= REFUSED_STREAK:
                state["tripped"] = f"{detail} for {refused} requests in a row, after their retries"
