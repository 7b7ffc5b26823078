"""Helpers for the Anthropic fault tests: observing a reference app's Messages API both ways."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reference_helpers import Api
from test_messages import Messages, anthropic_tools, sse_events, streamed_message, text_of

from chatconform.tool_probes import tool_probe

# fault -> (what is observed, its value from the faithful reference, its value under the fault)
Effects = dict[str, tuple[Callable[[Api], Any], Any, Any]]


def observed(observe: Callable[[Messages], Any]) -> Callable[[Api], Any]:
    """An observation of the Messages API of a reference app, as test_faults.py's cases take."""
    return lambda api: observe(Messages(api))


def kinds(api: Messages, **params: Any) -> list[str]:
    return [data["type"] for _, data in api.events(**params)]


def both(
    api: Messages, messages: list[dict[str, Any]] | None = None, **params: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The message of a request, non-streamed and streamed (accumulated as an SDK does)."""
    return api.message(messages, **params), streamed_message(api.events(messages, **params))


def texts(api: Messages, messages: list[dict[str, Any]] | None = None, **params: Any) -> list[str]:
    """The answer's text, non-streamed and streamed."""
    return [text_of(message) for message in both(api, messages, **params)]


def probe_params(probe: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A tool probe's messages, and its tools as the request's parameter."""
    return list(tool_probe(probe).messages), {"tools": anthropic_tools(probe)}


def raw_stream(api: Messages, **params: Any) -> str:
    """The body of a stream as it came, unparsed."""
    response = api.create(stream=True, **params)
    assert response.status_code == 200, response.text
    return response.text


def stream_of(api: Messages, **params: Any) -> list[tuple[str | None, dict]]:
    """The events of a stream, whatever its status and Content-Type."""
    return sse_events(api.create(stream=True, **params).text)
