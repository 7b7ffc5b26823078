"""Probes in the OpenAI Chat Completions dialect: requests, replies, error bodies."""

from __future__ import annotations

from typing import Any

from chatconform.client import Cut
from chatconform.dialects.openai.checks import completion as completion_checks
from chatconform.dialects.openai.checks import embeddings as embedding_checks
from chatconform.dialects.openai.checks import errors as error_checks
from chatconform.dialects.openai.checks import streaming as stream_checks
from chatconform.dialects.openai.checks import transport as transport_checks
from chatconform.dialects.openai.checks.text import answer_text
from chatconform.dialects.openai.reply import read
from chatconform.dialects.openai.requests import chat_body, with_token_param
from chatconform.dialects.openai.stream import parse
from chatconform.exchange import Exchange, clip
from chatconform.finding import Finding, make_finding
from chatconform.probe import TRANSIENT, Probe, ProbeError
from chatconform.probe import over_cap as stop_over_cap
from chatconform.prompts import Prompt, prompt
from chatconform.reply import Reply
from chatconform.schemas import schema_errors

INVALID_KEY = "sk-chatconform-invalid-key-0000000000000000"


class OpenAIProbe(Probe):
    """Sends a case's Chat Completions requests and reads their answers."""

    dialect = "openai"
    chat_path = "chat/completions"

    def reply(self, exchange: Exchange) -> Reply:
        return read(exchange)

    def plain_body(
        self, plain: Prompt, model: str, max_tokens: int, *, deterministic: bool = True
    ) -> dict[str, Any]:
        sampling = {"temperature": 0} if deterministic else {}
        body = chat_body(plain, model, max_tokens=max_tokens, **sampling)
        return with_token_param(body, self.provider.token_param)

    def ask(self, body: dict[str, Any]) -> Exchange:
        return self.chat(body)

    def error_message(self, exchange: Exchange) -> str:
        return error_message(exchange)

    def _error_with_success_status(self, exchange: Exchange) -> list[Finding]:
        return error_checks.no_error_with_200(exchange)

    def _error_envelope(self, exchange: Exchange) -> list[Finding]:
        return error_checks.error_envelope(exchange)

    def _transport_findings(self, exchange: Exchange) -> list[Finding]:
        return [
            *transport_checks.body_decodes_as_its_content_encoding(exchange),
            *transport_checks.body_is_utf8(exchange),
        ]

    def chat(
        self,
        body: dict[str, Any],
        *,
        headers: dict[str, str | None] | None = None,
        valid: bool = True,
        cut: Cut | None = None,
        as_given: bool = False,
    ) -> Exchange:
        """POST /chat/completions; a valid probe is checked against the request schema first.

        ``cut`` (streams) stops reading once it gives a reason: see ``RecordingClient.request``.
        The cap goes under the provider's ``token_param`` unless ``as_given`` (a case that
        tests max_tokens itself).
        """
        if not as_given:
            body = with_token_param(body, self.provider.token_param)
        if valid:
            problems = schema_errors("openai", "chat_request", body)
            if problems:
                pointer, message = problems[0]
                raise ProbeError(
                    f"probe violates the request schema at {pointer or '/'}: {message}"
                )
            if "max_tokens" not in body and "max_completion_tokens" not in body:
                raise ProbeError("every probe bounds its cost with max_tokens")
        stream = bool(body.get("stream"))
        return self._send(
            "POST", "chat/completions", json=body, headers=headers, stream=stream, cut=cut
        )

    def embed(self, body: dict[str, Any], *, valid: bool = True) -> Exchange:
        """POST /embeddings; a valid probe is checked against the request schema first."""
        if valid:
            problems = schema_errors("openai", "embeddings_request", body)
            if problems:
                pointer, message = problems[0]
                raise ProbeError(
                    f"probe violates the embeddings request schema at {pointer or '/'}: {message}"
                )
        return self._send("POST", "embeddings", json=body)

    def expect_embeddings(self, exchange: Exchange) -> None:
        """Stop the case unless the exchange is a successful, readable list of embeddings
        (refusals, outages and crashes judged as for any request, a plain chat request as
        the control of a 5xx)."""
        liveness = self.plain_body(
            prompt("liveness"), self.spoken.model_for("text") or "", 8, deterministic=False
        )
        self.expect_success(exchange, chat=False, control=liveness)
        if self.record.add(embedding_checks.embeddings_schema(exchange), exchange):
            self.record.broken("the response is not a list of embeddings (see findings)")

    def post_raw(self, path: str, content: bytes, headers: dict[str, str | None]) -> Exchange:
        """POST bytes as they are (a body that is not JSON, say)."""
        return self._send("POST", path, content=content, headers=headers)

    def get(self, path: str) -> Exchange:
        return self._send("GET", path)

    def _expect_readable(self, exchange: Exchange) -> None:
        if self.record.add(completion_checks.response_is_json(exchange), exchange):
            self.record.broken("the response is not JSON (see findings)")
        if not _has_messages(exchange.json_or_none()):
            self.record.add(completion_checks.response_matches_schema(exchange), exchange)
            self.record.add(
                [make_finding(
                    "openai.completion.schema",
                    "Expected: choices, a non-empty array of choices with a message\n"
                    f"Received: {clip(repr(exchange.json_or_none().get('choices')), 200)}",
                    location="/choices",
                    evidence=exchange.excerpt(),
                )],
                exchange,
            )  # fmt: skip
            self.record.broken("the response has no readable choices (see findings)")

    def check_error(self, exchange: Exchange, statuses: tuple[int, ...]) -> None:
        """What every error response must be: a 4xx (``statuses`` officially), in the
        envelope, served as JSON; never a 5xx, never an error dressed as a 200."""
        if exchange.status in TRANSIENT:
            self.record.inconclusive(
                f"HTTP {exchange.status} after {exchange.attempts} attempts: the provider is "
                f"unavailable, the request was not judged ({error_message(exchange)})"
            )
        for run in (error_checks.no_error_with_200, error_checks.client_error_not_server_error):
            self.record.add(run(exchange), exchange)
        if (exchange.status or 0) >= 400 or error_checks.looks_like_error(exchange):
            self.record.add(error_checks.error_status_as_official(exchange, statuses), exchange)
            for run in (
                error_checks.error_envelope,
                error_checks.error_envelope_complete,
                error_checks.error_served_as_json,
            ):
                self.record.add(run(exchange), exchange)

    def check_stream(self, exchange: Exchange) -> None:
        """What a stream must be for any of its content to be judged: event-stream
        framing whose events are all chunks, no error event cutting it, an end (a
        finish_reason or [DONE]), and deltas that add to each other. A stream that is
        not stops the case at the first of these that fails: its content is partial,
        and judging it (or the next framing rule) would blame the provider for what
        that one fault hid. Chunk schemas are judged in their own case.
        """
        for run in STREAM_FRAMING:
            if self.record.add(run(exchange), exchange):
                self.record.broken("the stream cannot be read as chunks (see findings)")
        ttft = _first_content_s(exchange)
        if ttft is not None:
            self.record.first_token(exchange, ttft)
        self.record.content_events(exchange, content_times(exchange))


# In order: each assumes the ones before it held (a body that is not an event stream has
# no events to be chunks, and no end either).
STREAM_FRAMING = (
    stream_checks.content_type_is_event_stream,
    stream_checks.events_are_json_chunks,
    stream_checks.no_error_event,
    stream_checks.stream_not_truncated,
    stream_checks.deltas_are_incremental,
)


def over_cap(max_tokens: int) -> Cut:
    """Stops reading a stream far over ``max_tokens`` (see ``chatconform.probe.over_cap``)."""
    return stop_over_cap(max_tokens, answer_text)


# The delta fields that carry generated output: the answer, reasoning (vendor fields), calls.
OUTPUT_FIELDS = ("content", "reasoning_content", "reasoning", "tool_calls", "function_call")


def content_times(exchange: Exchange) -> list[float]:
    """When each chunk carrying generated output arrived (seconds from the request)."""
    return [
        exchange.events[i].t
        for i, chunk in parse(exchange).chunks
        if any(
            isinstance(entry, dict)
            and isinstance(entry.get("delta"), dict)
            and any(entry["delta"].get(f) for f in OUTPUT_FIELDS)
            for entry in chunk.get("choices") or []
        )
    ]


def _first_content_s(exchange: Exchange) -> float | None:
    for i, chunk in parse(exchange).chunks:
        for entry in chunk.get("choices") or []:
            delta = entry.get("delta") if isinstance(entry, dict) else None
            if isinstance(delta, dict) and delta.get("content"):
                return exchange.events[i].t
    return None


def _has_messages(payload: Any) -> bool:
    """Whether a chat.completion can be read at all: choices, each with a message object."""
    entries = payload.get("choices") if isinstance(payload, dict) else None
    return (
        isinstance(entries, list)
        and bool(entries)
        and all(isinstance(c, dict) and isinstance(c.get("message"), dict) for c in entries)
    )


def error_message(exchange: Exchange) -> str:
    """The provider's error message, or the start of the body, bounded: for reasons and notes."""
    error = error_checks.error_object(exchange)
    if error is not None and isinstance(error.get("message"), str):
        return clip(error["message"], 200)
    return clip(exchange.body.decode("utf-8", "replace").strip() or "(empty body)", 200)
