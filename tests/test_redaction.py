"""Tests of secret redaction (chatconform.redaction)."""

from __future__ import annotations

import copy
import itertools
import json
import string
import time
from typing import Any

import pytest
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

from chatconform.redaction import OTHER_CREDENTIAL, REDACTED, SECRET_HEADERS, Redactor
from chatconform.sse import decode

KEY = "sk-live-abcdef123456"


def test_text_and_bytes_replace_every_occurrence() -> None:
    redactor = Redactor([KEY])
    assert redactor.text(f"{KEY} and {KEY}") == f"{REDACTED} and {REDACTED}"
    assert redactor.bytes(f"key={KEY};".encode()) == f"key={REDACTED};".encode()


def test_secret_containing_another_is_replaced_whole() -> None:
    redactor = Redactor(["abcd", "abcdefgh"])
    assert redactor.text("x abcdefgh y abcd") == f"x {REDACTED} y {REDACTED}"


@pytest.mark.parametrize("secret", ["", "abc"])
def test_empty_and_very_short_secrets_are_not_redacted(secret: str) -> None:
    # Redacting "abc" would shred every recorded body; keys are never that short.
    assert Redactor([secret]).text("abc abc") == "abc abc"


def test_no_secrets_leaves_text_unchanged() -> None:
    assert Redactor().text("Bearer anything") == "Bearer anything"


def test_headers_replace_the_secret_and_keep_the_scheme() -> None:
    redacted = Redactor([KEY]).headers({"Authorization": f"Bearer {KEY}", "X-Other": KEY})
    assert redacted == {"Authorization": f"Bearer {REDACTED}", "X-Other": REDACTED}


@pytest.mark.parametrize("name", [*sorted(SECRET_HEADERS), "X-Api-Key", "AUTHORIZATION"])
def test_credential_header_with_another_value_is_never_kept(name: str) -> None:
    assert Redactor([KEY]).headers({name: "sk-someone-else"}) == {name: OTHER_CREDENTIAL}


def test_credential_headers_redacted_without_any_configured_secret() -> None:
    assert Redactor().headers({"x-api-key": "sk-x", "accept": "*/*"}) == {
        "x-api-key": OTHER_CREDENTIAL,
        "accept": "*/*",
    }


def test_cut_bytes_also_removes_a_secret_beginning_left_at_the_cut() -> None:
    redactor = Redactor([KEY])
    assert redactor.cut_bytes(b"key=" + KEY[:10].encode()) == b"key=" + REDACTED.encode()
    assert redactor.cut_bytes(f"{KEY} x".encode()) == f"{REDACTED} x".encode()
    # Fewer than four characters of a key are not a leak worth mangling evidence for.
    assert redactor.cut_bytes(b"say sk-") == b"say sk-"


# --- a key in every encoding a provider may echo it in ----------------------------

SLASHY = "sk-cc/Leak+Test_0123456789abcdef"


def _unicode(text: str, template: str = "\\u{:04x}") -> str:
    return "".join(template.format(ord(c)) for c in text)


ENCODINGS = {
    "json-slash": SLASHY.replace("/", "\\/"),
    "json-unicode-lower": _unicode(SLASHY),
    "json-unicode-upper": _unicode(SLASHY, "\\u{:04X}"),
    "json-unicode-some": SLASHY[:5] + _unicode(SLASHY[5:9]) + SLASHY[9:],
    "json-in-json-slash": SLASHY.replace("/", "\\\\\\/"),
    "json-in-json-unicode": SLASHY.replace("/", "\\\\u002f"),
    "percent-all-upper": "".join(f"%{ord(c):02X}" for c in SLASHY),
    "percent-all-lower": "".join(f"%{ord(c):02x}" for c in SLASHY),
    "percent-reserved": "sk%2Dcc%2FLeak%2BTest%5F0123456789abcdef",
    "percent-mixed-case": "sk-cc%2fLeak%2BTest_0123456789abcdef",
    "percent-twice": "sk-cc%252FLeak%252BTest_0123456789abcdef",
    "html-hex": "sk-cc&#x2F;Leak&#X2b;Test_0123456789abcdef",
    "html-decimal": "sk-cc&#47;Leak&#043;Test_0123456789abcdef",
    "everything-at-once": "%73k\\u002dcc\\/L&#101;ak%2bTest_0123456789abcd\\u0065f",
}


@pytest.mark.parametrize("encoded", ENCODINGS.values(), ids=ENCODINGS.keys())
def test_every_encoding_of_the_key_is_redacted_in_text_and_bytes(encoded: str) -> None:
    redactor = Redactor([SLASHY])
    assert redactor.text(f"key: {encoded}.") == f"key: {REDACTED}."
    assert redactor.bytes(f'{{"k": "{encoded}"}}'.encode()) == f'{{"k": "{REDACTED}"}}'.encode()


def test_a_json_body_with_an_escaped_key_stays_json() -> None:
    body = json.dumps({"content": f"5 (debug key: {SLASHY})"}).replace("/", "\\/")
    assert json.loads(Redactor([SLASHY]).bytes(body.encode())) == {
        "content": f"5 (debug key: {REDACTED})"
    }


def test_secrets_that_overlap_are_both_redacted() -> None:
    redactor = Redactor(["abcd1234", "1234wxyz"])
    assert redactor.text("x abcd1234wxyz y") == f"x {REDACTED} y"
    assert redactor.bytes(b"1234wxyz abcd1234") == f"{REDACTED} {REDACTED}".encode()


def test_a_longer_run_of_escapes_than_json_nests_is_no_match_and_no_slowdown() -> None:
    redactor = Redactor([SLASHY])
    started = time.perf_counter()
    backslashes = b"\\" * (4 * 1024 * 1024)
    assert redactor.bytes(backslashes) == backslashes
    # Linear: a quadratic scan of 4 MB would take minutes, not a couple of seconds.
    assert time.perf_counter() - started < 5
    assert redactor.text("sk-cc" + "\\" * 9 + "/Leak") == "sk-cc" + "\\" * 9 + "/Leak"


# --- credentials in URL query strings ----------------------------------------


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("https://h/v1/usage?api_key=abc123", f"https://h/v1/usage?api_key={REDACTED}"),
        ("https://h/x?a=1&key=AIza-xyz&b=2", f"https://h/x?a=1&key={REDACTED}&b=2"),
        ("https://h/x?access_token=t.t.t#frag", f"https://h/x?access_token={REDACTED}#frag"),
        ("https://h/x?token=t&apikey=k", f"https://h/x?token={REDACTED}&apikey={REDACTED}"),
        ("https://h/b?sv=1&sig=a%2Bb%3D", f"https://h/b?sv=1&sig={REDACTED}"),
        ("https://h/o?X-Amz-Signature=ff00", f"https://h/o?X-Amz-Signature={REDACTED}"),
        ("https://h/x?API-KEY=abc", f"https://h/x?API-KEY={REDACTED}"),
        ("<a href='/u?a=1&amp;token=s3'>", f"<a href='/u?a=1&amp;token={REDACTED}'>"),
        ("https:\\/\\/h\\/x?key=a\\/b", f"https:\\/\\/h\\/x?key={REDACTED}"),
        ("/login?next=%2Fx%3Fapi_key%3Dsecret", f"/login?next=%2Fx%3Fapi_key%3D{REDACTED}"),
        # Not credentials: a parameter that only ends like one, or no query string at all.
        ("https://h/x?monkey=1&max_tokens=5", "https://h/x?monkey=1&max_tokens=5"),
        ("set max_tokens=5 and key=value", "set max_tokens=5 and key=value"),
    ],
)
def test_credentials_in_query_strings_are_redacted_whatever_their_value(
    url: str, redacted: str
) -> None:
    assert Redactor().text(url) == redacted
    assert Redactor().bytes(url.encode()) == redacted.encode()


def test_a_redirect_location_loses_its_credential() -> None:
    headers = Redactor().headers({"Location": "https://h/v1/models?key=abc&x=1"})
    assert headers == {"Location": f"https://h/v1/models?key={REDACTED}&x=1"}


# --- results: every string in a nested value -----------------------------------


def test_value_redacts_every_string_of_a_result_and_keeps_the_rest() -> None:
    result = {
        "reason": f"stalled after {SLASHY}",
        "findings": [{"message": f"Received: '{SLASHY}'", "exchange": 0}],
        "media": {"answer": ENCODINGS["json-slash"], "thumbnails": ("a", SLASHY)},
        SLASHY: None,
        "attempts": 2,
        "raw": SLASHY.encode(),
    }
    assert Redactor([SLASHY]).value(result) == {
        "reason": f"stalled after {REDACTED}",
        "findings": [{"message": f"Received: '{REDACTED}'", "exchange": 0}],
        "media": {"answer": REDACTED, "thumbnails": ("a", REDACTED)},
        REDACTED: None,
        "attempts": 2,
        "raw": REDACTED.encode(),
    }


# --- streams: a key spelt out over several deltas --------------------------------


def _delta(text: str) -> str:
    return json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]})


def test_a_key_split_across_deltas_is_cut_out_of_events_and_body() -> None:
    pieces = ["5 (key: ", SLASHY[:4], SLASHY[4:9], SLASHY[9:], ")"]
    datas = [_delta(p) for p in pieces]
    body = "".join(f"data: {d}\r\n\r\n" for d in [*datas, "[DONE]"]).encode()
    redactor = Redactor([SLASHY])
    masked, masked_body = redactor.stream(datas, body)
    contents = [json.loads(d)["choices"][0]["delta"]["content"] for d in masked]
    assert contents == ["5 (key: ", REDACTED, "", "", ")"]
    assert masked_body == "".join(f"data: {d}\r\n\r\n" for d in [*masked, "[DONE]"]).encode()
    assert SLASHY[4:9].encode() not in masked_body


def test_pieces_written_escaped_are_found_in_the_body() -> None:
    datas = [_delta(SLASHY[:6]), _delta(SLASHY[6:])]
    body = "".join(f"data: {d}\n\n" for d in datas).replace("/", "\\/").encode()
    _, masked_body = Redactor([SLASHY]).stream(datas, body)
    assert b"Leak" not in masked_body and b"sk-cc" not in masked_body
    assert masked_body.count(b"data: ") == 2


def test_a_stream_without_a_split_key_is_left_alone() -> None:
    datas = [_delta("sk-cc"), _delta(" is a prefix"), "not json", "[DONE]", _delta("/Leak")]
    body = b"".join(f"data: {d}\n\n".encode() for d in datas)
    assert Redactor([SLASHY]).stream(datas, body) == (datas, body)
    assert Redactor().stream(datas, body) == (datas, body)


def _chunk(content: str, index: int = 0, model: str = "gpt-4o") -> str:
    choice = {"index": index, "delta": {"role": "assistant", "content": content}}
    chunk = {"id": "c1", "object": "chat.completion.chunk", "model": model, "choices": [choice]}
    return json.dumps(chunk, separators=(",", ":"))


def _masked_stream(key: str, datas: list[str]) -> tuple[list[str], bytes]:
    """``datas`` streamed (the body as written), masked; checked to agree with the body."""
    body = "".join(f"data: {d}\n\n" for d in [*datas, "[DONE]"]).encode()
    masked, masked_body = Redactor([key]).stream(datas, body)
    assert [e.data for e in decode([masked_body])] == [*masked, "[DONE]"]
    for before, after in zip(datas, masked, strict=True):
        # An event without a piece is kept byte for byte; the others stay JSON.
        assert after == before or json.loads(after)
    return masked, masked_body


def _contents(datas: list[str], index: int = 0) -> str:
    choices = [c for d in datas for c in json.loads(d)["choices"] if c["index"] == index]
    return "".join(c["delta"]["content"] for c in choices)


@pytest.mark.parametrize(
    ("key", "pieces"),
    [
        # A piece spelt like a key of the chunk ("id", "role", "model") or a value
        # before it (the model's name) is cut where it is, not where it is first spelt.
        ("sk-Xid9Q2", ["sk-X", "id", "9Q2"]),
        ("sk-Xrole9Q2", ["sk-X", "role", "9Q2"]),
        ("sk-Xgpt-4o9Q2", ["sk-X", "gpt-4o", "9Q2"]),
        ("sk-Xc19Q2", ["sk-X", "c1", "9Q2"]),
    ],
)
def test_a_piece_spelt_like_another_part_of_its_event_is_cut_at_its_path(
    key: str, pieces: list[str]
) -> None:
    datas = [_chunk("key: "), *(_chunk(p) for p in pieces), _chunk(".")]
    masked, body = _masked_stream(key, datas)
    for event in masked:
        chunk = json.loads(event)
        assert (chunk["id"], chunk["model"], chunk["object"]) == (
            "c1",
            "gpt-4o",
            "chat.completion.chunk",
        )
        assert chunk["choices"][0]["delta"]["role"] == "assistant"
    assert [masked[0], masked[-1]] == [datas[0], datas[-1]]
    assert _contents(masked) == f"key: {REDACTED}."
    for piece in pieces:
        assert f'"content":"{piece}"' not in body.decode()
    assert b"sk-X" not in body and b"9Q2" not in body


def test_interleaved_choices_each_have_their_split_key_cut() -> None:
    key = "sk-two-choices-42"
    datas = [
        _chunk("a: sk-tw", index=0),
        _chunk("b: sk-", index=1),
        _chunk("o-choi", index=0),
        # One event may carry both choices, in any order: known by index, not place.
        json.dumps(
            {
                "choices": [
                    {"index": 1, "delta": {"content": "two-cho"}},
                    {"index": 0, "delta": {"content": "ces-4"}},
                ]
            }
        ),
        _chunk("ices-42!", index=1),
        _chunk("2!", index=0),
    ]
    masked, body = _masked_stream(key, datas)
    assert _contents(masked, 0) == f"a: {REDACTED}!"
    assert _contents(masked, 1) == f"b: {REDACTED}!"
    for fragment in ["sk-tw", "o-choi", "two-cho", "ces-4", "ices-42"]:
        assert fragment.encode() not in body


def test_the_body_keeps_its_own_writing_around_the_rewritten_data() -> None:
    datas = [_chunk("k=" + SLASHY[:8]), _chunk(SLASHY[8:20]), _chunk(SLASHY[20:])]
    # A BOM, comments, other fields, CRLF and CR line ends, a data line without its
    # space, and an event whose JSON is spread over two data lines (the third slot).
    written = (
        "\ufeff: hi\r\nevent: delta\r\ndata: {}\r\n\r\n"
        "id: 7\rdata:{}\r: between\r{}\r"
        "data: {}\n\n: unterminated"
    )
    body = written.format(datas[0], datas[1][:20], f"data: {datas[1][20:]}\r", datas[2])
    events = [e.data for e in decode([body.encode()])]
    assert events == [datas[0], datas[1][:20] + "\n" + datas[1][20:], datas[2]]
    masked, masked_body = Redactor([SLASHY]).stream(events, body.encode())
    assert _contents(masked) == f"k={REDACTED}"
    assert masked_body == written.format(masked[0], masked[1], "", masked[2]).encode()


def test_a_body_that_does_not_hold_the_events_is_rebuilt_from_them() -> None:
    datas = [_delta(SLASHY[:10]), _delta(SLASHY[10:])]
    masked, body = Redactor([SLASHY]).stream(datas, b"data: other\n\n")
    assert body == "".join(f"data: {d}\n\n" for d in masked).encode()


def test_a_lone_surrogate_in_a_rewritten_event_stays_escaped() -> None:
    datas = [_delta(SLASHY[:10]), _delta(SLASHY[10:]).replace("}}", ', "x": "\\ud800"}}')]
    masked, body = _masked_stream(SLASHY, datas)
    assert json.loads(masked[1])["choices"][0]["delta"]["x"] == "\ud800"
    assert b"\\ud800" in body


def test_cut_bytes_finds_an_encoded_beginning_and_a_half_written_escape() -> None:
    redactor = Redactor([SLASHY])
    assert redactor.cut_bytes(b'"k": "sk-cc\\/Le') == b'"k": "' + REDACTED.encode()
    assert redactor.cut_bytes(b"x " + _unicode(SLASHY[:5]).encode() + b"\\u00") == (
        b"x " + REDACTED.encode()
    )
    assert redactor.cut_bytes(b"x sk-cc%2") == b"x " + REDACTED.encode()
    assert redactor.cut_bytes(b"x sk-c and more") == b"x sk-c and more"


# --- logprobs: a key spelt out by the tokens of an answer ---------------------------


def _entry(token: str, *alternatives: str) -> dict[str, Any]:
    """A logprobs entry: the token, its UTF-8 bytes, and itself then ``alternatives``
    listed as the model's other choices."""
    listed = [
        {"token": t, "logprob": -2.0, "bytes": list(t.encode())} for t in (token, *alternatives)
    ]
    return {"token": token, "logprob": -0.1, "bytes": list(token.encode()), "top_logprobs": listed}


def _answer(entries: list[dict[str, Any]]) -> dict[str, Any]:
    content = "".join(e["token"] for e in entries)
    return {
        "id": "c1",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "logprobs": {"content": entries, "refusal": None},
            }
        ],
    }


def _logprobs(answer: Any) -> list[dict[str, Any]]:
    return answer["choices"][0]["logprobs"]["content"]


def _tokens(entries: list[dict[str, Any]]) -> list[str]:
    return [e["token"] for e in entries]


def _bytes_agree(entries: list[dict[str, Any]]) -> bool:
    """Whether each entry's bytes, and each alternative's, are its token's UTF-8 bytes."""
    listed = [a for e in entries for a in e.get("top_logprobs", [])]
    return all(e["bytes"] == list(e["token"].encode()) for e in [*entries, *listed])


@pytest.mark.parametrize("cut", range(1, len(SLASHY)))
def test_a_key_split_between_two_tokens_is_cut_at_every_position(cut: int) -> None:
    pieces = ["5 (key: " + SLASHY[:cut], SLASHY[cut:] + ")"]
    body = json.dumps(_answer([_entry(p, p + "!") for p in pieces])).encode()
    answer = json.loads(Redactor([SLASHY]).bytes(body))
    entries = _logprobs(answer)
    assert _tokens(entries) == [f"5 (key: {REDACTED}", ")"]
    assert answer["choices"][0]["message"]["content"] == f"5 (key: {REDACTED})"
    assert _bytes_agree(entries)
    # The alternatives at each place: the token itself, cut like it; another one, without
    # the piece of the key it holds.
    assert [_tokens(e["top_logprobs"]) for e in entries] == [
        [f"5 (key: {REDACTED}", f"5 (key: {REDACTED}!"],
        [")", f"{REDACTED})!"],
    ]


def test_a_key_only_the_bytes_spell_is_cut_from_them() -> None:
    # Byte-level tokens: the strings show a placeholder, the bytes hold the text, and a
    # character's bytes may be split between two tokens (some runtimes write them signed).
    key = "sk-schlüssel-0123"
    raw = f"k: {key}.".encode()
    splits = [0, 3, 9, 10, 16, len(raw)]
    pieces = [list(raw[a:b]) for a, b in itertools.pairwise(splits)]
    pieces[2] = [n - 256 if n > 127 else n for n in pieces[2]]
    entries = [{"token": "\ufffd", "logprob": -0.1, "bytes": p} for p in pieces]
    out = Redactor([key]).value({"logprobs": {"content": entries}})["logprobs"]["content"]
    assert b"".join(bytes(e["bytes"]) for e in out) == f"k: {REDACTED}.".encode()
    assert _tokens(out) == _tokens(entries)


def test_an_alternative_that_holds_the_key_alone_is_cut() -> None:
    body = json.dumps(_answer([_entry("5", f"({SLASHY})"), _entry(".")])).encode()
    entries = _logprobs(json.loads(Redactor([SLASHY]).bytes(body)))
    assert _tokens(entries) == ["5", "."]
    assert _tokens(entries[0]["top_logprobs"]) == ["5", f"({REDACTED})"]
    assert _bytes_agree(entries)


def test_a_key_split_across_streamed_logprobs_chunks_is_cut() -> None:
    pieces = ["k: ", *(SLASHY[i : i + 4] for i in range(0, len(SLASHY), 4)), "!"]
    datas = []
    for piece in pieces:
        choice = {"index": 0, "delta": {"content": piece}, "logprobs": {"content": [_entry(piece)]}}
        datas.append(json.dumps({"id": "c1", "choices": [choice]}))
    # One chunk may carry several tokens: joined in order all the same.
    two = json.loads(datas[3])
    two["choices"][0]["logprobs"]["content"].append(_entry(""))
    datas[3] = json.dumps(two)
    masked, body = _masked_stream(SLASHY, datas)
    entries = [e for d in masked for e in _logprobs(json.loads(d))]
    assert "".join(_tokens(entries)) == f"k: {REDACTED}!"
    assert _contents(masked) == f"k: {REDACTED}!"
    assert _bytes_agree(entries)
    for piece in pieces[1:-1]:
        assert f'"{piece}"'.encode() not in body
        assert json.dumps(list(piece.encode())).replace(" ", "").encode() not in body


def test_a_body_written_with_escapes_has_its_key_tokens_cut_and_stays_json() -> None:
    pieces = ["5 (key: ", SLASHY[:7], SLASHY[7:], ")"]
    written = json.dumps(_answer([_entry(p) for p in pieces])).replace("/", "\\/")
    written = written.replace('"sk-cc', '"\\u0073k-cc')
    answer = json.loads(Redactor([SLASHY]).bytes(written.encode()))
    assert _tokens(_logprobs(answer)) == ["5 (key: ", REDACTED, "", ")"]
    assert _bytes_agree(_logprobs(answer))


def test_a_logprobs_body_without_a_key_is_kept_byte_for_byte() -> None:
    # Pieces of the key, and a key's beginning, but not at the end of the tokens.
    entries = [_entry("sk-c"), _entry("c/Le"), _entry(" and")]
    body = json.dumps(_answer(entries), indent=1).replace("/", "\\/").encode()
    assert Redactor([SLASHY]).bytes(body) == body
    assert Redactor([SLASHY]).cut_bytes(body[:-40]) == body[:-40]


@pytest.mark.parametrize("where", ["after the key", "inside the key", "in its bytes"])
def test_a_body_cut_short_has_its_key_tokens_cut_too(where: str) -> None:
    pieces = ["5 (key: ", SLASHY[:9], SLASHY[9:20], SLASHY[20:], ") and more", "."]
    body = json.dumps(_answer([_entry(p, p + "!") for p in pieces])).encode()
    tokens = body.index(b'"logprobs"')
    ends = {
        "after the key": body.index(b"and more", tokens) + 3,
        "inside the key": body.index(SLASHY[9:20].encode(), tokens) + 5,
        "in its bytes": body.index(json.dumps(list(SLASHY[9:20].encode())).encode(), tokens) + 9,
    }
    cut = Redactor([SLASHY]).cut_bytes(body[: ends[where]])
    assert SLASHY[:9].encode() not in cut and SLASHY[9:14].encode() not in cut
    assert json.dumps(list(SLASHY[:9].encode())).replace(" ", "").encode()[1:-1] not in cut
    assert b'"logprobs"' in cut and REDACTED.encode() in cut
    # Written anew, and still cut short.
    with pytest.raises(ValueError):
        json.loads(cut)


def test_value_cuts_a_key_spelt_by_tokens_and_leaves_its_input_alone() -> None:
    result = {"answer": _answer([_entry(p) for p in ["k=", SLASHY[:5], SLASHY[5:], "."]])}
    before = copy.deepcopy(result)
    entries = _logprobs(Redactor([SLASHY]).value(result)["answer"])
    assert _tokens(entries) == ["k=", REDACTED, "", "."]
    assert _bytes_agree(entries)
    assert result == before


def test_a_credential_in_a_url_spelt_by_tokens_is_cut_as_text_cuts_it() -> None:
    text = "see https://h.invalid/usage?api_key=abcd1234&sig=ff00aa) ok"
    pieces = ["see https://h.invalid/usage?api", "_key=ab", "cd1234&s", "ig=ff", "00aa) ok"]
    body = json.dumps(_answer([_entry(p) for p in pieces])).encode()
    entries = _logprobs(json.loads(Redactor().bytes(body)))
    assert "".join(_tokens(entries)) == Redactor().text(text)
    assert _bytes_agree(entries)


def test_a_key_split_deep_inside_a_long_logprobs_answer_is_cut() -> None:
    # Speed is a benchmark's business, not a unit test's: this one proves the long case.
    tokens = [f" w{i}" for i in range(40_000)]
    tokens[20_000:20_002] = [f" {SLASHY[:10]}", SLASHY[10:]]
    body = json.dumps(_answer([_entry(t, t + "!") for t in tokens])).encode()
    entries = _logprobs(json.loads(Redactor([SLASHY]).cut_bytes(body)))
    assert _tokens(entries)[20_000:20_002] == [f" {REDACTED}", ""]
    assert _tokens(entries)[:3] == [" w0", " w1", " w2"]


# --- properties ------------------------------------------------------------------

KEY_CHARS = string.ascii_letters + string.digits + "-_./+~:="
# Nothing here can continue a key or start an escape, so a redacted key's edges are exact.
AROUND_CHARS = " !,()"


def _forms(char: str) -> list[str]:
    forms = [char, f"\\u{ord(char):04x}", f"\\u{ord(char):04X}", f"%{ord(char):02X}"]
    forms += [f"%{ord(char):02x}", f"&#x{ord(char):x};", f"&#{ord(char)};"]
    return [*forms, "\\/"] if char == "/" else forms


@settings(max_examples=200, deadline=None)
@given(
    key=st.text(KEY_CHARS, min_size=4, max_size=40),
    around=st.tuples(st.text(AROUND_CHARS), st.text(AROUND_CHARS)),
    data=st.data(),
)
def test_property_every_encoding_of_a_key_is_redacted(
    key: str, around: tuple[str, str], data: st.DataObject
) -> None:
    encoded = "".join(data.draw(st.sampled_from(_forms(c))) for c in key)
    note(f"encoded: {encoded!r}")
    before, after = around
    redactor = Redactor([key])
    assert redactor.text(before + encoded + after) == before + REDACTED + after
    assert redactor.bytes(f"{before}{encoded}{after}".encode()) == (
        f"{before}{REDACTED}{after}".encode()
    )


@settings(max_examples=200, deadline=None)
@given(key=st.text(KEY_CHARS, min_size=4, max_size=40), data=st.data())
def test_property_text_without_the_key_is_unchanged(key: str, data: st.DataObject) -> None:
    pieces = st.one_of(
        st.text(AROUND_CHARS + string.ascii_letters),
        st.integers(0, len(key) - 1).flatmap(lambda n: st.just(key[n:]) | st.just(key[:n])),
    )
    text = "".join(data.draw(st.lists(pieces, max_size=8)))
    assume(key not in text)
    note(f"text: {text!r}")
    assert Redactor([key]).text(text) == text
    assert Redactor([key]).bytes(text.encode()) == text.encode()


@settings(max_examples=200, deadline=None)
@given(key=st.text(KEY_CHARS, min_size=4, max_size=40), data=st.data())
def test_property_a_key_split_anyhow_is_cut_and_the_rest_kept(
    key: str, data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.sets(st.integers(1, len(key) - 1))))
    pieces = [key[start:end] for start, end in zip([0, *cuts], [*cuts, len(key)], strict=True)]
    # The model's name spelt like a piece: what the piece must not be confused with.
    model = data.draw(st.sampled_from(pieces))
    datas = [_chunk(text, model=model) for text in ["(", *pieces, ")"]]
    # Equal values in every event are joined too: a key that repeats one is not the case.
    assume(key not in model * len(datas))
    note(f"pieces: {pieces!r}")
    masked, _ = _masked_stream(key, datas)
    assert _contents(masked) == f"({REDACTED})"
    assert {json.loads(d)["model"] for d in masked} == {model}


@settings(max_examples=200, deadline=None)
@given(key=st.text(KEY_CHARS, min_size=4, max_size=40), data=st.data())
def test_property_a_key_split_anyhow_between_logprobs_tokens_is_cut(
    key: str, data: st.DataObject
) -> None:
    # A key that is part of the body's own syntax ("toke" in every "token") is no case.
    assume(key not in json.dumps(_answer([_entry("(", "(!"), _entry(")", ")!")])))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(key) - 1))))
    pieces = [key[start:end] for start, end in zip([0, *cuts], [*cuts, len(key)], strict=True)]
    note(f"pieces: {pieces!r}")
    entries = [_entry(t, t + "!") for t in ["(", *pieces, ")"]]
    answer = json.loads(Redactor([key]).bytes(json.dumps(_answer(entries)).encode()))
    out = _logprobs(answer)
    assert _tokens(out) == ["(", REDACTED, *[""] * (len(pieces) - 1), ")"]
    assert _bytes_agree(out)
    assert [e["top_logprobs"][1]["token"] for e in out[1:-1]] == [f"{REDACTED}!"] * len(pieces)
