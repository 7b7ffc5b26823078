"""Probes: how a response to a request that should succeed, or fail, becomes a verdict."""

from __future__ import annotations

import json

import httpx
import pytest

from chatconform.case import CaseInfo, CaseRecord, CaseStop
from chatconform.client import RecordingClient
from chatconform.config import single
from chatconform.dialects.openai.probe import OpenAIProbe, ProbeError, over_cap
from chatconform.exchange import Exchange, RecordedRequest, StreamEvent
from chatconform.prompts import prompt
from chatconform.verdict import Verdict

ENVELOPE = {
    "error": {
        "message": "n is not supported",
        "type": "invalid_request_error",
        "param": "n",
        "code": None,
    }
}
BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}


ANSWER = json.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1763770000,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "2"},
                "finish_reason": "stop",
            }
        ],
    }
).encode()


def probe_answering(
    status: int | list[int],
    body: bytes,
    headers: dict[str, str] | None = None,
    *,
    optional: str | None = None,
) -> OpenAIProbe:
    """A probe whose provider answers ``status`` (one per request, in turn, the last
    repeated) with ``body``; a 2xx is answered with a chat.completion."""
    statuses = status if isinstance(status, list) else [status]
    sent = []

    def respond(request: httpx.Request) -> httpx.Response:
        code = statuses[min(len(sent), len(statuses) - 1)]
        sent.append(request)
        return httpx.Response(
            code,
            content=ANSWER if 200 <= code < 300 and len(statuses) > 1 else body,
            headers=headers or {"content-type": "application/json"},
        )

    client = RecordingClient(
        "http://provider.test/v1", transport=httpx.MockTransport(respond), sleep=lambda _: None
    )
    info = CaseInfo("openai/text/x", "t", "r", "s", optional=optional)
    record = CaseRecord(info=info, case_id="openai/text/x")
    return OpenAIProbe(client, single("p", "http://provider.test/v1"), record)


def stop_of(action) -> tuple[Verdict, str]:
    with pytest.raises(CaseStop) as stop:
        action()
    return stop.value.verdict, stop.value.reason


@pytest.mark.parametrize(
    ("status", "headers", "optional", "verdict", "reason", "rules"),
    [
        # A clean refusal of an optional feature is honest; of a core request, a failure.
        (400, None, "n", Verdict.UNSUPPORTED, "n refused with HTTP 400: n is not supported", []),
        (404, None, "n", Verdict.UNSUPPORTED, "n refused with HTTP 404: n is not supported", []),
        (400, None, None, Verdict.FAIL, "a core request was refused with HTTP 400",
         ["openai.request.refused"]),
        (404, None, None, Verdict.FAIL, "a core request was refused with HTTP 404",
         ["openai.request.refused"]),
        (401, None, None, Verdict.INCONCLUSIVE, "HTTP 401 for a request that should succeed", []),
        (403, None, "n", Verdict.INCONCLUSIVE, "HTTP 403 for a request that should succeed", []),
        (502, None, None, Verdict.INCONCLUSIVE, "HTTP 502 from the provider after 1 attempts", []),
        (504, None, None, Verdict.INCONCLUSIVE, "HTTP 504 from the provider after 1 attempts", []),
        # Every request gets 500, the plain control too: an outage, not this request's defect.
        (500, None, None, Verdict.INCONCLUSIVE, "HTTP 500 (n is not supported) for this request "
         "and HTTP 500 for a plain control request", []),
        ([500, 200], None, None, Verdict.INCONCLUSIVE,
         "HTTP 500 (n is not supported), then HTTP 200 for the same request: a transient", []),
        # 500 twice while a plain request is answered: the provider's defect.
        ([500, 500, 200], None, None, Verdict.FAIL, "HTTP 500 every time for a valid request",
         ["openai.request.server-error"]),
        (301, {"location": "https://x.example/v1/chat/completions"}, None, Verdict.INCONCLUSIVE,
         "HTTP 301 redirect to 'https://x.example/v1/chat/completions'", []),
    ],
)  # fmt: skip
def test_what_a_failed_request_that_should_succeed_means(
    status: int | list[int],
    headers: dict | None,
    optional: str | None,
    verdict: Verdict,
    reason: str,
    rules: list[str],
) -> None:
    openai = probe_answering(status, json.dumps(ENVELOPE).encode(), headers, optional=optional)
    exchange = openai.chat(BODY)
    stopped, got_reason = stop_of(lambda: openai.expect_success(exchange))
    assert openai.record.verdict(stopped) is verdict
    assert got_reason.startswith(reason)
    assert [f.rule for f in openai.record.unique_findings()] == rules
    assert {f.exchange for f in openai.record.findings} <= {0}, "the first exchange shows it"


def test_a_persistent_5xx_sends_the_request_again_then_a_plain_control() -> None:
    openai = probe_answering([500, 500, 200], json.dumps(ENVELOPE).encode())
    stop_of(lambda: openai.expect_success(openai.chat(BODY)))
    sent = [e.request.json() for e in openai.record.exchanges]
    assert sent[0] == sent[1] == BODY
    assert sent[2]["messages"] != BODY["messages"] and sent[2]["max_tokens"] <= 16
    finding = openai.record.findings[0]
    assert "HTTP 500, and HTTP 500 when sent again" in finding.message
    assert "got HTTP 200" in finding.message


def test_a_refusal_without_the_envelope_fails() -> None:
    openai = probe_answering(
        400, b"<html>Bad Request</html>", {"content-type": "text/html"}, optional="n"
    )
    exchange = openai.chat(BODY)
    stopped, _ = stop_of(lambda: openai.expect_success(exchange))
    assert openai.record.verdict(stopped) is Verdict.FAIL
    assert [f.rule for f in openai.record.findings] == ["openai.error.envelope"]


def test_an_error_probe_meeting_an_outage_is_not_judged() -> None:
    openai = probe_answering(503, json.dumps(ENVELOPE).encode())
    exchange = openai.chat(BODY)
    verdict, reason = stop_of(lambda: openai.check_error(exchange, (400,)))
    assert verdict is Verdict.INCONCLUSIVE and "unavailable" in reason
    assert openai.record.findings == []


def test_an_error_probe_answered_with_500_fails() -> None:
    openai = probe_answering(500, json.dumps(ENVELOPE).encode())
    openai.check_error(openai.chat(BODY), (400,))
    assert [f.rule for f in openai.record.findings] == ["openai.error.server-error"]


def test_a_probe_the_official_api_would_reject_is_a_harness_error() -> None:
    openai = probe_answering(200, b"{}")
    with pytest.raises(ProbeError, match="request schema at /messages"):
        openai.chat({"model": "m", "messages": [], "max_tokens": 5})
    with pytest.raises(ProbeError, match="max_tokens"):
        openai.chat({"model": "m", "messages": [{"role": "user", "content": "hi"}]})


@pytest.mark.parametrize("choices", ['"none"', "[]", '[{"index": 0}]', "[1]"])
def test_a_response_without_readable_choices_fails_before_anything_is_judged(choices: str) -> None:
    body = f'{{"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": {choices}}}'
    openai = probe_answering(200, body.encode())
    exchange = openai.chat(BODY)
    stopped, _ = stop_of(lambda: openai.expect_success(exchange))
    assert stopped is Verdict.FAIL and openai.record.verdict(stopped) is Verdict.FAIL
    assert "openai.completion.schema" in {f.rule for f in openai.record.findings}


def probe_saying(content: str, calibrations: dict | None = None) -> OpenAIProbe:
    """A provider whose model answers every prompt with ``content``."""
    answer = json.loads(ANSWER)
    answer["choices"][0]["message"]["content"] = content

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answer)

    client = RecordingClient("http://provider.test/v1", transport=httpx.MockTransport(respond))
    record = CaseRecord(info=CaseInfo("openai/vision/x", "t", "r", "s"), case_id="x")
    provider = single("p", "http://provider.test/v1", models={"default": "m"})
    return OpenAIProbe(client, provider, record, calibrations=calibrations)


def test_a_control_answered_allows_the_claim() -> None:
    openai = probe_saying("kiwi")
    assert openai.control(prompt("system_codeword").control, "text")() is None
    assert len(openai.record.exchanges) == 1
    assert "answered the plain version" in openai.record.notes[0]


def test_a_control_not_answered_says_what_the_model_said() -> None:
    openai = probe_saying("I always say this.")
    reason = openai.control(prompt("system_codeword").control, "text")()
    assert reason is not None and "'I always say this.'" in reason and "'kiwi'" in reason
    assert len(openai.record.exchanges) == openai.record.max_attempts


def test_calibration_asks_the_trivial_prompt_once_per_model() -> None:
    shared: dict = {}
    first = probe_saying("I always say this.", shared)
    reason = first.calibration("vision")()
    assert reason is not None and reason.startswith("m fails the trivial prompt too (asked")
    assert "openai/text/basic-answer" in reason
    asked = [e.request.json()["messages"] for e in first.record.exchanges]
    assert asked and all(m == list(prompt("arithmetic").messages) for m in asked)
    later = probe_saying("5", shared)
    assert later.calibration("tools")() == reason, "the model's calibration is reused"
    assert later.record.exchanges == []
    assert probe_saying("5", {}).calibration("tools")() is None


def test_a_stream_far_over_its_cap_is_cut_by_the_suite() -> None:
    events = [
        {"choices": [{"index": 0, "delta": {"content": f"{n} "}, "finish_reason": None}]}
        for n in range(1, 5000)
    ]
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events).encode()

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=iter(body[i : i + 64] for i in range(0, len(body), 64)),
            headers={"content-type": "text/event-stream"},
        )

    client = RecordingClient("http://provider.test/v1", transport=httpx.MockTransport(respond))
    record = CaseRecord(info=CaseInfo("openai/text/x", "t", "r", "s"), case_id="x")
    openai = OpenAIProbe(client, single("p", "http://provider.test/v1"), record)
    exchange = openai.chat({**BODY, "stream": True}, cut=over_cap(5))
    assert exchange.cut == "41 words streamed for a cap of 5 tokens"
    assert exchange.error is None
    assert len(exchange.events) < 100, "the rest of the stream was not read"


def test_a_stream_of_wordless_events_is_cut_too() -> None:
    cut = over_cap(5)
    exchange = Exchange(request=RecordedRequest("POST", "http://p.test/v1/x", {}), streamed=True)
    empty = '{"choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": null}]}'
    exchange.events = [StreamEvent(empty)] * 400
    assert cut(exchange) is None
    exchange.events = [StreamEvent(empty)] * 401
    assert cut(exchange) == "401 events streamed for a cap of 5 tokens"


@pytest.mark.parametrize("status", [520, 524, 529])
def test_a_cdn_timeout_or_overload_is_transient(status: int) -> None:
    openai = probe_answering(status, json.dumps(ENVELOPE).encode())
    stopped, reason = stop_of(lambda: openai.expect_success(openai.chat(BODY)))
    assert stopped is Verdict.INCONCLUSIVE and reason.startswith(f"HTTP {status}")
    assert len(openai.record.exchanges) == 1, "no resend, no control"


def test_a_get_that_keeps_failing_is_controlled_with_the_text_model() -> None:
    openai = probe_answering([500, 500, 200], json.dumps(ENVELOPE).encode())
    openai.provider = single("p", "http://provider.test/v1", models={"default": "m"})
    stopped, _ = stop_of(lambda: openai.expect_success(openai.get("models"), chat=False))
    assert openai.record.verdict(stopped) is Verdict.FAIL
    assert openai.record.exchanges[2].request.json()["model"] == "m"


EMBEDDINGS_BODY = {"model": "e", "input": "hi"}


def test_an_embeddings_probe_the_official_api_would_reject_is_a_harness_error() -> None:
    openai = probe_answering(200, b"{}")
    with pytest.raises(ProbeError, match="embeddings request schema at /input"):
        openai.embed({"model": "e", "input": ""})
    openai.embed({"model": "e", "input": ""}, valid=False)
    assert openai.record.exchanges[0].request.url.endswith("/v1/embeddings")


def test_an_embeddings_answer_that_is_not_a_list_of_embeddings_stops_the_case() -> None:
    openai = probe_answering(200, json.dumps({"model": "e", "embeddings": [[0.1, 0.2]]}).encode())
    stopped, reason = stop_of(lambda: openai.expect_embeddings(openai.embed(EMBEDDINGS_BODY)))
    assert openai.record.verdict(stopped) is Verdict.FAIL
    assert reason == "the response is not a list of embeddings (see findings)"
    assert {f.rule for f in openai.record.findings} == {"openai.embeddings.schema"}


def test_an_embeddings_request_that_keeps_failing_is_controlled_with_a_chat_request() -> None:
    openai = probe_answering([500, 500, 200], json.dumps(ENVELOPE).encode())
    openai.provider = single("p", "http://provider.test/v1", models={"default": "m"})
    stopped, _ = stop_of(lambda: openai.expect_embeddings(openai.embed(EMBEDDINGS_BODY)))
    assert openai.record.verdict(stopped) is Verdict.FAIL
    control = openai.record.exchanges[2]
    assert control.request.url.endswith("/chat/completions")
    assert control.request.json()["model"] == "m"


def test_probes_send_the_cap_under_the_providers_token_param() -> None:
    sent: list[dict] = []

    def respond(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, content=ANSWER, headers={"content-type": "application/json"})

    client = RecordingClient("http://provider.test/v1", transport=httpx.MockTransport(respond))
    record = CaseRecord(info=CaseInfo("openai/text/x", "t", "r", "s"), case_id="openai/text/x")
    provider = single("p", "http://provider.test/v1", token_param="max_completion_tokens")
    probe = OpenAIProbe(client, provider, record)
    probe.chat(BODY)
    probe.chat(BODY, as_given=True)
    probe.ask(probe.plain_body(prompt("arithmetic"), "m", 16))
    assert [("max_tokens" in b, b.get("max_completion_tokens")) for b in sent] == [
        (False, 5),
        (True, None),
        (False, 16),
    ]
