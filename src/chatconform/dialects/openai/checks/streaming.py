"""Checks of a streamed chat completion: framing, chunks, deltas, termination, usage."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

from chatconform import framing
from chatconform.dialects.openai.checks import Violation, check, expected
from chatconform.dialects.openai.checks.completion import FINISH_REASONS
from chatconform.dialects.openai.checks.text import answer_text
from chatconform.dialects.openai.stream import (
    DONE,
    choice_entries,
    choice_index,
    choices,
    index_order,
    parse,
)
from chatconform.exchange import Exchange, clip, events_excerpt, summarize
from chatconform.schemas import schema_errors

content_type_is_event_stream = framing.event_stream_check("openai.stream.content-type")


@check("openai.stream.event-json")
def events_are_json_chunks(exchange: Exchange) -> Iterator[Violation]:
    """Each event's data is one JSON chunk or [DONE] (chat streaming reference)."""
    stream = parse(exchange)
    if stream.not_json:
        first, data = stream.not_json[0]
        yield Violation(
            expected(
                "each event's data to be one JSON object or [DONE]",
                f"{summarize([i for i, _ in stream.not_json])}: {clip(data, 200)!r}",
            ),
            location=f"/events/{first}",
            evidence=events_excerpt(exchange, first),
        )


@check("openai.stream.chunk-schema")
def chunks_match_schema(exchange: Exchange) -> Iterator[Violation]:
    """Each chunk validates against schemas/openai/chat_chunk (CreateChatCompletionStreamResponse)."""
    # Grouped by pointer and message, not pointer alone: a tolerated null in one event
    # must not hide an invalid value at the same place in a later one.
    grouped: dict[tuple[str, str], list[int]] = {}
    for i, chunk in parse(exchange).chunks:
        for pointer, message in schema_errors("openai", "chat_chunk", chunk):
            grouped.setdefault((pointer, message), []).append(i)
    for (pointer, message), where in grouped.items():
        yield Violation(
            expected(
                "chunks valid against the chat.completion.chunk schema",
                f"{summarize(where)}: {message}",
            ),
            location=f"/events/{where[0]}{pointer}",
            evidence=events_excerpt(exchange, where[0]),
        )


@check("openai.stream.finish-reason-absent")
def finish_reason_key_present(exchange: Exchange) -> Iterator[Violation]:
    """Every chunk choice carries finish_reason, null until its last chunk (CreateChatCompletionStreamResponse).

    Reported where the chunk schema reports the missing key (the first event
    lacking it, per position in the choices array), so this should finding takes
    that place. A last chunk without finish_reason is openai.stream.finish-reason's.
    """
    chunks = parse(exchange).chunks
    last = {choice_index(e): (i, j) for i, chunk in chunks for j, e in choice_entries(chunk)}
    absent: dict[int, list[int]] = {}
    for i, chunk in chunks:
        for j, entry in choice_entries(chunk):
            if "finish_reason" not in entry and last[choice_index(entry)] != (i, j):
                absent.setdefault(j, []).append(i)
    for j, where in absent.items():
        yield Violation(
            expected(
                "finish_reason: null on every chunk before the last of a choice",
                f"no finish_reason key in {summarize(where)}",
            ),
            location=f"/events/{where[0]}/choices/{j}/finish_reason",
            evidence=events_excerpt(exchange, where[0]),
        )


@check("openai.stream.chunk-object")
def chunk_object_is_chunk(exchange: Exchange) -> Iterator[Violation]:
    """object is always chat.completion.chunk (chat streaming reference)."""
    wrong = [(i, c.get("object")) for i, c in parse(exchange).chunks]
    wrong = [(i, o) for i, o in wrong if o != "chat.completion.chunk"]
    if wrong:
        yield Violation(
            expected(
                "object 'chat.completion.chunk'",
                f"{wrong[0][1]!r} in {summarize([i for i, _ in wrong])}",
            ),
            location=f"/events/{wrong[0][0]}/object",
            evidence=events_excerpt(exchange, wrong[0][0]),
        )


@check("openai.stream.choice-index")
def choices_carry_index(exchange: Exchange) -> Iterator[Violation]:
    """Each choice of a chunk carries its integer index (ChatCompletionStreamResponse.choices[].index)."""
    missing = [
        (i, j)
        for i, chunk in parse(exchange).chunks
        for j, entry in enumerate(choices(chunk))
        if isinstance(entry, dict) and not _is_index(entry.get("index"))
    ]
    if missing:
        i, j = missing[0]
        yield Violation(
            expected(
                "an integer index on every choice of every chunk",
                f"none in {summarize(sorted({i for i, _ in missing}))}",
            ),
            location=f"/events/{i}/choices/{j}/index",
            evidence=events_excerpt(exchange, i),
        )


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@check("openai.stream.chunk-identity")
def chunk_identity_constant(exchange: Exchange) -> Iterator[Violation]:
    """Every chunk has the same id, created and model (chat streaming reference: id)."""
    chunks = parse(exchange).chunks
    if not chunks:
        return
    first = chunks[0][1]
    for field in ("id", "created", "model"):
        differing = [i for i, c in chunks[1:] if c.get(field) != first.get(field)]
        if differing:
            other = dict(chunks)[differing[0]].get(field)
            yield Violation(
                expected(
                    f"the same {field} on every chunk ({first.get(field)!r})",
                    f"{other!r} in {summarize(differing)}",
                ),
                location=f"/events/{differing[0]}/{field}",
                evidence=events_excerpt(exchange, differing[0]),
            )


@check("openai.stream.first-delta-role")
def first_delta_has_role(exchange: Exchange) -> Iterator[Violation]:
    """The first delta of each choice carries role: assistant (observed official behaviour)."""
    seen: set[int | str] = set()
    for i, chunk in parse(exchange).chunks:
        for j, entry in choice_entries(chunk):
            index = choice_index(entry)
            if index in seen:
                continue
            seen.add(index)
            delta = entry.get("delta")
            role = delta.get("role") if isinstance(delta, dict) else None
            if role != "assistant":
                yield Violation(
                    expected(
                        f"role 'assistant' in the first delta of choice {index}",
                        f"delta {json.dumps(delta)}",
                    ),
                    location=f"/events/{i}/choices/{j}/delta/role",
                    evidence=events_excerpt(exchange, i),
                )


@check("openai.stream.cumulative-deltas")
def deltas_are_incremental(exchange: Exchange) -> Iterator[Violation]:
    """Each delta carries only new content (chat streaming reference: delta)."""
    contents: list[tuple[int, str]] = []
    for i, chunk in parse(exchange).chunks:
        for entry in choices(chunk):
            delta = entry.get("delta")
            text = delta.get("content") if isinstance(delta, dict) else None
            if entry.get("index", 0) == 0 and isinstance(text, str) and text:
                contents.append((i, text))
    # A cumulative delta extends the previous one, and like every delta of its stream it
    # starts with the first one (the text so far always does); " 10" after " 1" is chance.
    first = contents[0][1] if contents else ""
    repeats = [
        (i, text)
        for (_, prev), (i, text) in itertools.pairwise(contents)
        if len(text) > len(prev) and text.startswith(prev) and text.startswith(first)
    ]
    # One repeat can be chance ("1" then "10"); a cumulative stream repeats every time.
    if len(repeats) >= 2 and len(repeats) >= (len(contents) - 1) // 2:
        i, text = repeats[0]
        yield Violation(
            expected(
                "each delta to hold only new text",
                f"{len(repeats)} of {len(contents) - 1} deltas repeat the previous one, "
                f"e.g. {clip(text, 80)!r}",
            ),
            location=f"/events/{i}/choices/0/delta/content",
            evidence=events_excerpt(exchange, i),
        )


@check("openai.stream.finish-reason")
def finish_reason_once_at_end(exchange: Exchange) -> Iterator[Violation]:
    """finish_reason is null until the last chunk of each choice, which has a valid one."""
    per_choice: dict[int | str, list[tuple[int, int, Any]]] = {}
    for i, chunk in parse(exchange).chunks:
        for j, entry in choice_entries(chunk):
            per_choice.setdefault(choice_index(entry), []).append(
                (i, j, entry.get("finish_reason"))
            )
    if not per_choice:
        yield Violation(
            expected(
                "chunks with choices, the last one carrying finish_reason",
                f"no chunk with choices in {len(exchange.events)} events",
            ),
            location="/events",
            evidence=events_excerpt(exchange, 0),
        )
    for index, entries in per_choice.items():
        set_at = [(i, j, r) for i, j, r in entries if r is not None]
        last_i, last_j, last_reason = entries[-1]
        if not set_at:
            yield Violation(
                expected(
                    f"a finish_reason on the last chunk of choice {index}", "none in any chunk"
                ),
                location=f"/events/{last_i}/choices/{last_j}/finish_reason",
                evidence=events_excerpt(exchange, last_i),
            )
            continue
        if len(set_at) > 1 or last_reason is None:
            yield Violation(
                expected(
                    f"exactly one finish_reason, on the last chunk of choice {index}",
                    f"finish_reason set in {summarize([i for i, _, _ in set_at])}",
                ),
                location=f"/events/{set_at[0][0]}/choices/{set_at[0][1]}/finish_reason",
                evidence=events_excerpt(exchange, set_at[0][0]),
            )
        i, j, reason = set_at[-1]
        if reason not in FINISH_REASONS:
            yield Violation(
                expected(f"finish_reason one of {', '.join(FINISH_REASONS)}", repr(reason)),
                location=f"/events/{i}/choices/{j}/finish_reason",
                evidence=events_excerpt(exchange, i),
            )


@check("openai.stream.truncated")
def stream_not_truncated(exchange: Exchange) -> Iterator[Violation]:
    """A stream ends its choices (finish_reason) or itself ([DONE]) (chat streaming reference).

    With neither, the connection closed mid-answer: what arrived is partial. A
    stream the suite cut itself (``exchange.cut``) is not the provider's doing.
    """
    stream = parse(exchange)
    if exchange.cut is not None or stream.done_at is not None:
        return
    unfinished = sorted(
        {choice_index(e) for _, c in stream.chunks for _, e in choice_entries(c)}
        - {
            choice_index(e)
            for _, c in stream.chunks
            for _, e in choice_entries(c)
            if e.get("finish_reason") is not None
        },
        key=index_order,
    )
    if unfinished or not stream.chunks:
        last = len(exchange.events) - 1
        what = f"choice {unfinished[0]} without a finish_reason" if unfinished else "no chunk"
        yield Violation(
            expected(
                "every choice ended by a finish_reason, then data: [DONE]",
                f"the stream ended after {len(exchange.events)} events, {what}, without [DONE]",
            ),
            location=f"/events/{last}" if last >= 0 else "/events",
            evidence=events_excerpt(exchange, max(last, 0)),
        )


@check("openai.stream.done-sentinel")
def done_sentinel_last(exchange: Exchange) -> Iterator[Violation]:
    """The stream is terminated by data: [DONE], and nothing follows it (create chat: stream)."""
    stream = parse(exchange)
    last = len(exchange.events) - 1
    if stream.done_at is None:
        tail = exchange.unterminated_tail
        received = (
            f"an unterminated last event {clip(tail, 80)!r} (no blank line after it)"
            if tail
            else f"the stream ended after {len(exchange.events)} events without it"
        )
        yield Violation(
            expected(f"a final 'data: {DONE}' event", received),
            location=f"/events/{last}" if last >= 0 else "/events",
            evidence=events_excerpt(exchange, max(last, 0)),
        )
    elif stream.done_at != last or exchange.unterminated_tail.strip():
        after = last - stream.done_at
        yield Violation(
            expected(
                f"nothing after 'data: {DONE}'",
                f"{after} more events"
                if after
                else f"more data: {clip(exchange.unterminated_tail, 80)!r}",
            ),
            location=f"/events/{stream.done_at + 1}",
            evidence=events_excerpt(exchange, stream.done_at + 1),
        )


def _wants_usage(exchange: Exchange) -> bool:
    request = exchange.request.json() or {}
    options = request.get("stream_options") or {}
    return bool(isinstance(options, dict) and options.get("include_usage"))


@check("openai.stream.include-usage")
def include_usage_honoured(exchange: Exchange) -> Iterator[Violation]:
    """With include_usage, one last chunk with choices [] carries usage; others have null."""
    stream = parse(exchange)
    with_usage = [(i, c) for i, c in stream.chunks if c.get("usage") is not None]
    if not _wants_usage(exchange):
        return
    if not with_usage:
        yield Violation(
            expected("a final chunk with choices [] and a usage object", "no chunk carries usage"),
            location="/events",
            evidence=events_excerpt(exchange, len(exchange.events) - 1),
        )
        return
    usage_chunks = [(i, c) for i, c in with_usage if c.get("choices") == []]
    early = [i for i, c in with_usage if c.get("choices") != []]
    if early:
        yield Violation(
            expected(
                "usage null on every chunk that has choices", f"usage set in {summarize(early)}"
            ),
            location=f"/events/{early[0]}/usage",
            evidence=events_excerpt(exchange, early[0]),
        )
    if len(usage_chunks) != 1:
        yield Violation(
            expected(
                "exactly one chunk with choices [] carrying usage",
                f"{len(usage_chunks)} such chunks",
            ),
            location="/events",
            evidence=events_excerpt(exchange, with_usage[-1][0]),
        )
    elif usage_chunks[0][0] != stream.chunks[-1][0]:
        i = usage_chunks[0][0]
        yield Violation(
            expected(
                "the usage chunk to be the last chunk before [DONE]",
                f"usage in event {i}, chunks follow it",
            ),
            location=f"/events/{i}",
            evidence=events_excerpt(exchange, i),
        )


def _words(text: str) -> list[str]:
    return text.split()


@check("openai.stream.matches-non-streamed")
def matches_non_streamed(streamed: Exchange, plain: Exchange) -> Iterator[Violation]:
    """The streamed text matches the non-streamed answer to the same probe in kind and length."""
    streamed_text, plain_text = answer_text(streamed), answer_text(plain)
    a, b = _words(streamed_text), _words(plain_text)
    if not a or not b:
        if bool(a) != bool(b):
            yield Violation(
                expected(
                    "both answers non-empty",
                    f"streamed {clip(streamed_text, 80)!r}, non-streamed {clip(plain_text, 80)!r}",
                ),
                evidence=streamed.excerpt(),
            )
        return
    ratio = len(a) / len(b)
    kind_a, kind_b = _kind(a), _kind(b)
    if not 0.5 <= ratio <= 2.0 or kind_a != kind_b:
        yield Violation(
            expected(
                f"a streamed answer like the non-streamed one ({len(b)} words, {kind_b})",
                f"{len(a)} words, {kind_a}: {clip(streamed_text, 120)!r}",
            ),
            evidence=events_excerpt(streamed, 1),
        )


def _kind(words: list[str]) -> str:
    numeric = sum(w.strip(".,").isdigit() for w in words)
    return "numbers" if numeric * 2 > len(words) else "words"


def _content_times(exchange: Exchange) -> list[float]:
    return [
        exchange.events[i].t
        for i, chunk in parse(exchange).chunks
        if any(
            isinstance(e.get("delta"), dict) and e["delta"].get("content") for e in choices(chunk)
        )
    ]


delivered_incrementally = framing.incremental_check(
    "openai.stream.pseudo-streaming", _content_times, "content chunks"
)


@check("openai.stream.error-event")
def no_error_event(exchange: Exchange) -> Iterator[Violation]:
    """A successful stream carries no error event (openai-python raises APIError on one)."""
    stream = parse(exchange)
    for i, payload in stream.errors:
        error = payload.get("error")
        message = error.get("message") if isinstance(error, dict) else error
        yield Violation(
            expected(
                "chunks to the end of the completion",
                f"an error event after {len(stream.chunks)} chunks: {clip(str(message), 160)!r}",
            ),
            location=f"/events/{i}",
            evidence=events_excerpt(exchange, i),
        )
