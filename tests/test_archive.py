"""Tests of the wire archive (chatconform.archive): what a run keeps to be judged again."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import httpx
import pytest

from chatconform import archive
from chatconform.client import RecordingClient
from chatconform.exchange import Exchange
from chatconform.redaction import Redactor

SECRET = "sk-test-0123456789abcdef"


def recorded(handler, **request: object) -> Exchange:
    client = RecordingClient(
        "http://provider.test/v1",
        transport=httpx.MockTransport(handler),
        redactor=Redactor([SECRET]),
        headers={"authorization": f"Bearer {SECRET}"},
    )
    with client:
        return client.request("POST", "chat/completions", **request)


def stream_answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        headers={"content-type": "text/event-stream"},
        content=iter([b'data: {"a":1}\n\n', b"data: [DONE]\n\n", b"data: tail"]),
    )


def test_an_exchange_round_trips_through_an_archive_entry() -> None:
    exchange = recorded(stream_answer, json={"model": "m", "stream": True}, stream=True)
    entry = json.loads(json.dumps(archive.exchange_record(exchange)))
    back = archive.exchange_from_record(entry)
    assert back == exchange
    assert back.sent_at == exchange.sent_at and back.sent_at is not None
    assert [e.data for e in back.events] == ['{"a":1}', "[DONE]"]
    assert back.unterminated_tail == "data: tail"


def test_an_undecodable_body_and_the_waits_round_trip_and_older_entries_lack_them() -> None:
    exchange = recorded(stream_answer, json={"model": "m"})
    exchange.encoding_error = "Error -3 while decompressing data: incorrect header check"
    exchange.rate_wait_s, exchange.retry_wait_s = 1.5, 2.0
    entry = json.loads(json.dumps(archive.exchange_record(exchange)))
    assert archive.exchange_from_record(entry) == exchange
    for key in ("encoding_error", "rate_wait_s", "retry_wait_s"):
        del entry[key]
    older = archive.exchange_from_record(entry)
    assert (older.encoding_error, older.rate_wait_s, older.retry_wait_s) == (None, 0.0, 0.0)


def test_binary_bodies_are_kept_byte_for_byte() -> None:
    raw = bytes(range(256))
    exchange = recorded(lambda r: httpx.Response(200, content=raw), content=b"\xff\x00")
    back = archive.exchange_from_record(archive.exchange_record(exchange))
    assert back.body == raw and back.request.body == b"\xff\x00"


def test_a_request_over_the_cap_is_cut_and_still_identified(monkeypatch) -> None:
    monkeypatch.setattr(archive, "MAX_REQUEST_BYTES", 10)
    exchange = recorded(lambda r: httpx.Response(200, json={}), content=b"x" * 50)
    entry = archive.exchange_record(exchange)
    assert entry["request"]["body"] == {"text": "x" * 10, "cut_from": 50}
    assert entry["request"]["key"] == archive.request_key("POST", exchange.request.url, b"x" * 50)


def test_the_key_is_not_in_the_archive(tmp_path: Path) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"echo": request.headers["authorization"]})

    exchange = recorded(echo, json={"model": "m"})
    archive.append_case(tmp_path, "gw0", "openai/text/x", [archive.exchange_record(exchange)])
    path = archive.assemble(tmp_path, {"provider": {}})
    text = gzip.decompress(path.read_bytes())
    assert SECRET.encode() not in text and b"[REDACTED]" in text


def test_parts_of_every_worker_assemble_under_one_header(tmp_path: Path) -> None:
    exchange = recorded(lambda r: httpx.Response(200, json={"ok": True}), json={})
    entry = archive.exchange_record(exchange)
    archive.append_case(tmp_path, "gw0", "a/b/one", [entry])
    archive.append_case(tmp_path, "gw1", "a/b/two", [entry, entry])
    archive.append_case(tmp_path, "gw0", "a/b/three", [])
    archive.assemble(tmp_path, {"provider": {"name": "p"}, "attempts": 3})
    assert [p.name for p in tmp_path.iterdir()] == [archive.ARCHIVE_FILE]
    loaded = archive.load(tmp_path / archive.ARCHIVE_FILE)
    assert loaded.header["provider"] == {"name": "p"} and loaded.header["attempts"] == 3
    assert {k: len(v) for k, v in loaded.cases.items()} == {
        "a/b/one": 1,
        "a/b/two": 2,
        "a/b/three": 0,
    }
    assert loaded.exchanges("a/b/two")[1].json() == {"ok": True}


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "no wire archive"),
        (b"not gzip", "cannot be read"),
        (gzip.compress(b""), "is empty"),
        (gzip.compress(b'{"results": 1}\n'), "not a chatconform wire archive"),
        (gzip.compress(b'{"archive": 1}\nnot json\n'), "line 2 is not JSON"),
        (gzip.compress(b'{"archive": 1}\n[1, 2]\n'), "not a case's exchanges"),
    ],
    # gzip stamps the time into its bytes: ids from them would differ between workers.
    ids=["missing", "not-gzip", "empty", "no-header", "bad-line", "not-a-case"],
)
def test_an_unreadable_archive_is_one_line(
    tmp_path: Path, content: bytes | None, says: str
) -> None:
    path = tmp_path / archive.ARCHIVE_FILE
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(archive.ArchiveError, match=says) as caught:
        archive.load(path)
    assert "\n" not in str(caught.value)


def test_of_a_response_cut_at_the_cap_the_beginning_is_kept() -> None:
    exchange = recorded(lambda r: httpx.Response(200, content=b"y" * 100_000), json={})
    exchange.truncated = True
    entry = archive.exchange_record(exchange)
    assert entry["body"] == {"text": "y" * archive.TRUNCATED_KEEP_BYTES, "cut_from": 100_000}
    back = archive.exchange_from_record(entry)
    assert back.truncated and back.body == b"y" * archive.TRUNCATED_KEEP_BYTES
