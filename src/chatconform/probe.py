"""Probes: how cases talk to a provider in the OpenAI dialect, through the recording client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from chatconform.answers import accepted
from chatconform.budget import TokenLedger
from chatconform.case import CaseRecord, Control
from chatconform.checks import errors as error_checks
from chatconform.checks import refusals as refusal_checks
from chatconform.checks import response as response_checks
from chatconform.checks import streaming as stream_checks
from chatconform.checks.text import answer_text
from chatconform.client import Cut, RecordingClient
from chatconform.config import ProviderConfig
from chatconform.exchange import Exchange, clip
from chatconform.finding import Finding, make_finding
from chatconform.prompts import Prompt, prompt
from chatconform.schemas import schema_errors
from chatconform.stream import parse

# Judges a 5xx from the failed exchange, the same request sent again, and a control.
CrashCheck = Callable[[Exchange, Exchange, Exchange], list[Finding]]
# Room for a one-word or one-number answer, and a short sentence around it.
CONTROL_TOKENS = 16
INVALID_KEY = "sk-chatconform-invalid-key-0000000000000000"
# Statuses that say nothing about whether the feature is supported: credentials
# refused, a proxy's auth, a timeout. A case that meets one cannot be judged.
NOT_A_REFUSAL = frozenset({401, 403, 407, 408})
# Gateway trouble (CDNs' 52x included: 524 is a timeout) or an overloaded provider (529),
# still there after the client's retries: an outage, not a verdict. Any other 5xx may be the provider's defect (see
# ``expect_success``).
TRANSIENT = frozenset({502, 503, 504, 520, 521, 522, 523, 524, 529})


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
        calibrations: dict[str, str | None] | None = None,
    ) -> None:
        self.client = client
        self.provider = provider
        self.record = record
        self.ledger = ledger
        # model -> None when it answered the trivial prompt, else why not; shared by
        # the cases of a worker so the model is calibrated once.
        self.calibrations = {} if calibrations is None else calibrations

    def model(self, capability: str) -> str:
        """The model for a capability, or skip the case when none is configured."""
        model = self.provider.model_for(capability)
        if not model:
            self.record.skip(
                f"no model configured for {capability} (set models.{capability} in the config)"
            )
        return model

    def optional_unless_configured(self, capability: str, feature: str | None = None) -> None:
        """Say what a clean refusal of this case's requests refuses: ``feature`` (a format,
        a parameter) or the case's own; else the capability itself, unless the config
        names a model for it: then its requests are core and a refusal is a failure."""
        if feature is not None:
            self.record.optional = feature
        elif self.record.info.optional is None:
            self.record.optional = None if capability in self.provider.models else capability

    def control(self, plain: Prompt, capability: str, max_tokens: int = CONTROL_TOKENS) -> Control:
        """The control of a semantic probe: ``plain`` asks the same thing without the
        feature under test (an instruction in the user message instead of a system
        message, say). Asked only when the probe was not accepted."""

        def ask() -> str | None:
            reason = self._ask_plain(plain, capability, max_tokens)
            if reason is None:
                self.record.note(
                    f"control: the model answered the plain version ({plain.name}), so the "
                    "failed probe shows a deviation"
                )
            return reason

        return ask

    def calibration(self, capability: str) -> Control:
        """The control of semantic probes that have no plain version (an image seen, a
        tool called): the model answers the trivial prompt. Asked once per model."""

        def ask() -> str | None:
            model = self.model(capability)
            if model in self.calibrations:
                self.record.note(f"calibration of {model}: asked by an earlier case of this run")
            else:
                self.calibrations[model] = self._ask_plain(prompt("arithmetic"), capability)
            reason = self.calibrations[model]
            if reason is None:
                return None
            return f"{model} fails the trivial prompt too ({reason}; see openai/text/basic-answer)"

        return ask

    def _ask_plain(
        self, plain: Prompt, capability: str, max_tokens: int = CONTROL_TOKENS
    ) -> str | None:
        """Ask ``plain`` up to k times: None once answered, else what the model said."""
        body = plain.body(self.model(capability), max_tokens=max_tokens, temperature=0)
        answer = ""
        # A plain prompt is a core request, whatever optional feature the case tests.
        tested, self.record.optional = self.record.optional, None
        try:
            for _ in range(self.record.max_attempts):
                exchange = self.chat(body)
                self.expect_success(exchange)
                answer = answer_text(exchange)
                if accepted(answer, plain.accept):
                    return None
        finally:
            self.record.optional = tested
        wanted = " or ".join(map(repr, plain.accept))
        return f"asked {plain.name}, it answered {clip(answer, 80)!r}, not {wanted}"

    def chat(
        self,
        body: dict[str, Any],
        *,
        headers: dict[str, str | None] | None = None,
        valid: bool = True,
        cut: Cut | None = None,
    ) -> Exchange:
        """POST /chat/completions; a valid probe is checked against the request schema first.

        ``cut`` (streams) stops reading once it gives a reason: see ``RecordingClient.request``.
        """
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

    def expect_success(
        self,
        exchange: Exchange,
        *,
        chat: bool = True,
        control: dict[str, Any] | None = None,
        crash: CrashCheck = refusal_checks.valid_request_not_server_error,
    ) -> None:
        """Judge an exchange for a request that should succeed before checking its content.

        A readable answer returns. Otherwise the case stops: a clean refusal
        (a 4xx with the error envelope) is ``unsupported`` when the case tests an
        optional feature and a failure when it sends a core request; a 5xx that
        persists while a plain ``control`` request is answered is a failure
        (``crash``, a check over it, its resending and the control); transient trouble (502/503/504, redirects, refused
        credentials) is inconclusive; an error dressed as a 200, or (``chat``) a
        body that is not a JSON chat.completion, is a structural failure and the
        content is not judged.
        """
        status = exchange.status or 0
        if 200 <= status < 300:
            if self.record.add(error_checks.no_error_with_200(exchange), exchange):
                self.record.broken("the provider answered with an error (see findings)")
            if chat and not exchange.streamed:
                self._expect_chat_completion(exchange)
            return
        message = error_message(exchange)
        if status in TRANSIENT:
            self.record.inconclusive(
                f"HTTP {status} from the provider after {exchange.attempts} attempts: {message}"
            )
        if status >= 500:
            self._judge_server_error(exchange, control, crash)
        if 300 <= status < 400:
            self.record.inconclusive(
                f"HTTP {status} redirect to {exchange.headers.get('location', '?')!r}: "
                "the base URL may be wrong (the official API never redirects)"
            )
        if status in NOT_A_REFUSAL:
            self.record.inconclusive(f"HTTP {status} for a request that should succeed: {message}")
        self.record.add(error_checks.error_envelope(exchange), exchange)
        if self.record.optional:
            self.record.unsupported(f"{self.record.optional} refused with HTTP {status}: {message}")
        self.record.add(refusal_checks.core_request_not_refused(exchange), exchange)
        self.record.broken(f"a core request was refused with HTTP {status}: {message}")

    def _expect_chat_completion(self, exchange: Exchange) -> None:
        if self.record.add(response_checks.response_is_json(exchange), exchange):
            self.record.broken("the response is not JSON (see findings)")
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
            self.record.broken("the response has no readable choices (see findings)")

    def _judge_server_error(
        self, exchange: Exchange, control: dict[str, Any] | None, crash: CrashCheck
    ) -> NoReturn:
        """A 5xx is the provider's defect when the same request fails again while a plain
        request is answered; when the plain one fails too, the provider is down."""
        status, message = exchange.status, error_message(exchange)
        repeat = self._resend(exchange)
        if not (repeat.status or 0) >= 500:
            self.record.inconclusive(
                f"HTTP {status} ({message}), then HTTP {repeat.status} for the same request: "
                "a transient failure"
            )
        plain = control or prompt("liveness").body(self._plain_model(exchange), max_tokens=8)
        answered = self._send("POST", "chat/completions", json=plain)
        findings = crash(exchange, repeat, answered)
        if not findings:
            self.record.inconclusive(
                f"HTTP {status} ({message}) for this request and HTTP {answered.status} for a "
                "plain control request: the provider is failing, not this request"
            )
        self.record.add(findings, exchange)
        self.record.broken(f"HTTP {status} every time for a valid request: {message}")

    def _plain_model(self, exchange: Exchange) -> str:
        """The model of the failed request, or (a GET has none) the text model."""
        body = exchange.request.json() if exchange.request.body else None
        model = body.get("model") if isinstance(body, dict) else None
        return model if isinstance(model, str) and model else self.provider.model_for("text") or ""

    def _resend(self, exchange: Exchange) -> Exchange:
        path = exchange.request.url.removeprefix(self.client.base_url).lstrip("/")
        return self._send(
            exchange.request.method,
            path,
            json=exchange.request.json(),
            stream=exchange.streamed,
        )

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
            self.record.note(
                f"time to first token {ttft * 1000:.0f} ms; {len(exchange.events)} events "
                f"in {exchange.elapsed_s * 1000:.0f} ms"
            )


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
    """Stops reading a stream once it is far over ``max_tokens``: past that, more proves
    nothing and costs the user money. A token holds at most one word of the probes that
    test caps; a provider may also spend its tokens on events without words (empty
    deltas, reasoning fields), so events count too."""
    words_limit = 4 * max_tokens + 20
    events_limit = 10 * words_limit

    def cut(exchange: Exchange) -> str | None:
        words = len(answer_text(exchange).split())
        if words > words_limit:
            return f"{words} words streamed for a cap of {max_tokens} tokens"
        if len(exchange.events) > events_limit:
            return f"{len(exchange.events)} events streamed for a cap of {max_tokens} tokens"
        return None

    return cut


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
