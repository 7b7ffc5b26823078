"""Probes: how cases talk to a provider through the recording client, in any dialect.

What is the same in every dialect lives here: the model of a capability, controls and
calibration, token accounting, and the transport and status policy that turns a
refusal, a crash or an outage into a verdict. A dialect's probe says how its requests
are built and sent, how an answer reads as a ``Reply``, and what its error body is.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, NoReturn

from chatconform import refusals
from chatconform.answers import accepted
from chatconform.budget import TokenLedger
from chatconform.case import CaseRecord, Control
from chatconform.client import Cut, RecordingClient, request_body
from chatconform.config import DialectConfig, ProviderConfig
from chatconform.exchange import Exchange, clip
from chatconform.finding import Finding
from chatconform.prompts import Prompt, prompt
from chatconform.rate import estimated_tokens
from chatconform.reply import Reply

# Judges a 5xx from the failed exchange, the same request sent again, and a control.
CrashCheck = Callable[[Exchange, Exchange, Exchange], list[Finding]]
# Room for a one-word or one-number answer, and a short sentence around it.
CONTROL_TOKENS = 16
# Statuses that say nothing about whether the feature is supported: credentials
# refused, a proxy's auth, a timeout. A case that meets one cannot be judged.
NOT_A_REFUSAL = frozenset({401, 403, 407, 408})
# Gateway trouble (CDNs' 52x included: 524 is a timeout) or an overloaded provider (529),
# still there after the client's retries: an outage, not a verdict. Any other 5xx may be
# the provider's defect (see ``Probe.expect_success``).
TRANSIENT = frozenset({502, 503, 504, 520, 521, 522, 523, 524, 529})

# A model's calibration is asked once per process, even by cases in flight together;
# each model's on its own lock, so that two dialects' calibrations are asked at once.
_CALIBRATING: dict[str, threading.Lock] = {}


class ProbeError(Exception):
    """The harness built a probe the official API would reject: a bug in the suite."""


class Probe(ABC):
    """Sends a case's requests, records them, and turns transport trouble into verdicts."""

    dialect: ClassVar[str]
    # The endpoint of the dialect's chat requests, relative to its base URL.
    chat_path: ClassVar[str]

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

    @property
    def spoken(self) -> DialectConfig:
        """How the provider speaks this probe's dialect."""
        spoken = self.provider.dialect(self.dialect)
        if spoken is None:
            self.record.skip(f"{self.provider.name} does not offer the {self.dialect} dialect")
        return spoken

    # --- what a dialect provides -------------------------------------------------------

    @abstractmethod
    def reply(self, exchange: Exchange) -> Reply:
        """The exchange's answer as a client reads it."""

    @abstractmethod
    def plain_body(
        self, plain: Prompt, model: str, max_tokens: int, *, deterministic: bool = True
    ) -> dict[str, Any]:
        """A request asking ``plain``, with nothing optional in it; ``deterministic`` adds
        temperature 0 (a liveness check sends no sampling parameter at all: some models
        refuse any)."""

    @abstractmethod
    def ask(self, body: dict[str, Any]) -> Exchange:
        """Send a chat request of the dialect (checked against its request schema)."""

    @abstractmethod
    def error_message(self, exchange: Exchange) -> str:
        """The provider's error message, or the start of the body: for reasons and notes."""

    @abstractmethod
    def _expect_readable(self, exchange: Exchange) -> None:
        """Stop the case unless a 2xx non-streamed answer can be read at all."""

    @abstractmethod
    def _error_with_success_status(self, exchange: Exchange) -> list[Finding]:
        """Findings of an error dressed as a success (a 2xx whose body is an error)."""

    @abstractmethod
    def _error_envelope(self, exchange: Exchange) -> list[Finding]:
        """Findings of an error body not in the dialect's error envelope."""

    # --- shared -------------------------------------------------------------------------

    def model(self, capability: str) -> str:
        """The model for a capability, or skip the case when none is configured."""
        model = self.spoken.model_for(capability)
        if not model:
            self.record.skip(
                f"no model configured for {capability} "
                f"(set models.{capability} of the {self.dialect} dialect in the config)"
            )
        return model

    def optional_unless_configured(self, capability: str, feature: str | None = None) -> None:
        """Say what a clean refusal of this case's requests refuses: ``feature`` (a format,
        a parameter) or the case's own; else the capability itself, unless the config
        names a model for it: then its requests are core and a refusal is a failure."""
        if feature is not None:
            self.record.optional = feature
        elif self.record.info.optional is None:
            self.record.optional = None if capability in self.spoken.models else capability

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
            key = f"{self.dialect}:{model}"
            # Cases in flight together ask once: the others wait for that answer.
            with _CALIBRATING.setdefault(key, threading.Lock()):
                if key in self.calibrations:
                    self.record.note(
                        f"calibration of {model}: asked by an earlier case of this run"
                    )
                else:
                    self.calibrations[key] = self._ask_plain(prompt("arithmetic"), capability)
            reason = self.calibrations[key]
            if reason is None:
                return None
            return (
                f"{model} fails the trivial prompt too "
                f"({reason}; see {self.dialect}/text/basic-answer)"
            )

        return ask

    def _ask_plain(
        self, plain: Prompt, capability: str, max_tokens: int = CONTROL_TOKENS
    ) -> str | None:
        """Ask ``plain`` up to k times: None once answered, else what the model said."""
        body = self.plain_body(plain, self.model(capability), max_tokens)
        answer = ""
        # A plain prompt is a core request, whatever optional feature the case tests.
        tested, self.record.optional = self.record.optional, None
        try:
            for _ in range(self.record.max_attempts):
                exchange = self.ask(body)
                self.expect_success(exchange)
                answer = self.reply(exchange).text
                if accepted(answer, plain.accept):
                    return None
        finally:
            self.record.optional = tested
        wanted = " or ".join(map(repr, plain.accept))
        return f"asked {plain.name}, it answered {clip(answer, 80)!r}, not {wanted}"

    def _send(self, method: str, path: str, **kwargs: Any) -> Exchange:
        held = 0
        if self.ledger is not None:
            payload = kwargs.get("json")
            held = estimated_tokens(payload, request_body(payload, kwargs.get("content")))
            if not self.ledger.hold(held):
                self.record.inconclusive(
                    f"token budget exhausted (max_tokens_total {self.ledger.limit}; "
                    f"this request may cost up to ~{held} tokens)"
                )
        try:
            exchange = self.client.request(method, path, **kwargs)
        except BaseException:
            if self.ledger is not None:
                self.ledger.settle(held, held)
            raise
        self.record.add_exchange(exchange)
        reported = self._account(exchange)
        if self.ledger is not None:
            # What the answer says it cost; an answer that says nothing (a stream without
            # usage, one cut far over its cap, a broken body) is charged its estimate.
            self.ledger.settle(held, held if reported is None else reported)
        self.judge_transport(exchange)
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

    def judge_transport(self, exchange: Exchange) -> None:
        """Stop the case when the response's bytes cannot be read at all (a body not
        encoded as its Content-Encoding says, or not UTF-8): a finding, not an outage,
        and nothing in the body is judged."""
        if self.record.add(self._transport_findings(exchange), exchange):
            self.record.broken("the response's bytes cannot be read (see findings)")

    def _transport_findings(self, exchange: Exchange) -> list[Finding]:
        """Findings of bytes no client reads past. A dialect without such checks finds
        none, and its transport errors stay inconclusive."""
        return []

    def _account(self, exchange: Exchange) -> int | None:
        """Count the tokens the answer reports into the case; None when it reports none
        (an error costs nothing)."""
        if not 200 <= (exchange.status or 0) < 300:
            return 0 if exchange.status else None
        usage = self.reply(exchange).usage
        if usage is None:
            return None
        self.record.count_usage(exchange, usage.input_tokens, usage.output_tokens)
        return usage.total

    def expect_success(
        self,
        exchange: Exchange,
        *,
        chat: bool = True,
        control: dict[str, Any] | None = None,
        crash: CrashCheck | None = None,
    ) -> None:
        """Judge an exchange for a request that should succeed before checking its content.

        A readable answer returns. Otherwise the case stops: a clean refusal (a 4xx with
        the error envelope) is ``unsupported`` when the case tests an optional feature
        and a failure when it sends a core request; a 5xx that persists while a plain
        ``control`` request is answered is a failure (``crash``, a check over it, its
        resending and the control); transient trouble (502/503/504, redirects, refused
        credentials) is inconclusive; an error dressed as a 200, or (``chat``) a body
        that is not a readable answer, is a structural failure and the content is not
        judged.
        """
        status = exchange.status or 0
        if 200 <= status < 300:
            if self.record.add(self._error_with_success_status(exchange), exchange):
                self.record.broken("the provider answered with an error (see findings)")
            if chat and not exchange.streamed:
                self._expect_readable(exchange)
            return
        message = self.error_message(exchange)
        if status in TRANSIENT:
            self.record.inconclusive(
                f"HTTP {status} from the provider after {exchange.attempts} attempts: {message}"
            )
        if status >= 500:
            self._judge_server_error(
                exchange, control, crash or refusals.valid_request_not_server_error[self.dialect]
            )
        if 300 <= status < 400:
            self.record.inconclusive(
                f"HTTP {status} redirect to {exchange.headers.get('location', '?')!r}: "
                "the base URL may be wrong (the official API never redirects)"
            )
        if status in NOT_A_REFUSAL:
            self.record.inconclusive(f"HTTP {status} for a request that should succeed: {message}")
        self.record.add(self._error_envelope(exchange), exchange)
        if self.record.optional:
            self.record.unsupported(f"{self.record.optional} refused with HTTP {status}: {message}")
        self.record.add(refusals.core_request_not_refused[self.dialect](exchange), exchange)
        self.record.broken(f"a core request was refused with HTTP {status}: {message}")

    def _judge_server_error(
        self, exchange: Exchange, control: dict[str, Any] | None, crash: CrashCheck
    ) -> NoReturn:
        """A 5xx is the provider's defect when the same request fails again while a plain
        request is answered; when the plain one fails too, the provider is down."""
        status, message = exchange.status, self.error_message(exchange)
        repeat = self._resend(exchange)
        if not (repeat.status or 0) >= 500:
            self.record.inconclusive(
                f"HTTP {status} ({message}), then HTTP {repeat.status} for the same request: "
                "a transient failure"
            )
        plain = control or self.plain_body(
            prompt("liveness"), self._plain_model(exchange), 8, deterministic=False
        )
        answered = self._send("POST", self.chat_path, json=plain)
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
        return model if isinstance(model, str) and model else self.spoken.model_for("text") or ""

    def _resend(self, exchange: Exchange) -> Exchange:
        path = exchange.request.url.removeprefix(self.client.base_url).lstrip("/")
        return self._send(
            exchange.request.method,
            path,
            json=exchange.request.json(),
            stream=exchange.streamed,
        )


def over_cap(max_tokens: int, text: Callable[[Exchange], str]) -> Cut:
    """Stops reading a stream once it is far over ``max_tokens``: past that, more proves
    nothing and costs the user money. A token holds at most one word of the probes that
    test caps; a provider may also spend its tokens on events without words (empty
    deltas, reasoning fields), so events count too. ``text`` reads the answer so far."""
    words_limit = 4 * max_tokens + 20
    events_limit = 10 * words_limit

    def cut(exchange: Exchange) -> str | None:
        words = len(text(exchange).split())
        if words > words_limit:
            return f"{words} words streamed for a cap of {max_tokens} tokens"
        if len(exchange.events) > events_limit:
            return f"{len(exchange.events)} events streamed for a cap of {max_tokens} tokens"
        return None

    return cut
