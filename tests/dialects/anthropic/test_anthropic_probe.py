"""The Messages API probe: the shared status policy, over Anthropic's wire format."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from chatconform.case import CaseInfo, CaseRecord, CaseStop
from chatconform.client import RecordingClient
from chatconform.config import single
from chatconform.dialects.anthropic.probe import AnthropicProbe, ProbeError
from chatconform.dialects.anthropic.requests import message_body
from chatconform.prompts import prompt
from chatconform.verdict import Verdict

MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "content": [{"type": "text", "text": "5"}],
    "model": "m",
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 12, "output_tokens": 1},
}
CHAT_COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1763770000,
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "5"}, "finish_reason": "stop"}
    ],
}
REFUSAL = {
    "type": "error",
    "error": {"type": "invalid_request_error", "message": "top_k: not supported"},
}
BODY = message_body(prompt("arithmetic"), "m", 16)


def probe(
    respond: Callable[[httpx.Request], httpx.Response], optional: str | None = None
) -> tuple[AnthropicProbe, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return respond(request)

    client = RecordingClient(
        "http://provider.test", transport=httpx.MockTransport(record), sleep=lambda _: None
    )
    info = CaseInfo("anthropic/text/x", "t", "r", "s", optional=optional)
    record_ = CaseRecord(info=info, case_id="anthropic/text/x")
    provider = single("p", "http://provider.test", dialect="anthropic", models={"default": "m"})
    return AnthropicProbe(client, provider, record_), sent


def answering(status: int, payload: object) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _: httpx.Response(status, json=payload)


def stop_of(action: Callable[[], None]) -> tuple[Verdict, str]:
    with pytest.raises(CaseStop) as stop:
        action()
    return stop.value.verdict, stop.value.reason


def test_a_message_is_read_and_its_tokens_counted() -> None:
    anthropic, sent = probe(answering(200, MESSAGE))
    exchange = anthropic.messages(BODY)
    anthropic.expect_success(exchange)
    assert anthropic.reply(exchange).text == "5"
    assert (anthropic.record.prompt_tokens, anthropic.record.completion_tokens) == (12, 1)
    assert sent[0].url.path == "/v1/messages"


def test_a_chat_completion_on_the_messages_route_stops_the_case_with_one_finding() -> None:
    anthropic, _ = probe(answering(200, CHAT_COMPLETION))
    exchange = anthropic.messages(BODY)
    verdict, reason = stop_of(lambda: anthropic.expect_success(exchange))
    assert verdict is Verdict.FAIL and "OpenAI chat.completion" in reason
    assert [f.rule for f in anthropic.record.findings] == ["anthropic.message.openai-shape"]


def test_a_refused_core_request_is_a_failure_under_the_dialects_rule() -> None:
    anthropic, _ = probe(answering(400, REFUSAL))
    exchange = anthropic.messages(BODY)
    verdict, _ = stop_of(lambda: anthropic.expect_success(exchange))
    assert verdict is Verdict.FAIL
    assert [f.rule for f in anthropic.record.findings] == ["anthropic.request.refused"]


def test_a_refused_optional_feature_is_unsupported() -> None:
    anthropic, _ = probe(answering(400, REFUSAL), optional="top_k")
    exchange = anthropic.messages(BODY)
    verdict, reason = stop_of(lambda: anthropic.expect_success(exchange))
    assert verdict is Verdict.UNSUPPORTED and reason.startswith("top_k refused with HTTP 400")
    assert anthropic.record.findings == []


def test_a_refusal_in_openais_envelope_is_named() -> None:
    openai_error = {"error": {"message": "bad", "type": "invalid_request_error", "param": None}}
    anthropic, _ = probe(answering(400, openai_error), optional="top_k")
    exchange = anthropic.messages(BODY)
    stop_of(lambda: anthropic.expect_success(exchange))
    assert [f.rule for f in anthropic.record.findings] == ["anthropic.error.envelope"]


def test_a_persistent_500_is_judged_against_a_plain_messages_request() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if "top_k" in body:
            return httpx.Response(
                500, json={"type": "error", "error": {"type": "api_error", "message": "boom"}}
            )
        return httpx.Response(200, json=MESSAGE)

    anthropic, sent = probe(respond)
    exchange = anthropic.messages({**BODY, "top_k": 5})
    verdict, _ = stop_of(lambda: anthropic.expect_success(exchange))
    assert verdict is Verdict.FAIL
    assert [f.rule for f in anthropic.record.findings] == ["anthropic.request.server-error"]
    assert [r.url.path for r in sent] == ["/v1/messages"] * 3
    assert "top_k" not in json.loads(sent[-1].content), "the control is a plain request"


def test_an_overloaded_provider_is_inconclusive() -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    anthropic, _ = probe(answering(529, overloaded))
    exchange = anthropic.messages(BODY)
    verdict, reason = stop_of(lambda: anthropic.expect_success(exchange))
    assert verdict is Verdict.INCONCLUSIVE and "Overloaded" in reason


def test_a_stream_answered_with_json_stops_at_the_content_type() -> None:
    anthropic, _ = probe(answering(200, MESSAGE))
    exchange = anthropic.messages({**BODY, "stream": True})
    anthropic.expect_success(exchange)
    verdict, _ = stop_of(lambda: anthropic.check_stream(exchange))
    assert verdict is Verdict.FAIL
    assert [f.rule for f in anthropic.record.findings] == ["anthropic.stream.content-type"]


def test_a_probe_the_official_api_would_reject_is_a_harness_bug() -> None:
    anthropic, sent = probe(answering(200, MESSAGE))
    with pytest.raises(ProbeError, match="max_tokens"):
        anthropic.messages({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    assert sent == []


def test_a_provider_without_the_dialect_skips_the_case() -> None:
    client = RecordingClient(
        "http://provider.test", transport=httpx.MockTransport(answering(200, MESSAGE))
    )
    record = CaseRecord(
        info=CaseInfo("anthropic/text/x", "t", "r", "s"), case_id="anthropic/text/x"
    )
    anthropic = AnthropicProbe(client, single("p", "http://provider.test/v1"), record)
    verdict, reason = stop_of(lambda: anthropic.model("text"))
    assert verdict is Verdict.SKIPPED and reason == "p does not offer the anthropic dialect"
