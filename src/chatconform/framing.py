"""What a streamed answer must be on the wire in every dialect: an event stream, its
content sent as it is generated. Each dialect registers these under its own rule ids
and says which of its events carry content."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from chatconform.check import Violation, check, expected
from chatconform.exchange import Exchange, events_excerpt
from chatconform.finding import Finding

# Pseudo-streaming: at least this many content events, arriving faster on average than
# BURST_S_PER_EVENT apart. No model writes 5000 tokens/s, so content events closer than
# 0.2 ms apart on average were buffered (by the provider or a proxy) and released at
# once, however fast the model is.
BURST_MIN_EVENTS = 5
BURST_S_PER_EVENT = 0.0002


def event_stream_check(rule_id: str) -> Callable[..., list[Finding]]:
    """A check that a stream is served as text/event-stream."""

    def content_type_is_event_stream(exchange: Exchange) -> Iterator[Violation]:
        if not exchange.content_type.lower().startswith("text/event-stream"):
            yield Violation(
                f"Expected response header Content-Type to contain 'text/event-stream', "
                f"got {exchange.content_type or 'none'!r}",
                evidence=exchange.excerpt(),
            )

    content_type_is_event_stream.__doc__ = "stream: true answers with text/event-stream."
    return check(rule_id)(content_type_is_event_stream)


def incremental_check(
    rule_id: str, content_times: Callable[[Exchange], list[float]], what: str
) -> Callable[..., list[Finding]]:
    """A check that content events (``what``, timed by ``content_times``) are not all
    released at once: a stream buffered to the end is no stream to a user."""

    def delivered_incrementally(exchange: Exchange) -> Iterator[Violation]:
        times = content_times(exchange)
        span = times[-1] - times[0] if times else 0.0
        if len(times) >= BURST_MIN_EVENTS and span < BURST_S_PER_EVENT * (len(times) - 1):
            yield Violation(
                expected(
                    f"{what} spread over the generation time",
                    f"{len(times)} {what} within {span * 1000:.1f} ms, "
                    f"the first after {times[0] * 1000:.0f} ms",
                ),
                location="/events",
                evidence=events_excerpt(exchange, 0),
            )

    delivered_incrementally.__doc__ = (
        "Deltas are sent as they are generated, not buffered to the end (streaming guides)."
    )
    return check(rule_id)(delivered_incrementally)
