"""OpenAI Chat Completions, streamed: SSE framing, chunks, deltas, termination, usage, timing."""

from __future__ import annotations

from typing import Any

from chatconform.case import CaseRecord, case
from chatconform.dialects.openai.checks import completion, streaming, text
from chatconform.dialects.openai.probe import OpenAIProbe, over_cap
from chatconform.dialects.openai.requests import chat_body
from chatconform.dialects.openai.stream import choices, parse
from chatconform.exchange import Exchange
from chatconform.prompts import prompt

STREAM = "https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream"
CHUNK = "https://platform.openai.com/docs/api-reference/chat/streaming"


def _stream(openai: OpenAIProbe, **params: Any) -> Exchange:
    body = chat_body(
        prompt("counting"),
        openai.model("streaming"),
        max_tokens=80,
        temperature=0,
        stream=True,
        **params,
    )
    exchange = openai.chat(body)
    openai.expect_success(exchange)
    openai.check_stream(exchange)
    return exchange


@case(
    "openai/streaming/content-type",
    title="The stream is text/event-stream",
    requirement="With stream: true the response is data-only server-sent events (text/event-stream).",
    source=STREAM,
)
def test_content_type(openai: OpenAIProbe, case: CaseRecord) -> None:
    _stream(openai)


@case(
    "openai/streaming/chunks-valid",
    title="Every event is a valid chat.completion.chunk",
    requirement="Each event carries one chat.completion.chunk valid against the official schema; no error event cuts the stream.",
    source="openai-openapi: CreateChatCompletionStreamResponse",
)
def test_chunks_valid(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = _stream(openai)
    # An error event is judged with the framing, by check_stream.
    for run in (
        streaming.chunks_match_schema,
        streaming.chunk_object_is_chunk,
        streaming.choices_carry_index,
        # What clients tolerate is a should, at the place where the schema reports it.
        streaming.finish_reason_key_present,
        completion.optional_fields_not_null,
        completion.service_tier_official,
    ):
        case.add(run(exchange), exchange)


@case(
    "openai/streaming/chunk-identity",
    title="All chunks share id, created and model",
    requirement="Each chunk has the same id, created and model; created in seconds; the model requested.",
    source=f"{CHUNK}#chat/streaming-id",
)
def test_chunk_identity(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = _stream(openai)
    case.add(streaming.chunk_identity_constant(exchange), exchange)
    case.add(completion.created_in_seconds(exchange), exchange)
    case.add(completion.model_matches_request(exchange), exchange)


@case(
    "openai/streaming/first-delta-role",
    title="The first delta carries role: assistant",
    requirement="The first delta of each choice carries role assistant.",
    source=f"{CHUNK}#chat/streaming-choices",
)
def test_first_delta_role(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = _stream(openai)
    case.add(streaming.first_delta_has_role(exchange), exchange)


@case(
    "openai/streaming/incremental-deltas",
    title="Deltas carry only new text",
    requirement="Each delta carries only the content generated since the previous chunk.",
    source=f"{CHUNK}#chat/streaming-choices",
)
def test_incremental_deltas(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = _stream(openai)
    case.add(streaming.deltas_are_incremental(exchange), exchange)


@case(
    "openai/streaming/finish-reason",
    title="Exactly one valid finish_reason, on the last chunk",
    requirement="finish_reason is null until the last chunk of a choice, which has an enum value.",
    source="openai-openapi: CreateChatCompletionStreamResponse.choices[].finish_reason",
)
def test_finish_reason(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = _stream(openai)
    case.add(streaming.finish_reason_once_at_end(exchange), exchange)


@case(
    "openai/streaming/done-sentinel",
    title="data: [DONE] ends the stream",
    requirement="The stream is terminated by a data: [DONE] message, and nothing follows it.",
    source=STREAM,
)
def test_done_sentinel(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = _stream(openai)
    case.add(streaming.done_sentinel_last(exchange), exchange)


@case(
    "openai/streaming/include-usage",
    title="stream_options.include_usage adds one usage chunk",
    requirement="One extra chunk with choices [] carries usage before [DONE]; usage is null elsewhere.",
    source="https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream_options",
    optional="stream_options.include_usage",
)
def test_include_usage(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = _stream(openai, stream_options={"include_usage": True})
    case.add(streaming.include_usage_honoured(exchange), exchange)
    stream = parse(exchange)
    usage_events = [i for i, c in stream.chunks if isinstance(c.get("usage"), dict)]
    if usage_events:
        case.add(
            completion.usage_total_consistent(
                stream.usage(), location=f"/events/{usage_events[-1]}/usage"
            ),
            exchange,
        )


@case(
    "openai/streaming/max-tokens",
    title="max_tokens is honoured in a stream",
    requirement="A stream cut by max_tokens ends its choice with finish_reason length.",
    source="https://platform.openai.com/docs/api-reference/chat/create#chat-create-max_tokens",
)
def test_stream_max_tokens(openai: OpenAIProbe, case: CaseRecord) -> None:
    body = chat_body(
        prompt("counting"),
        openai.model("streaming"),
        max_tokens=5,
        temperature=0,
        stream=True,
    )
    exchange = openai.chat(body, cut=over_cap(5))
    openai.expect_success(exchange)
    openai.check_stream(exchange)
    case.add(text.max_tokens_honoured(exchange, 5, parse(exchange).usage()), exchange)


@case(
    "openai/streaming/n-choices",
    title="n: 2 streams two choices, told apart by index",
    requirement="Streamed with n 2, chunks carry both choices (interleaved, each chunk naming its choice by index), each with its content and its own finish_reason.",
    source="https://platform.openai.com/docs/api-reference/chat/create#chat-create-n",
    optional="n",
)
def test_n_choices(openai: OpenAIProbe, case: CaseRecord) -> None:
    body = chat_body(
        prompt("arithmetic"),
        openai.model("streaming"),
        max_tokens=16,
        temperature=0.7,
        n=2,
        stream=True,
    )
    exchange = openai.chat(body)
    openai.expect_success(exchange)
    openai.check_stream(exchange)
    if any("index" not in c for _, chunk in parse(exchange).chunks for c in choices(chunk)):
        case.inconclusive(
            "chunk choices without index: which choice a delta extends cannot be told "
            "(openai/streaming/chunks-valid reports the missing index)"
        )
    case.add(text.n_choices_honoured(exchange, 2), exchange)
    case.add(streaming.finish_reason_once_at_end(exchange), exchange)


@case(
    "openai/streaming/matches-non-streamed",
    title="The streamed answer matches the non-streamed one",
    requirement="Streaming changes how the completion is delivered, not what it is.",
    source=STREAM,
    round_trips=2,
)
def test_matches_non_streamed(openai: OpenAIProbe, case: CaseRecord) -> None:
    def attempt() -> list:
        streamed = _stream(openai)
        plain = openai.chat(
            chat_body(prompt("counting"), openai.model("streaming"), max_tokens=80, temperature=0)
        )
        openai.expect_success(plain)
        return case.tie(streaming.matches_non_streamed(streamed, plain), streamed)

    case.until_accepted(attempt)


@case(
    "openai/streaming/incremental-delivery",
    title="Chunks arrive as they are generated",
    requirement="Partial message deltas are sent as they become available, not in one burst at the end.",
    source=STREAM,
)
def test_incremental_delivery(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = _stream(openai)
    case.add(streaming.delivered_incrementally(exchange), exchange)
