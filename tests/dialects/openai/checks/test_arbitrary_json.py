"""No check raises, whatever JSON (or bytes) a provider sends: property tests over every check."""

from __future__ import annotations

import json
from typing import Any

import pytest
from check_helpers import EVERY_CHECK, PLAIN_STREAM_REQUEST, http_exchange, sse_bytes, sse_exchange
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatconform import refusals
from chatconform.dialects.openai.checks import (
    completion,
    embeddings,
    errors,
    load_all,
    logprobs,
    models,
    reasoning,
    streaming,
    structured,
    text,
)
from chatconform.exchange import Exchange
from chatconform.finding import Finding

# Keys the checks look up, so arbitrary objects often have the shape they probe.
KEYS = st.sampled_from(
    [
        "id", "object", "created", "model", "choices", "index", "delta", "message", "role",
        "content", "finish_reason", "usage", "prompt_tokens", "completion_tokens",
        "total_tokens", "error", "type", "code", "param", "data", "text", "embedding",
    ]
)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**12, max_value=10**40)
    | st.floats()  # NaN and Infinity too: Python's json reads them
    | st.text(max_size=6)
    | st.sampled_from(["stop", "length", "assistant", "chat.completion.chunk", "[DONE]", "gpt-4o"])
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(KEYS | st.text(max_size=4), children, max_size=5)
    ),
    max_leaves=16,
)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The well-formed value, or any JSON value in its place."""
    return strategy | JSON


_USAGE = st.fixed_dictionaries(
    {
        "prompt_tokens": _maybe(st.integers(0, 200)),
        "completion_tokens": _maybe(st.integers(0, 50)),
        "total_tokens": _maybe(st.integers(0, 250)),
    }
)
_TOP = {
    "id": _maybe(st.just("chatcmpl-1")),
    "created": _maybe(st.integers(0, 2 * 10**12)),
    "model": _maybe(st.sampled_from(["gpt-4o", "gpt-4o-2024-08-06", "other"])),
    "usage": _maybe(st.none() | _USAGE),
}
_FINISH = _maybe(st.sampled_from([None, "stop", "length", "end_turn"]))
_TEXT = _maybe(st.sampled_from(["", "1", " 2", "1 2", "kiwi", "5"]))
CHUNK = st.fixed_dictionaries(
    {
        **_TOP,
        "object": _maybe(st.just("chat.completion.chunk")),
        "choices": _maybe(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "index": _maybe(st.integers(0, 2)),
                        "delta": _maybe(
                            st.fixed_dictionaries(
                                {},
                                optional={"role": _maybe(st.just("assistant")), "content": _TEXT},
                            )
                        ),
                        "finish_reason": _FINISH,
                    }
                ),
                max_size=3,
            )
        ),
    }
)
RESPONSE = st.fixed_dictionaries(
    {
        **_TOP,
        "object": _maybe(st.just("chat.completion")),
        "choices": _maybe(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "index": _maybe(st.integers(0, 2)),
                        "message": _maybe(
                            st.fixed_dictionaries(
                                {"role": _maybe(st.just("assistant")), "content": _TEXT}
                            )
                        ),
                        "finish_reason": _FINISH,
                    }
                ),
                max_size=3,
            )
        ),
    }
)
ERROR = st.fixed_dictionaries(
    {
        "error": _maybe(
            st.fixed_dictionaries({"message": _TEXT, "type": _TEXT}, optional={"code": JSON})
        )
    }
)
MODELS = st.fixed_dictionaries(
    {
        "object": _maybe(st.just("list")),
        "data": _maybe(st.lists(st.fixed_dictionaries({"id": _TEXT}))),
    }
)
STATUS = st.sampled_from([200, 400, 401, 403, 404, 429, 500])
PROPERTY = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def _run_every_check(exchange: Exchange) -> None:
    for rule_id, run in EVERY_CHECK.items():
        findings = run(exchange)
        assert isinstance(findings, list), rule_id
        assert all(isinstance(f, Finding) and f.rule == rule_id for f in findings), rule_id


def test_every_check_of_the_openai_modules_is_exercised() -> None:
    load_all()
    registered = {
        fn.rule_id
        for module in (
            errors,
            models,
            completion,
            streaming,
            text,
            embeddings,
            structured,
            reasoning,
            logprobs,
        )
        for fn in vars(module).values()
        if callable(fn) and hasattr(fn, "rule_id")
    } | {
        refusals.core_request_not_refused["openai"].rule_id,
        refusals.valid_request_not_server_error["openai"].rule_id,
    }
    assert len(registered) == 66
    assert set(EVERY_CHECK) == registered


@PROPERTY
@given(payloads=st.lists(CHUNK | ERROR | JSON, max_size=6), done=st.booleans())
def test_no_check_raises_on_any_stream_of_json(payloads: list[Any], done: bool) -> None:
    _run_every_check(sse_exchange(sse_bytes(payloads, done=done)))


@PROPERTY
@given(payloads=st.lists(CHUNK, min_size=1, max_size=6))
def test_no_check_raises_on_any_stream_without_usage_requested(payloads: list[Any]) -> None:
    _run_every_check(sse_exchange(sse_bytes(payloads), request=PLAIN_STREAM_REQUEST))


@PROPERTY
@given(raw=st.binary(max_size=300) | st.text(alphabet='data: {}[]"DONE\r\n0', max_size=120))
def test_no_check_raises_on_any_bytes_as_a_stream(raw: bytes | str) -> None:
    _run_every_check(sse_exchange(raw.encode() if isinstance(raw, str) else raw))


@PROPERTY
@given(body=RESPONSE | ERROR | MODELS | JSON, status=STATUS)
def test_no_check_raises_on_any_json_body(body: Any, status: int) -> None:
    _run_every_check(http_exchange(json.dumps(body).encode(), status=status))


@PROPERTY
@given(raw=st.binary(max_size=200), status=STATUS, content_type=st.sampled_from(["", "text/html"]))
def test_no_check_raises_on_any_bytes_as_a_body(raw: bytes, status: int, content_type: str) -> None:
    _run_every_check(http_exchange(raw, status=status, content_type=content_type))


@pytest.mark.parametrize(
    "body",
    [None, 0, -1.5, "", "text", [], {}, [None], {"choices": "none"}, {"choices": [None]}],
    ids=repr,
)
def test_no_check_raises_on_degenerate_bodies(body: Any) -> None:
    _run_every_check(http_exchange(json.dumps(body).encode()))
    _run_every_check(sse_exchange(sse_bytes([body])))


def _nested_content(depth: int) -> tuple[bytes, bytes]:
    """A response and a stream whose content is an array nested ``depth`` deep."""
    nested = "[" * depth + "]" * depth
    message = {"role": "assistant", "content": "@"}
    response = {"object": "chat.completion", "choices": [{"index": 0, "message": message}]}
    chunk = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": message}]}
    body = json.dumps(response).replace('"@"', nested).encode()
    return body, sse_bytes([chunk]).replace(b'"@"', nested.encode())


def test_no_check_raises_on_json_nested_to_any_depth() -> None:
    # Every depth up to past Python's parsing limit: a value parsed just short of the
    # limit once crashed the repr in a schema message a few frames deeper.
    for depth in range(1, 1100, 3):
        body, stream = _nested_content(depth)
        _run_every_check(http_exchange(body))
        _run_every_check(sse_exchange(stream))
