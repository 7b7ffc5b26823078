"""How neutral fixtures become Chat Completions requests: prompts and function tools.

The fixtures' messages are chat messages already (roles and string or text-part
content), and fixtures/tools holds function tools; here they become request bodies,
fresh copies each time, since cases change them.
"""

from __future__ import annotations

import copy
from typing import Any

from chatconform.prompts import Prompt
from chatconform.tool_probes import ToolProbe, tool


def chat_body(prompt: Prompt, model: str, **params: Any) -> dict[str, Any]:
    """A request body asking ``prompt``."""
    return {"model": model, "messages": copy.deepcopy(list(prompt.messages)), **params}


def with_token_param(body: dict[str, Any], token_param: str) -> dict[str, Any]:
    """The body with its cap under ``token_param``: a provider whose models take only
    max_completion_tokens (the o-series refuse max_tokens) gets the cap there, in place."""
    if token_param == "max_tokens" or "max_tokens" not in body or token_param in body:
        return body
    return {(token_param if key == "max_tokens" else key): value for key, value in body.items()}


def function_tools(probe: ToolProbe, *, strict: bool = False) -> list[dict[str, Any]]:
    """A probe's tool definitions; ``strict`` marks each function strict."""
    definitions = [copy.deepcopy(tool(name)) for name in probe.tools]
    if strict:
        for definition in definitions:
            definition["function"]["strict"] = True
    return definitions


def tool_chat_body(
    probe: ToolProbe, model: str, *, strict: bool = False, **params: Any
) -> dict[str, Any]:
    """A request body asking a tool probe's question with its tools."""
    return {
        "model": model,
        "messages": copy.deepcopy(list(probe.messages)),
        "tools": function_tools(probe, strict=strict),
        **params,
    }
