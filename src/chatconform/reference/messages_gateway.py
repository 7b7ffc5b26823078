"""What a gateway in front of the model makes of a Messages request before the model runs.

Under the catalog's request faults it lets through what the API refuses (a
missing max_tokens), refuses what the API takes (cache_control, as an older
request schema does), or crashes on valid requests (top_k, an image inside a
tool_result). The faithful gateway does none of these.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chatconform.reference.errors import ApiError, server_error
from chatconform.reference.faults import FaultSet

# What anthropic-validation-lax fills in for a missing max_tokens.
DEFAULT_MAX_TOKENS = 1024


def lenient(raw: Any, faults: FaultSet, *, counting: bool) -> Any:
    """The parsed body as validation sees it: with max_tokens filled in under
    anthropic-validation-lax."""
    lax = "anthropic-validation-lax" in faults and not counting
    if lax and isinstance(raw, dict) and "max_tokens" not in raw:
        return {**raw, "max_tokens": DEFAULT_MAX_TOKENS}
    return raw


def _blocks(content: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each content block (those inside tool results included) with its path."""
    if not isinstance(content, list):
        return
    for position, block in enumerate(content):
        where = f"{path}.{position}"
        yield where, block
        if block.get("type") == "tool_result":
            yield from _blocks(block.get("content"), f"{where}.content")


def _cache_control_paths(body: dict[str, Any]) -> Iterator[str]:
    if "cache_control" in body:
        yield "cache_control"
    for path, block in _blocks(body.get("system"), "system"):
        if "cache_control" in block:
            yield f"{path}.cache_control"
    for index, message in enumerate(body["messages"]):
        for path, block in _blocks(message["content"], f"messages.{index}.content"):
            if "cache_control" in block:
                yield f"{path}.cache_control"
    for position, tool in enumerate(body.get("tools") or []):
        if "cache_control" in tool:
            yield f"tools.{position}.cache_control"


def _tool_result_image(body: dict[str, Any]) -> bool:
    results = [
        block
        for message in body["messages"]
        if isinstance(message["content"], list)
        for block in message["content"]
        if block["type"] == "tool_result"
    ]
    return any(
        part["type"] == "image"
        for result in results
        if isinstance(result.get("content"), list)
        for part in result["content"]
    )


def gateway_check(body: dict[str, Any], faults: FaultSet) -> None:
    """Refuse or crash on a validated request as the faulty gateway does; the faithful one
    lets every valid request through."""
    if "anthropic-cache-control-rejected" in faults:
        for path in _cache_control_paths(body):
            raise ApiError(400, f"{path}: Extra inputs are not permitted")
    if "anthropic-top-k-crash" in faults and "top_k" in body:
        raise server_error()
    if "anthropic-tool-result-image-crash" in faults and _tool_result_image(body):
        raise server_error()
