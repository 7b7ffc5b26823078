"""Exchanges built from the wire samples in tests/data/openai, and every check run on one."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from chatconform import refusals
from chatconform.dialects.openai.checks import (
    completion,
    embeddings,
    errors,
    logprobs,
    models,
    reasoning,
    streaming,
    structured,
    text,
)
from chatconform.exchange import Exchange, RecordedRequest, StreamEvent
from chatconform.finding import Finding
from chatconform.sse import SSEDecoder

# Streams (.sse) sit beside the schema tests' samples; the bodies these tests add sit in
# bodies/, since tests/test_schemas.py requires every top-level *.json to be a valid sample.
DATA_DIR = Path(__file__).parents[3] / "data" / "openai"
URL = "https://api.example.test/v1/chat/completions"
MODELS_URL = "https://api.example.test/v1/models"

COUNTING = [
    {
        "role": "user",
        "content": "Count from 1 to 11, separated by single spaces. Output only the numbers.",
    }
]
# A streamed probe that asks for the usage chunk, as the include-usage case sends it.
STREAM_REQUEST: dict[str, Any] = {
    "model": "gpt-4o",
    "messages": COUNTING,
    "max_tokens": 80,
    "temperature": 0,
    "stream": True,
    "stream_options": {"include_usage": True},
}
# A streamed probe that does not ask for usage.
PLAIN_STREAM_REQUEST: dict[str, Any] = {
    k: v for k, v in STREAM_REQUEST.items() if k != "stream_options"
}
# The strict json_schema the structured-output samples answer (fixtures/structured).
ANSWER_SCHEMA: dict[str, Any] = json.loads(
    (Path(__file__).parents[4] / "fixtures" / "structured" / "arithmetic.schema.json").read_text()
)
CHAT_REQUEST: dict[str, Any] = {
    "model": "gpt-4o",
    "messages": [{"role": "user", "content": "What is 2 + 3? Reply with the number only."}],
    "max_tokens": 16,
}
# First event after 300 ms, then one every 40 ms: a model generating tokens.
FIRST_EVENT_S = 0.300
PACE_S = 0.040


def read(name: str) -> bytes:
    return (DATA_DIR / name).read_bytes()


def sample(name: str) -> Any:
    return json.loads(read(name))


def recorded(body: dict[str, Any] | None, url: str = URL) -> RecordedRequest:
    if body is None:
        return RecordedRequest("GET", url, {"authorization": "Bearer [REDACTED]"})
    return RecordedRequest(
        "POST",
        url,
        {"authorization": "Bearer [REDACTED]", "content-type": "application/json"},
        json.dumps(body).encode(),
    )


def http_exchange(
    body: bytes,
    *,
    status: int = 200,
    content_type: str = "application/json",
    request: dict[str, Any] | None = CHAT_REQUEST,
    url: str = URL,
) -> Exchange:
    """A non-streamed exchange: status, content type and body as received."""
    headers = {"content-type": content_type} if content_type else {}
    return Exchange(request=recorded(request, url), status=status, headers=headers, body=body)


def json_exchange(name: str, **kwargs: Any) -> Exchange:
    """The exchange of a JSON (or other) sample file; see ``http_exchange`` for the options."""
    return http_exchange(read(name), **kwargs)


def sse_exchange(
    raw: bytes,
    *,
    times: Sequence[float] | None = None,
    request: dict[str, Any] | None = STREAM_REQUEST,
    content_type: str = "text/event-stream; charset=utf-8",
    status: int = 200,
) -> Exchange:
    """A streamed exchange: ``raw`` decoded into events, event i arriving at ``times[i]``."""
    decoder = SSEDecoder()
    decoded = decoder.feed(raw)
    if times is None:
        times = [FIRST_EVENT_S + PACE_S * i for i in range(len(decoded))]
    if len(times) != len(decoded):
        raise ValueError(f"{len(times)} arrival times for {len(decoded)} events")
    events = [
        StreamEvent(e.data, e.event, e.id, e.retry, t) for e, t in zip(decoded, times, strict=True)
    ]
    return Exchange(
        request=recorded(request),
        status=status,
        headers={"content-type": content_type} if content_type else {},
        body=raw,
        streamed=True,
        events=events,
        unterminated_tail=decoder.unterminated(),
        elapsed_s=(times[-1] if times else 0.0) + 0.001,
        first_byte_s=times[0] if times else None,
    )


def stream_exchange(name: str, **kwargs: Any) -> Exchange:
    """The exchange of an .sse sample file; see ``sse_exchange`` for the options."""
    return sse_exchange(read(name), **kwargs)


def sse_bytes(payloads: Sequence[Any], *, done: bool = True) -> bytes:
    """An event stream with one ``data:`` event per JSON value, then [DONE]."""
    events = [f"data: {json.dumps(p)}\n\n" for p in payloads]
    return ("".join(events) + ("data: [DONE]\n\n" if done else "")).encode()


def summary(findings: list[Finding]) -> list[tuple[str, str, str]]:
    """(rule, severity, location) of each finding, in order."""
    return [(f.rule, str(f.severity), f.location) for f in findings]


def usage_of(exchange: Exchange) -> Any:
    payload = exchange.json_or_none()
    return payload.get("usage") if isinstance(payload, dict) else None


# Every check, as a function of one exchange, with the arguments its case would give it.
EVERY_CHECK: dict[str, Callable[[Exchange], list[Finding]]] = {
    "openai.completion.not-json": completion.response_is_json,
    "openai.completion.schema": completion.response_matches_schema,
    "openai.completion.finish-reason": completion.finish_reason_in_enum,
    "openai.completion.created-unit": completion.created_in_seconds,
    "openai.completion.model-mismatch": completion.model_matches_request,
    "openai.completion.null-field-absent": completion.null_fields_present,
    "openai.completion.optional-field-null": completion.optional_fields_not_null,
    "openai.usage.present": completion.usage_present,
    "openai.usage.consistent": lambda ex: completion.usage_total_consistent(usage_of(ex)),
    "openai.usage.plausible": lambda ex: completion.usage_plausible(
        usage_of(ex), ex.request.json() or {}, text.answer_text(ex)
    ),
    "openai.text.answer": lambda ex: text.answers_trivial_prompt(ex, ["5", "five"]),
    "openai.text.system-prompt": lambda ex: text.follows_system_prompt(ex, ["kiwi"]),
    "openai.text.developer-role": lambda ex: text.follows_developer_message(ex, ["mango"]),
    "openai.text.multi-turn": lambda ex: text.uses_earlier_turns(ex, ["teal"]),
    "openai.text.content-parts": lambda ex: text.reads_content_parts(ex, ["7", "seven"]),
    "openai.text.max-tokens": lambda ex: text.max_tokens_honoured(ex, 5, usage_of(ex)),
    "openai.text.stop": lambda ex: text.stop_honoured(ex, "5", "4", ("6", "7")),
    "openai.text.n-choices": lambda ex: text.n_choices_honoured(ex, 2),
    "openai.stream.content-type": streaming.content_type_is_event_stream,
    "openai.stream.event-json": streaming.events_are_json_chunks,
    "openai.stream.chunk-schema": streaming.chunks_match_schema,
    "openai.stream.finish-reason-absent": streaming.finish_reason_key_present,
    "openai.stream.chunk-object": streaming.chunk_object_is_chunk,
    "openai.stream.choice-index": streaming.choices_carry_index,
    "openai.stream.chunk-identity": streaming.chunk_identity_constant,
    "openai.stream.first-delta-role": streaming.first_delta_has_role,
    "openai.stream.cumulative-deltas": streaming.deltas_are_incremental,
    "openai.stream.finish-reason": streaming.finish_reason_once_at_end,
    "openai.stream.done-sentinel": streaming.done_sentinel_last,
    "openai.stream.include-usage": streaming.include_usage_honoured,
    "openai.stream.matches-non-streamed": lambda ex: streaming.matches_non_streamed(ex, ex),
    "openai.stream.pseudo-streaming": streaming.delivered_incrementally,
    "openai.stream.error-event": streaming.no_error_event,
    "openai.auth.not-enforced": errors.invalid_key_refused,
    "openai.error.status": lambda ex: errors.error_status_as_official(ex, (400,)),
    "openai.error.envelope": errors.error_envelope,
    "openai.error.envelope-fields": errors.error_envelope_complete,
    "openai.error.json-content-type": errors.error_served_as_json,
    "openai.error.http200-error-body": errors.no_error_with_200,
    "openai.error.server-error": errors.client_error_not_server_error,
    "openai.request.refused": refusals.core_request_not_refused["openai"],
    "openai.stream.truncated": streaming.stream_not_truncated,
    "openai.completion.service-tier": completion.service_tier_official,
    # The same exchange as the request, its resending and the control.
    "openai.request.server-error": lambda ex: refusals.valid_request_not_server_error["openai"](
        ex, ex, ex
    ),
    "openai.error.unknown-model-served": errors.unknown_model_refused,
    "openai.error.invalid-request-accepted": errors.invalid_request_refused,
    "openai.models.list-shape": models.models_list_shape,
    "openai.models.model-fields": models.model_fields_present,
    "openai.models.configured-listed": lambda ex: models.configured_models_listed(
        ex, ["gpt-4o", "local-llama"]
    ),
    "openai.models.retrieve": lambda ex: models.listed_model_retrieved(ex, "gpt-4o"),
    "openai.embeddings.schema": embeddings.embeddings_schema,
    "openai.embeddings.usage": embeddings.embeddings_usage,
    "openai.embeddings.batch": lambda ex: embeddings.one_embedding_per_input(ex, [ex, ex]),
    "openai.embeddings.dimensions": lambda ex: embeddings.dimensions_honoured(ex, 8),
    "openai.embeddings.base64": lambda ex: embeddings.base64_matches_float(ex, ex),
    "openai.embeddings.semantic": lambda ex: embeddings.paraphrase_closer(ex, ex, ex),
    "openai.embeddings.input-too-long": lambda ex: embeddings.too_long_input_refused(ex, 9000),
    "openai.structured.not-json": structured.content_is_json_object,
    "openai.structured.fenced": structured.json_not_fenced,
    "openai.structured.schema-violated": lambda ex: structured.content_matches_schema(
        ex, ANSWER_SCHEMA
    ),
    "openai.structured.strict-subset": lambda ex: structured.unsupported_schema_refused(
        ex, "a property left out of required"
    ),
    "openai.reasoning.vendor-field": reasoning.reasoning_fields_reported,
    "openai.reasoning.in-content": reasoning.reasoning_not_in_content,
    "openai.reasoning.tokens": lambda ex: reasoning.reasoning_tokens_counted(ex, usage_of(ex)),
    "openai.reasoning.stream-order": reasoning.reasoning_before_content,
    "openai.logprobs.valid": lambda ex: logprobs.logprobs_as_requested(ex, 2),
}
