"""Tests of the WHATWG event-stream decoder in chatconform.sse."""

from __future__ import annotations

import itertools

from hypothesis import given, note, settings
from hypothesis import strategies as st

from chatconform.sse import EventAssembler, LineSplitter, ServerSentEvent, SSEDecoder, decode


def events_of(*chunks: bytes) -> list[ServerSentEvent]:
    return list(decode(chunks))


def data_of(*chunks: bytes) -> list[str]:
    return [e.data for e in events_of(*chunks)]


# --- LineSplitter ------------------------------------------------------------


def test_lf_cr_and_crlf_each_end_a_line() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"a\nb\rc\r\nd\n") == ["a", "b", "c", "d"]


def test_crlf_split_across_two_reads_is_one_line_end() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"a\r") == ["a"]
    assert splitter.feed(b"\nb\n") == ["b"]


def test_crlf_split_by_an_empty_read_is_still_one_line_end() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"a\r") == ["a"]
    assert splitter.feed(b"") == []
    assert splitter.feed(b"\nb\n") == ["b"]


def test_cr_then_cr_is_two_line_ends() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"a\r") == ["a"]
    assert splitter.feed(b"\rb\n") == ["", "b"]


def test_line_without_end_is_kept_for_the_next_read() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"da") == []
    assert splitter.tail() == "da"
    assert splitter.feed(b"ta: x\n") == ["data: x"]
    assert splitter.tail() == ""


def test_multibyte_utf8_split_across_reads_decodes() -> None:
    raw = "data: héllo €😀\n\n".encode()
    chunks = [raw[i : i + 1] for i in range(len(raw))]
    assert data_of(*chunks) == ["héllo €😀"]


def test_leading_bom_is_stripped() -> None:
    assert data_of(b"\xef\xbb\xbfdata: x\n\n") == ["x"]


def test_bom_split_across_reads_is_stripped() -> None:
    assert data_of(b"\xef", b"\xbb", b"\xbfdata: x\n\n") == ["x"]


def test_bom_is_stripped_only_at_the_very_start() -> None:
    # A BOM at the start of a later line makes that line's field name "\ufeffdata",
    # an unknown field, which is ignored.
    assert data_of(b"data: a\n\n\xef\xbb\xbfdata: b\n\ndata: c\n\n") == ["a", "c"]
    # Only one BOM is ignored; the second makes the first line an unknown field.
    assert data_of(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n") == []


# --- EventAssembler ----------------------------------------------------------


def test_comment_lines_are_ignored() -> None:
    assert data_of(b": keep-alive\n\ndata: x\n: another\n\n") == ["x"]


def test_one_leading_space_is_removed_from_the_value() -> None:
    assert data_of(b"data:x\n\ndata: x\n\ndata:  x\n\n") == ["x", "x", " x"]


def test_value_keeps_later_colons() -> None:
    assert data_of(b'data: {"a": "b:c"}\n\n') == ['{"a": "b:c"}']


def test_multiline_data_joined_with_lf() -> None:
    assert data_of(b"data: one\ndata:two\ndata\n\n") == ["one\ntwo\n"]


def test_event_field_names_the_event_and_resets_after_dispatch() -> None:
    events = events_of(b"event: ping\ndata: 1\n\ndata: 2\n\n")
    assert [(e.event, e.data) for e in events] == [("ping", "1"), (None, "2")]


def test_event_name_without_data_is_dropped_with_the_empty_dispatch() -> None:
    events = events_of(b"event: ping\n\ndata: 2\n\n")
    assert [(e.event, e.data) for e in events] == [(None, "2")]


def test_retry_only_when_all_ascii_digits() -> None:
    events = events_of(
        b"retry: 1500\ndata: a\n\n"
        b"retry: 15x\ndata: b\n\n"
        b"retry: -1\ndata: c\n\n"
        b"retry: \xd9\xa3\ndata: d\n\n"  # ARABIC-INDIC DIGIT THREE: a digit, not ASCII
        b"retry:\ndata: e\n\n"
    )
    assert [(e.data, e.retry) for e in events] == [
        ("a", 1500),
        ("b", None),
        ("c", None),
        ("d", None),
        ("e", None),
    ]


def test_id_persists_as_last_event_id() -> None:
    events = events_of(b"id: 7\ndata: a\n\ndata: b\n\nid: 8\ndata: c\n\nid\ndata: d\n\n")
    assert [(e.data, e.id) for e in events] == [("a", "7"), ("b", "7"), ("c", "8"), ("d", "")]


def test_id_containing_nul_is_ignored() -> None:
    events = events_of(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n")
    assert [e.id for e in events] == ["1", "1"]


def test_field_without_colon_is_the_whole_line_with_empty_value() -> None:
    assert data_of(b"data\n\n") == [""]
    assert [e.event for e in events_of(b"event\ndata: x\n\n")] == [None]


def test_unknown_fields_are_ignored() -> None:
    events = events_of(b"foo: bar\ndata: x\nDATA: y\nData: z\n data: w\n\n")
    assert [e.data for e in events] == ["x"]


def test_blank_line_with_empty_data_buffer_dispatches_nothing() -> None:
    assert events_of(b"\n\n\r\n\r") == []
    assert events_of(b"id: 1\nretry: 5\nfoo: x\n\n") == []


def test_assembler_feeds_lines_one_at_a_time() -> None:
    assembler = EventAssembler()
    assert assembler.feed("data: x") is None
    assert assembler.pending == ["data: x"]
    assert assembler.feed("") == ServerSentEvent(data="x")
    assert assembler.pending == []


# --- unterminated ------------------------------------------------------------


def test_unterminated_reports_event_missing_its_blank_line() -> None:
    decoder = SSEDecoder()
    assert [e.data for e in decoder.feed(b"data: a\n\ndata: [DONE]\n")] == ["a"]
    assert decoder.unterminated() == "data: [DONE]"


def test_unterminated_reports_a_last_line_without_line_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: [DONE]") == [ServerSentEvent(data="a")]
    assert decoder.unterminated() == "data: [DONE]"


def test_unterminated_is_empty_for_a_terminated_stream() -> None:
    decoder = SSEDecoder()
    assert [e.data for e in decoder.feed(b"data: a\n\ndata: [DONE]\n\n")] == ["a", "[DONE]"]
    assert decoder.unterminated() == ""


def test_unterminated_ignores_trailing_comment() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a\n\n: bye\n")
    assert decoder.unterminated() == ""


# --- properties --------------------------------------------------------------

_LINE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    max_size=12,
)
# Values in the shapes providers send: JSON-ish with colons, leading spaces.
_VALUE = st.one_of(_LINE_TEXT, _LINE_TEXT.map(lambda s: " " + s), _LINE_TEXT.map(lambda s: s + ":"))
_DATA = st.lists(_VALUE, min_size=1, max_size=3).map("\n".join)
_EVENT_NAME = st.one_of(st.none(), _VALUE.filter(bool))
_ID = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\0"),
    max_size=6,
)


def _field(draw: st.DrawFn, name: str, value: str) -> str:
    """One field line, with or without the optional space after the colon."""
    if value.startswith(" ") or draw(st.booleans()):
        return f"{name}: {value}"
    return f"{name}:{value}"


@st.composite
def framed_streams(draw: st.DrawFn) -> tuple[list[tuple[str, str | None, str | None]], bytes]:
    """A list of (data, event, last id) and one valid encoding of it as an event stream."""
    events = draw(st.lists(st.tuples(_DATA, _EVENT_NAME), max_size=5))
    lines: list[str] = []
    expected = []
    last_id: str | None = None

    def noise() -> None:
        for _ in range(draw(st.integers(0, 2))):
            kind = draw(st.sampled_from(["comment", "retry", "id"]))
            if kind == "comment":
                lines.append(":" + draw(_LINE_TEXT))
            elif kind == "retry":
                lines.append(_field(draw, "retry", str(draw(st.integers(0, 10**6)))))
            else:
                nonlocal last_id
                last_id = draw(_ID)
                lines.append(_field(draw, "id", last_id))

    for data, event in events:
        noise()
        if event is not None:
            lines.append(_field(draw, "event", event))
        for value in data.split("\n"):
            lines.append(_field(draw, "data", value))
            noise()
        lines.append("")
        expected.append((data, event, last_id))
    encoded = ""
    previous_end = ""
    for line in lines:
        end = draw(st.sampled_from(["\n", "\r", "\r\n"]))
        if previous_end == "\r" and line == "" and end == "\n":
            # CR then an LF-terminated blank line would read as one CRLF.
            end = "\r\n"
        encoded += line + end
        previous_end = end
    raw = encoded.encode()
    if draw(st.booleans()):
        raw = b"\xef\xbb\xbf" + raw
    return expected, raw


def _split(draw: st.DrawFn, raw: bytes) -> list[bytes]:
    """The bytes cut into reads: at random points, after every CR, or byte by byte."""
    how = draw(st.sampled_from(["random", "after-cr", "bytes"]))
    if how == "bytes":
        return [raw[i : i + 1] for i in range(len(raw))]
    cuts = sorted(draw(st.lists(st.integers(0, len(raw)), max_size=20)))
    if how == "after-cr":
        cuts = sorted({*cuts, *(i + 1 for i, byte in enumerate(raw) if byte == 0x0D)})
    bounds = [0, *cuts, len(raw)]
    return [raw[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=200, deadline=None)
@given(stream=framed_streams(), data=st.data())
def test_any_valid_framing_split_anywhere_decodes_to_the_original_events(
    stream: tuple[list[tuple[str, str | None, str | None]], bytes], data: st.DataObject
) -> None:
    expected, raw = stream
    chunks = _split(data.draw, raw)
    note(f"raw={raw!r}")
    note(f"chunks={chunks!r}")
    decoder = SSEDecoder()
    got = [event for chunk in chunks for event in decoder.feed(chunk)]
    assert [(e.data, e.event, e.id) for e in got] == expected
    assert decoder.unterminated() == ""


@settings(max_examples=100, deadline=None)
@given(stream=framed_streams(), data=st.data())
def test_stream_cut_before_its_last_blank_line_reports_it_unterminated(
    stream: tuple[list[tuple[str, str | None, str | None]], bytes], data: st.DataObject
) -> None:
    expected, raw = stream
    if not expected:
        return
    # Drop the final blank line (and the line end before it): the last event is lost.
    text = raw.decode("utf-8")
    body = text.rstrip("\r\n")
    note(f"body={body!r}")
    decoder = SSEDecoder()
    got = [event for chunk in _split(data.draw, body.encode()) for event in decoder.feed(chunk)]
    assert [(e.data, e.event, e.id) for e in got] == expected[:-1]
    assert decoder.unterminated() != ""


def test_bom_alone_is_not_an_unterminated_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"\xef\xbb\xbf") == []
    assert decoder.unterminated() == ""
    decoder.feed(b"data: x")
    assert decoder.unterminated() == "data: x"


def test_a_long_line_arriving_in_many_reads_is_one_line() -> None:
    splitter = LineSplitter()
    payload = b"data: " + b"x" * 300_000
    lines: list[str] = []
    for i in range(0, len(payload), 4096):
        lines += splitter.feed(payload[i : i + 4096])
    assert lines == []
    lines += splitter.feed(b"\r")
    lines += splitter.feed(b"\ndata: next\n")
    assert lines == [payload.decode(), "data: next"]
    assert splitter.tail() == ""


def test_invalid_utf8_is_replaced_within_its_own_line() -> None:
    # A truncated sequence right before a line end (LF or CR) does not swallow the line end
    # or the next line, however many lines one read holds.
    raw = b"data: a\xff\xe2\x82\ndata: \xe2\r\ndata: \xe2\x82\xac\n\n"
    assert data_of(raw) == ["a\ufffd\ufffd\n\ufffd\n€"]
    assert data_of(*[raw[i : i + 1] for i in range(len(raw))]) == ["a\ufffd\ufffd\n\ufffd\n€"]
