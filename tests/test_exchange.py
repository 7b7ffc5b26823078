"""Tests of the evidence records (chatconform.exchange)."""

from __future__ import annotations

import json
import shlex
import subprocess

import pytest

from chatconform.exchange import (
    EXCERPT_CHARS,
    MAX_JSON_DEPTH,
    Exchange,
    RecordedRequest,
    clip,
    load_json,
)

URL = "https://api.example.com/v1/chat/completions"
TRICKY_BODY = json.dumps(
    {"messages": [{"role": "user", "content": 'it\'s "quoted" $HOME `id` $(rm -rf ~) \\n ;|&'}]}
)


def request(headers: dict[str, str], body: bytes = b"") -> RecordedRequest:
    return RecordedRequest(method="POST", url=URL, headers=headers, body=body)


def test_curl_reads_the_key_from_its_variable_in_double_quotes() -> None:
    line = request({"authorization": "Bearer [REDACTED]"}).curl("PROVIDER_KEY")
    assert '-H "authorization: Bearer ${PROVIDER_KEY}"' in line
    assert "[REDACTED]" not in line
    assert shlex.split(line)[:5] == ["curl", "-sS", "-X", "POST", URL]


def test_curl_without_key_env_keeps_the_redaction_marker_literal() -> None:
    line = request({"authorization": "Bearer [REDACTED]"}).curl()
    assert "-H 'authorization: Bearer [REDACTED]'" in line


def test_curl_single_quotes_other_headers_and_skips_transport_ones() -> None:
    line = request(
        {
            "content-type": "application/json",
            "x-note": "it's $HOME",
            "host": "api.example.com",
            "content-length": "12",
            "accept-encoding": "gzip",
            "connection": "keep-alive",
        }
    ).curl("K")
    assert "-H 'content-type: application/json'" in line
    words = shlex.split(line)
    assert "x-note: it's $HOME" in words
    for skipped in ("host", "content-length", "accept-encoding", "connection"):
        assert not any(word.startswith(f"{skipped}:") for word in words)


def test_curl_body_round_trips_through_the_shell_quoting() -> None:
    line = request({"content-type": "application/json"}, TRICKY_BODY.encode()).curl("K")
    words = shlex.split(line)
    assert words[-2] == "--data-raw"
    assert words[-1] == TRICKY_BODY


def shell_words(line: str, key: str) -> list[str]:
    """The arguments curl would get if a POSIX shell ran the line with KEY set."""
    script = f'curl() {{ printf "%s\\0" "$@"; }}; {line}'
    done = subprocess.run(
        ["sh", "-c", script], env={"KEY": key}, capture_output=True, check=True, timeout=5
    )
    return done.stdout.decode().split("\0")[:-1]


def test_curl_line_run_by_the_shell_sends_the_key_and_everything_else_literally() -> None:
    # A hostile recorded value next to the key must reach curl literally.
    value = 'Bearer [REDACTED] "$(id)" `id` $HOME \\'
    line = request({"authorization": value}, TRICKY_BODY.encode()).curl("KEY")
    words = shell_words(line, "sk-123")
    assert 'authorization: Bearer sk-123 "$(id)" `id` $HOME \\' in words
    assert words[-1] == TRICKY_BODY


def test_curl_without_body_has_no_data_flag() -> None:
    assert "--data-raw" not in request({}).curl()


def test_recorded_request_json() -> None:
    assert request({}, b'{"a": 1}').json() == {"a": 1}
    assert request({}).json() is None


def test_exchange_json_and_json_or_none() -> None:
    exchange = Exchange(request=request({}), status=200, body=b'{"ok": true}')
    assert exchange.json() == {"ok": True}
    bad = Exchange(request=request({}), status=200, body=b"<html>")
    with pytest.raises(ValueError):
        bad.json()
    assert bad.json_or_none() is None
    assert Exchange(request=request({}), body=b"\xff\xfe").json_or_none() is None


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_nested_deeper_than_python_parses_is_not_json() -> None:
    body = nested(100_000).encode()
    exchange = Exchange(request=request({}), status=200, body=body)
    with pytest.raises(ValueError, match="nested deeper"):
        exchange.json()
    assert exchange.json_or_none() is None


def test_json_is_read_to_max_depth_and_no_deeper() -> None:
    assert load_json(nested(MAX_JSON_DEPTH)) is not None
    assert load_json('"' + "[" * 1000 + '"') == "[" * 1000  # brackets in a string do not nest
    with pytest.raises(ValueError, match=f"nested deeper than {MAX_JSON_DEPTH} levels"):
        load_json(nested(MAX_JSON_DEPTH + 1))
    with pytest.raises(ValueError, match="nested deeper"):
        load_json("[" * MAX_JSON_DEPTH + '{"a": 1}' + "]" * MAX_JSON_DEPTH)


def test_clip_keeps_short_text_and_says_how_much_was_cut() -> None:
    assert clip("abc", 3) == "abc"
    assert clip("abcdef", 3) == "abc… [3 more characters]"
    assert clip("x" * (EXCERPT_CHARS + 1)) == "x" * EXCERPT_CHARS + "… [1 more characters]"


def test_excerpt_is_bounded_and_starts_with_the_status_line() -> None:
    exchange = Exchange(
        request=request({}),
        status=200,
        headers={"content-type": "application/json"},
        body=b"y" * 100_000,
    )
    excerpt = exchange.excerpt(limit=50)
    head, _, rest = excerpt.partition("\n")
    assert head == "HTTP 200 (application/json)"
    assert rest == "y" * 50 + "… [99950 more characters]"
    assert len(exchange.excerpt()) < EXCERPT_CHARS + 100


def test_excerpt_of_no_response_names_the_error() -> None:
    exchange = Exchange(request=request({}), error="read timeout: no response within 1 s")
    assert exchange.excerpt() == "no response: read timeout: no response within 1 s\n"


def test_excerpt_decodes_invalid_utf8_with_replacement() -> None:
    exchange = Exchange(request=request({}), status=500, body=b"bad \xff byte")
    assert exchange.excerpt() == "HTTP 500\nbad \ufffd byte"
