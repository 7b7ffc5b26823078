"""Probes in the Anthropic Messages dialect: requests, replies, error bodies, stream framing."""

from __future__ import annotations

from typing import Any

from chatconform.client import Cut
from chatconform.dialects.anthropic import requests
from chatconform.dialects.anthropic.checks import errors as error_checks
from chatconform.dialects.anthropic.checks import message as message_checks
from chatconform.dialects.anthropic.checks import streaming as stream_checks
from chatconform.dialects.anthropic.reply import read
from chatconform.dialects.anthropic.stream import parse
from chatconform.exchange import Exchange, clip
from chatconform.finding import Finding
from chatconform.probe import TRANSIENT, Probe, ProbeError
from chatconform.probe import over_cap as stop_over_cap
from chatconform.prompts import Prompt
from chatconform.reply import Reply
from chatconform.schemas import schema_errors

INVALID_KEY = "sk-ant-chatconform-invalid-key-000000000000"
MESSAGES = "v1/messages"


class AnthropicProbe(Probe):
    """Sends a case's Messages requests and reads their answers."""

    dialect = "anthropic"
    chat_path = MESSAGES

    def reply(self, exchange: Exchange) -> Reply:
        return read(exchange)

    def plain_body(
        self, plain: Prompt, model: str, max_tokens: int, *, deterministic: bool = True
    ) -> dict[str, Any]:
        sampling = {"temperature": 0} if deterministic else {}
        return requests.message_body(plain, model, max_tokens, **sampling)

    def ask(self, body: dict[str, Any]) -> Exchange:
        return self.messages(body)

    def error_message(self, exchange: Exchange) -> str:
        return error_message(exchange)

    def messages(
        self,
        body: dict[str, Any],
        *,
        headers: dict[str, str | None] | None = None,
        valid: bool = True,
        cut: Cut | None = None,
        path: str = MESSAGES,
    ) -> Exchange:
        """POST /v1/messages; a valid probe is checked against the request schema first.

        ``cut`` (streams) stops reading once it gives a reason: see ``RecordingClient.request``.
        """
        if valid:
            problems = schema_errors("anthropic", "messages_request", body)
            if problems:
                pointer, message = problems[0]
                raise ProbeError(
                    f"probe violates the request schema at {pointer or '/'}: {message}"
                )
        stream = bool(body.get("stream"))
        return self._send("POST", path, json=body, headers=headers, stream=stream, cut=cut)

    def get(self, path: str, headers: dict[str, str | None] | None = None) -> Exchange:
        return self._send("GET", path, headers=headers)

    def post_raw(self, path: str, content: bytes, headers: dict[str, str | None]) -> Exchange:
        return self._send("POST", path, content=content, headers=headers)

    def _error_with_success_status(self, exchange: Exchange) -> list[Finding]:
        return error_checks.no_error_with_200(exchange)

    def _error_envelope(self, exchange: Exchange) -> list[Finding]:
        return error_checks.error_envelope(exchange)

    def _expect_readable(self, exchange: Exchange) -> None:
        """A message must be JSON, a Messages API message (not another dialect's answer),
        with a content array, before its content is judged."""
        if self.record.add(message_checks.message_is_json(exchange), exchange):
            self.record.broken("the response is not JSON (see findings)")
        if self.record.add(message_checks.not_openai_shaped(exchange), exchange):
            self.record.broken("the response is an OpenAI chat.completion, not a message")
        if message_checks.message_of(exchange) is None:
            self.record.add(message_checks.message_matches_schema(exchange), exchange)
            self.record.broken("the response has no readable content (see findings)")

    def check_error(self, exchange: Exchange, statuses: tuple[int, ...]) -> None:
        """What every error response must be: a 4xx (``statuses`` officially), in the
        envelope with the error type of its status, served as JSON; never a 5xx, never an
        error dressed as a 200."""
        if exchange.status in TRANSIENT:
            self.record.inconclusive(
                f"HTTP {exchange.status} after {exchange.attempts} attempts: the provider is "
                f"unavailable, the request was not judged ({error_message(exchange)})"
            )
        for run in (error_checks.no_error_with_200, error_checks.client_error_not_server_error):
            self.record.add(run(exchange), exchange)
        if (exchange.status or 0) >= 400 or error_checks.looks_like_error(exchange):
            self.record.add(error_checks.error_status_as_official(exchange, statuses), exchange)
            if not self.record.add(error_checks.error_envelope(exchange), exchange):
                self.record.add(error_checks.error_type_matches_status(exchange), exchange)
            self.record.add(error_checks.error_served_as_json(exchange), exchange)

    def check_stream(self, exchange: Exchange) -> None:
        """What a stream must be for its content to be judged: an event stream whose
        events are JSON, no error event cutting it, and an end (message_stop). A stream
        that is not stops the case at the first of these that fails."""
        for run in STREAM_FRAMING:
            if self.record.add(run(exchange), exchange):
                self.record.broken("the stream cannot be read as Messages events (see findings)")
        ttft = first_text_s(exchange)
        if ttft is not None:
            self.record.first_token(exchange, ttft)
        self.record.content_events(exchange, content_times(exchange))


# In order: each assumes the ones before it held.
STREAM_FRAMING = (
    stream_checks.content_type_is_event_stream,
    stream_checks.events_are_json,
    stream_checks.no_error_event,
    stream_checks.stream_not_truncated,
)


def content_times(exchange: Exchange) -> list[float]:
    """When each content_block_delta carrying output (text, thinking, tool input) arrived."""
    return [
        exchange.events[i].t
        for i, event in parse(exchange).events
        if event.get("type") == "content_block_delta"
        and isinstance(event.get("delta"), dict)
        and any(event["delta"].get(k) for k in ("text", "thinking", "partial_json"))
    ]


def first_text_s(exchange: Exchange) -> float | None:
    """When the first text or tool input arrived: time to first token."""
    for i, event in parse(exchange).events:
        delta = event.get("delta") if event.get("type") == "content_block_delta" else None
        if isinstance(delta, dict) and (delta.get("text") or delta.get("partial_json")):
            return exchange.events[i].t
    return None


def over_cap(max_tokens: int) -> Cut:
    """Stops reading a stream far over ``max_tokens`` (see ``chatconform.probe.over_cap``)."""
    return stop_over_cap(max_tokens, lambda exchange: read(exchange).text)


def error_message(exchange: Exchange) -> str:
    """The provider's error message (either dialect's envelope), or the start of the body."""
    payload = exchange.json_or_none()
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return clip(error["message"], 200)
    return clip(exchange.body.decode("utf-8", "replace").strip() or "(empty body)", 200)
