"""Probes: how cases talk to a provider in the OpenAI dialect, through the recording client."""

from __future__ import annotations

from typing import Any

from chatconform.budget import TokenLedger
from chatconform.case import CaseRecord
from chatconform.checks import errors as error_checks
from chatconform.checks import response as response_checks
from chatconform.checks import streaming as stream_checks
from chatconform.client import RecordingClient
from chatconform.config import ProviderConfig
from chatconform.exchange import Exchange, clip
from chatconform.finding import make_finding
from chatconform.schemas import schema_errors
from chatconform.stream import parse

INVALID_KEY = "sk-chatconform-invalid-key-0000000000000000"
# Statuses that say nothing about whether the feature is supported: credentials
# refused, a proxy's auth, a timeout. A case that meets one cannot be judged.
NOT_A_REFUSAL = frozenset({401, 403, 407, 408})
# Still unavailable after the client's retries: an outage, not a verdict.
UNAVAILABLE = frozenset({502, 503, 504})


class ProbeError(Exception):
    """The harness built a probe the official API would reject: a bug in the suite."""


class OpenAIProbe:
    """Sends a case's requests, records them, and turns transport trouble into verdicts."""

    def __init__(
        self,
        client: RecordingClient,
        provider: ProviderConfig,
        record: CaseRecord,
        ledger: TokenLedger | None = None,
    ) -> None:
        self.client = client
        self.provider = provider
        self.record = record
        self.ledger = ledger

    def model(self, capability: str) -> str:
        """The model for a capability, or skip the case when none is configured."""
        model = self.provider.model_for(capability)
        if not model:
            self.record.skip(
                f"no model configured for {capability} (set models.{capability} in the config)"
            )
        return model

    def chat(
        self,
        body: dict[str, Any],
        *,
        headers: dict[str, str | None] | None = None,
        valid: bool = True,
    ) -> Exchange:
        """POST /chat/completions; a valid probe is checked against the request schema first."""
        if valid:
            problems = schema_errors("openai", "chat_request", body)
            if problems:
                pointer, message = problems[0]
                raise ProbeError(
                    f"probe violates the request schema at {pointer or '/'}: {message}"
                )
            if "max_tokens" not in body and "max_completion_tokens" not in body:
                raise ProbeError("every probe bounds its cost with max_tokens")
        return self._send(
            "POST", "chat/completions", json=body, headers=headers, stream=bool(body.get("stream"))
        )

    def post_raw(self, path: str, content: bytes, headers: dict[str, str | None]) -> Exchange:
        """POST bytes as they are (a body that is not JSON, say)."""
        return self._send("POST", path, content=content, headers=headers)

    def get(self, path: str) -> Exchange:
        return self._send("GET", path)

    def _send(self, method: str, path: str, **kwargs: Any) -> Exchange:
        if self.ledger is not None and self.ledger.exhausted():
            self.record.inconclusive(
                f"token budget exhausted (max_tokens_total {self.ledger.limit})"
            )
        exchange = self.client.request(method, path, **kwargs)
        self.record.add_exchange(exchange)
        self._account(exchange)
        if exchange.error:
            self.record.inconclusive(f"{method} /{path}: {exchange.error}")
        if exchange.status == 429:
            self.record.inconclusive(
                f"rate limited: HTTP 429 after {exchange.attempts} attempts"
                + (
                    f" (Retry-After: {exchange.headers['retry-after']})"
                    if "retry-after" in exchange.headers
                    else ""
                )
            )
        if exchange.truncated:
            self.record.inconclusive(
                f"response larger than {self.client.limits.max_body_bytes} bytes; cut, not judged"
            )
        return exchange

    def _account(self, exchange: Exchange) -> None:
        usage = parse(exchange).usage() if exchange.streamed else None
        if not exchange.streamed:
            payload = exchange.json_or_none()
            usage = payload.get("usage") if isinstance(payload, dict) else None
        if not isinstance(usage, dict):
            return
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        prompt = prompt if isinstance(prompt, int) else 0
        completion = completion if isinstance(completion, int) else 0
        self.record.prompt_tokens += prompt
        self.record.completion_tokens += completion
        if self.ledger is not None:
            self.ledger.spend(prompt + completion)

    def expect_success(self, exchange: Exchange, *, chat: bool = True) -> None:
        """Judge an exchange for a request that should succeed before checking its content.

        A clean refusal (a 4xx with the error envelope) makes the case
        unsupported; a 5xx after retries, a redirect or refused credentials make
        it inconclusive; an error disguised as a 200, or (``chat``) a body that
        is not a JSON chat.completion, fails it.
        """
        status = exchange.status or 0
        if 200 <= status < 300:
            disguised = self.record.add(error_checks.no_error_with_200(exchange), exchange)
            if disguised:
                self.record.inconclusive("the provider answered with an error (see findings)")
            if chat and not exchange.streamed:
                not_json = self.record.add(response_checks.response_is_json(exchange), exchange)
                if not_json:
                    self.record.inconclusive("the response is not JSON (see findings)")
                if not _has_messages(exchange.json_or_none()):
                    self.record.add(response_checks.response_matches_schema(exchange), exchange)
                    self.record.add(
                        [make_finding(
                            "openai.response.schema",
                            "Expected: choices, a non-empty array of choices with a message\n"
                            f"Received: {clip(repr(exchange.json_or_none().get('choices')), 200)}",
                            location="/choices",
                            evidence=exchange.excerpt(),
                        )],
                        exchange,
                    )  # fmt: skip
                    self.record.inconclusive("the response has no readable choices (see findings)")
            return
        message = error_message(exchange)
        if status >= 500:
            self.record.inconclusive(
                f"HTTP {status} from the provider after {exchange.attempts} attempts: {message}"
            )
        if 300 <= status < 400:
            self.record.inconclusive(
                f"HTTP {status} redirect to {exchange.headers.get('location', '?')!r}: "
                "the base URL may be wrong (the official API never redirects)"
            )
        if status in NOT_A_REFUSAL:
            self.record.inconclusive(f"HTTP {status} for a request that should succeed: {message}")
        self.record.add(error_checks.error_envelope(exchange), exchange)
        self.record.unsupported(f"refused with HTTP {status}: {message}")

    def check_error(self, exchange: Exchange, statuses: tuple[int, ...]) -> None:
        """What every error response must be: a 4xx (``statuses`` officially), in the
        envelope, served as JSON; never a 5xx, never an error dressed as a 200."""
        if exchange.status in UNAVAILABLE:
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
        framing whose events are chunks. A stream that is not stops the case here;
        its other checks would judge noise. Chunk schemas are judged in their own case.
        """
        framing = [
            *self.record.add(stream_checks.content_type_is_event_stream(exchange), exchange),
            *self.record.add(stream_checks.events_are_json_chunks(exchange), exchange),
        ]
        if framing and not parse(exchange).chunks:
            self.record.inconclusive("no chat.completion.chunk could be read from the stream")
        ttft = _first_content_s(exchange)
        if ttft is not None:
            self.record.note(
                f"time to first token {ttft * 1000:.0f} ms; {len(exchange.events)} events "
                f"in {exchange.elapsed_s * 1000:.0f} ms"
            )


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
