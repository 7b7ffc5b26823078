"""Checks of the bytes under a response (chatconform.dialects.openai.checks.transport)."""

from __future__ import annotations

import pytest
from check_helpers import http_exchange, json_exchange, read, sse_exchange, stream_exchange, summary

from chatconform.case import CaseInfo, CaseRecord, CaseStop
from chatconform.config import single
from chatconform.dialects.openai.checks import transport
from chatconform.dialects.openai.probe import OpenAIProbe
from chatconform.exchange import Exchange
from chatconform.verdict import Verdict

# Where stream_invalid_utf8.sse carries half a character: the first content delta.
BROKEN_AT = read("stream_faithful.sse").index(b'"delta":{"content":"') + len(
    b'"delta":{"content":"'
)


def test_a_faithful_stream_and_answer_are_utf8() -> None:
    assert transport.body_is_utf8(stream_exchange("stream_faithful.sse")) == []
    assert transport.body_is_utf8(json_exchange("response_basic.json")) == []


def test_half_a_character_in_a_stream_is_found_where_it_is() -> None:
    findings = transport.body_is_utf8(stream_exchange("stream_invalid_utf8.sse"))
    assert summary(findings) == [("openai.transport.utf8", "must", f"/body/{BROKEN_AT}")]
    assert f"byte {BROKEN_AT}: e2 80 (invalid continuation byte)" in findings[0].message
    assert "[e2 80]1" in findings[0].message


def test_invalid_utf8_in_a_json_answer_is_found_too() -> None:
    body = read("response_basic.json").replace(b'"content": "', b'"content": "\xff', 1)
    assert body != read("response_basic.json")
    assert [f.rule for f in transport.body_is_utf8(http_exchange(body))] == [
        "openai.transport.utf8"
    ]


def test_a_body_cut_inside_a_character_is_no_encoding_fault() -> None:
    """Reading stopped (a cap, a stall) inside a character: the cut's doing, not the provider's."""
    body = 'data: {"content": "caf\u00e9"}'.encode()[:-3]
    assert body.endswith(b"\xc3")
    assert transport.body_is_utf8(sse_exchange(body, times=[])) == []


def test_only_json_and_event_streams_must_be_utf8() -> None:
    latin1 = "<html><body>Caf\u00e9</body></html>".encode("latin-1")
    assert transport.body_is_utf8(http_exchange(latin1, content_type="text/html")) == []


def test_a_body_its_content_encoding_does_not_decode() -> None:
    exchange = http_exchange(b"", status=200)
    assert transport.body_decodes_as_its_content_encoding(exchange) == []
    exchange.headers["content-encoding"] = "gzip"
    exchange.encoding_error = "Error -3 while decompressing data: incorrect header check"
    findings = transport.body_decodes_as_its_content_encoding(exchange)
    assert summary(findings) == [
        ("openai.transport.content-encoding", "must", "/headers/content-encoding")
    ]
    assert findings[0].message == (
        "Expected: a body encoded as its Content-Encoding header says (gzip)\n"
        "Received: a body the gzip decoder rejects: "
        "Error -3 while decompressing data: incorrect header check"
    )


def gzip_lie() -> Exchange:
    exchange = http_exchange(b"")
    exchange.headers["content-encoding"] = "gzip"
    exchange.encoding_error = "Error -3 while decompressing data: incorrect header check"
    exchange.error = f"body not decodable as Content-Encoding 'gzip': {exchange.encoding_error}"
    return exchange


@pytest.mark.parametrize(
    ("exchange", "rule"),
    [
        (stream_exchange("stream_invalid_utf8.sse"), "openai.transport.utf8"),
        (gzip_lie(), "openai.transport.content-encoding"),
    ],
)
def test_a_probe_stops_at_bytes_no_client_reads_past(exchange: Exchange, rule: str) -> None:
    """The finding fails the case, and nothing after it is judged: not even the transport
    error (which alone would be inconclusive)."""
    record = CaseRecord(CaseInfo("openai/text/x", "t", "r", "s"), "openai/text/x")
    openai = OpenAIProbe(None, single("p", "http://p.test/v1"), record)  # type: ignore[arg-type]
    with pytest.raises(CaseStop) as stop:
        openai.judge_transport(exchange)
    assert (stop.value.verdict, stop.value.reason) == (
        Verdict.FAIL,
        "the response's bytes cannot be read (see findings)",
    )
    assert [f.rule for f in record.findings] == [rule]


def test_a_probe_judges_readable_bytes_no_further() -> None:
    record = CaseRecord(CaseInfo("openai/text/x", "t", "r", "s"), "openai/text/x")
    openai = OpenAIProbe(None, single("p", "http://p.test/v1"), record)  # type: ignore[arg-type]
    openai.judge_transport(stream_exchange("stream_faithful.sse"))
    assert record.findings == []
