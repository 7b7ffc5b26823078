"""Checks of a non-streamed chat.completion: JSON, schema, enums, timestamps, model, usage."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from chatconform.dialects.openai.checks import Violation, check, expected
from chatconform.dialects.openai.stream import choice_entries, parse
from chatconform.exchange import Exchange, clip
from chatconform.schemas import missing_key_at, schema_errors, value_at

SERVICE_TIERS = ("auto", "default", "flex", "scale", "priority", "fast")
FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter", "function_call")
# created must fall between ten years ago and a day from now, in seconds.
_CREATED_PAST_S = 10 * 365 * 86400
_CREATED_FUTURE_S = 86400
# Suffixes that name a snapshot or alias of the same model, stripped repeatedly.
_VARIANT_SUFFIX = re.compile(
    r"(-\d{4}-\d{2}-\d{2}|-\d{8}|-\d{4}|-latest|-preview|:latest|@[\w.-]+|-v\d+(:\d+)?)$"
)
# Keys the spec requires with a nullable value, that compatible servers leave out
# (llama.cpp, Ollama, translation layers): every official SDK defaults them to None.
_NULL_REQUIRED = re.compile(r"/choices/\d+/(logprobs|message/refusal)")
# Optional fields the spec types without null, that compatible servers send as null
# (LiteLLM and relays that serialise pydantic models with their None fields; vLLM's
# usage details; OpenAI itself for system_fingerprint at times): the official SDKs
# and the Vercel AI SDK read null as absent. /usage is openai.usage.present's.
_NULL_OPTIONAL = re.compile(
    r"/system_fingerprint"
    r"|/choices/\d+/message/(tool_calls|function_call|annotations)"
    r"|/choices/\d+/delta/(role|tool_calls|function_call)"
    r"|/choices/\d+/delta/tool_calls/\d+/(id|type|function/name|function/arguments)"
    r"|/choices/\d+/delta/function_call/(name|arguments)"
    r"|/usage/(completion|prompt)_tokens_details(/[^/]+)?"
)


def body(exchange: Exchange) -> Any:
    """The response object: the parsed body, or for a stream its first chunk."""
    if exchange.streamed:
        chunks = parse(exchange).chunks
        return chunks[0][1] if chunks else None
    return exchange.json_or_none()


def _at(exchange: Exchange, pointer: str) -> str:
    """A pointer into the response, or into the first chunk's event for a stream."""
    if exchange.streamed:
        chunks = parse(exchange).chunks
        return f"/events/{chunks[0][0]}{pointer}" if chunks else pointer
    return pointer


@check("openai.completion.not-json")
def response_is_json(exchange: Exchange) -> Iterator[Violation]:
    """A successful response is a JSON object (chat object reference)."""
    try:
        payload = exchange.json()
    except ValueError:
        yield Violation(
            expected(
                "a JSON chat.completion object (application/json)",
                f"{exchange.content_type or 'no content type'}: "
                f"{clip(exchange.body.decode('utf-8', 'replace'), 120)!r}",
            ),
            evidence=exchange.excerpt(),
        )
        return
    if not isinstance(payload, dict):
        yield Violation(
            expected("a JSON object", f"a JSON {type(payload).__name__}"),
            evidence=exchange.excerpt(),
        )


@check("openai.completion.schema")
def response_matches_schema(exchange: Exchange) -> Iterator[Violation]:
    """The response validates against schemas/openai/chat_response (CreateChatCompletionResponse)."""
    payload = body(exchange)
    if not isinstance(payload, dict):
        return
    for pointer, message in schema_errors("openai", "chat_response", payload):
        yield Violation(
            expected("a chat.completion valid against the official schema", message),
            location=pointer,
            evidence=exchange.excerpt(),
        )


@check("openai.completion.finish-reason")
def finish_reason_in_enum(exchange: Exchange) -> Iterator[Violation]:
    """finish_reason is one of the official values (CreateChatCompletionResponse)."""
    for i, choice in choice_entries(body(exchange)):
        reason = choice.get("finish_reason")
        if reason not in FINISH_REASONS:
            yield Violation(
                expected(f"finish_reason one of {', '.join(FINISH_REASONS)}", repr(reason)),
                location=f"/choices/{i}/finish_reason",
                evidence=exchange.excerpt(),
            )


def created_violation(created: Any, now: float | None = None) -> str | None:
    """Why ``created`` is not a Unix time in seconds, or None when it is."""
    now = time.time() if now is None else now
    if not isinstance(created, int) or isinstance(created, bool):
        return f"{created!r} (not an integer)"
    if _near(created, now):
        return None
    # Integer division: a huge value must not overflow a float (or gmtime).
    if _near(created // 1000, now):
        return (
            f"{created} (milliseconds: {time.strftime('%Y-%m-%d', time.gmtime(created // 1000))})"
        )
    return f"{created} (not within ten years of now)"


def _near(seconds: int, now: float) -> bool:
    return now - _CREATED_PAST_S <= seconds <= now + _CREATED_FUTURE_S


@check("openai.completion.created-unit")
def created_in_seconds(exchange: Exchange) -> Iterator[Violation]:
    """created is the Unix timestamp in seconds (chat object reference)."""
    payload = body(exchange)
    if isinstance(payload, dict):
        problem = created_violation(payload.get("created"), exchange.sent_at)
        if problem:
            yield Violation(
                expected("a Unix timestamp in seconds, near now", problem),
                location=_at(exchange, "/created"),
                evidence=exchange.excerpt(),
            )


def model_family(name: str) -> str:
    """A model id without vendor prefix and snapshot suffixes: gpt-4o-2024-08-06 -> gpt-4o."""
    name = name.strip().lower().rsplit("/", 1)[-1]
    while True:
        shorter = _VARIANT_SUFFIX.sub("", name)
        if shorter == name or not shorter:
            return name
        name = shorter


def same_model(requested: str, served: str) -> bool:
    return model_family(requested) == model_family(served)


@check("openai.completion.model-mismatch")
def model_matches_request(exchange: Exchange) -> Iterator[Violation]:
    """model names the requested model or a dated snapshot of it (chat object reference)."""
    request = exchange.request.json() or {}
    requested = request.get("model")
    payload = body(exchange)
    if not isinstance(payload, dict) or not isinstance(requested, str):
        return
    served = payload.get("model")
    if not isinstance(served, str) or not same_model(requested, served):
        yield Violation(
            expected(f"model {requested!r} or a snapshot of it", repr(served)),
            location=_at(exchange, "/model"),
            evidence=exchange.excerpt(),
        )


@check("openai.completion.null-field-absent")
def null_fields_present(exchange: Exchange) -> Iterator[Violation]:
    """choices[].logprobs and message.refusal are present, null when empty (CreateChatCompletionResponse).

    Reported at the pointer of the missing key, where the response schema reports
    it, so this should finding takes that place.
    """
    payload = None if exchange.streamed else exchange.json_or_none()
    if not isinstance(payload, dict):
        return
    for pointer, message in schema_errors("openai", "chat_response", payload):
        if missing_key_at(pointer, message, _NULL_REQUIRED):
            field = pointer.rsplit("/", 1)[-1]
            yield Violation(
                expected(f"{field}: null (the key is required; its value may be null)", message),
                location=pointer,
                evidence=exchange.excerpt(),
            )


def _null_optional(instance: object, pointer: str) -> bool:
    """Whether a schema error at ``pointer`` is an optional field sent as null."""
    if _NULL_OPTIONAL.fullmatch(pointer) is None:
        return False
    try:
        return value_at(instance, pointer) is None
    except KeyError:
        return False


@check("openai.completion.optional-field-null")
def optional_fields_not_null(exchange: Exchange) -> Iterator[Violation]:
    """Optional fields the spec types without null are omitted, not null (chat object and chunk).

    Reported at the pointers where the schema reports them (for a stream, in the
    first event showing each), so this should finding takes those places.
    """
    if exchange.streamed:
        name, documents = "chat_chunk", parse(exchange).chunks
    else:
        name, documents = "chat_response", [(None, exchange.json_or_none())]
    first: dict[str, int | None] = {}
    for i, document in documents:
        if not isinstance(document, dict):
            continue
        for pointer, _ in schema_errors("openai", name, document):
            if pointer not in first and _null_optional(document, pointer):
                first[pointer] = i
    for pointer, i in first.items():
        if i is None:
            where, evidence = pointer, exchange.excerpt()
        else:
            where, evidence = (
                f"/events/{i}{pointer}",
                f"[{i}] data: {clip(exchange.events[i].data, 600)}",
            )
        yield Violation(
            expected(f"{pointer.lstrip('/')} omitted when it has no value", "null"),
            location=where,
            evidence=evidence,
        )


@check("openai.completion.service-tier")
def service_tier_official(exchange: Exchange) -> Iterator[Violation]:
    """service_tier is an official tier or null (ServiceTier); vendors add their own.

    Reported where the schema reports it (for a stream, the first event with that
    value), so this should finding takes that place.
    """
    documents = parse(exchange).chunks if exchange.streamed else [(None, exchange.json_or_none())]
    seen: set[str] = set()
    for i, document in documents:
        tier = document.get("service_tier") if isinstance(document, dict) else None
        if not isinstance(tier, str) or tier in SERVICE_TIERS or tier in seen:
            continue
        seen.add(tier)
        where = "/service_tier" if i is None else f"/events/{i}/service_tier"
        yield Violation(
            expected(f"service_tier one of {', '.join(SERVICE_TIERS)}, or null", repr(tier)),
            location=where,
            evidence=exchange.excerpt(),
        )


@check("openai.usage.present")
def usage_present(exchange: Exchange) -> Iterator[Violation]:
    """A non-streamed response carries usage (chat object reference)."""
    payload = body(exchange)
    if isinstance(payload, dict) and not isinstance(payload.get("usage"), dict):
        yield Violation(
            expected("a usage object", repr(payload.get("usage", "no usage key"))),
            location="/usage",
            evidence=exchange.excerpt(),
        )


def _counts(usage: Any) -> tuple[int, int, int] | None:
    if not isinstance(usage, dict):
        return None
    values = [usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens")]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return values[0], values[1], values[2]
    return None


@check("openai.usage.consistent")
def usage_total_consistent(usage: Any, *, location: str = "/usage") -> Iterator[Violation]:
    """total_tokens = prompt_tokens + completion_tokens (CompletionUsage)."""
    counts = _counts(usage)
    if counts and counts[2] != counts[0] + counts[1]:
        prompt, completion, total = counts
        yield Violation(
            expected(f"total_tokens {prompt} + {completion} = {prompt + completion}", str(total)),
            location=f"{location}/total_tokens",
            evidence=str(usage),
        )


def prompt_chars(request: dict[str, Any]) -> tuple[int, int]:
    """(characters of text, number of messages) in a request's messages."""
    chars = 0
    messages = request.get("messages") or []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            chars += sum(len(p.get("text", "")) for p in content if isinstance(p, dict))
    return chars, len(messages)


@check("openai.usage.plausible")
def usage_plausible(
    usage: Any, request: dict[str, Any], answer: str, *, location: str = "/usage"
) -> Iterator[Violation]:
    """prompt_tokens/completion_tokens count the prompt's and the answer's tokens (CompletionUsage).

    Any tokenizer spends at least one token per ~10 characters of English and
    at most about one per character; a relay that adds a hidden system prompt
    shows up as far more prompt tokens than the prompt has.
    """
    counts = _counts(usage)
    if counts is None:
        return
    prompt, completion, _ = counts
    chars, messages = prompt_chars(request)
    low, high = max(1, chars // 10), chars + 64 + 16 * messages
    if not low <= prompt <= high:
        yield Violation(
            expected(f"prompt_tokens between {low} and {high} for {chars} characters", str(prompt)),
            location=f"{location}/prompt_tokens",
            evidence=str(usage),
        )
    if answer.strip() and completion < 1:
        yield Violation(
            expected(
                f"completion_tokens >= 1 for a {len(answer)}-character answer", str(completion)
            ),
            location=f"{location}/completion_tokens",
            evidence=str(usage),
        )
