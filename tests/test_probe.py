"""Probes: how a response to a request that should succeed, or fail, becomes a verdict."""

from __future__ import annotations

import json

import httpx
import pytest

from chatconform.case import CaseInfo, CaseRecord, CaseStop
from chatconform.client import RecordingClient
from chatconform.config import ProviderConfig
from chatconform.probe import OpenAIProbe, ProbeError
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


def probe_answering(status: int, body: bytes, headers: dict[str, str] | None = None) -> OpenAIProbe:
    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, content=body, headers=headers or {"content-type": "application/json"}
        )

    client = RecordingClient(
        "http://provider.test/v1", transport=httpx.MockTransport(respond), sleep=lambda _: None
    )
    record = CaseRecord(info=CaseInfo("openai/text/x", "t", "r", "s"), case_id="openai/text/x")
    return OpenAIProbe(client, ProviderConfig(name="p", base_url="http://provider.test/v1"), record)


def stop_of(action) -> tuple[Verdict, str]:
    with pytest.raises(CaseStop) as stop:
        action()
    return stop.value.verdict, stop.value.reason


@pytest.mark.parametrize(
    ("status", "headers", "verdict", "reason"),
    [
        (400, None, Verdict.UNSUPPORTED, "refused with HTTP 400: n is not supported"),
        (404, None, Verdict.UNSUPPORTED, "refused with HTTP 404: n is not supported"),
        (401, None, Verdict.INCONCLUSIVE, "HTTP 401 for a request that should succeed"),
        (403, None, Verdict.INCONCLUSIVE, "HTTP 403 for a request that should succeed"),
        (500, None, Verdict.INCONCLUSIVE, "HTTP 500 from the provider after 1 attempts"),
        (301, {"location": "https://x.example/v1/chat/completions"}, Verdict.INCONCLUSIVE,
         "HTTP 301 redirect to 'https://x.example/v1/chat/completions'"),
    ],
)  # fmt: skip
def test_what_a_failed_request_that_should_succeed_means(
    status: int, headers: dict | None, verdict: Verdict, reason: str
) -> None:
    openai = probe_answering(status, json.dumps(ENVELOPE).encode(), headers)
    exchange = openai.chat(BODY)
    got_verdict, got_reason = stop_of(lambda: openai.expect_success(exchange))
    assert got_verdict is verdict
    assert got_reason.startswith(reason)


def test_a_refusal_without_the_envelope_fails() -> None:
    openai = probe_answering(400, b"<html>Bad Request</html>", {"content-type": "text/html"})
    exchange = openai.chat(BODY)
    stop_of(lambda: openai.expect_success(exchange))
    assert openai.record.verdict(Verdict.UNSUPPORTED) is Verdict.FAIL
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
    stop_of(lambda: openai.expect_success(exchange))
    assert openai.record.verdict(Verdict.INCONCLUSIVE) is Verdict.FAIL
    assert "openai.response.schema" in {f.rule for f in openai.record.findings}
