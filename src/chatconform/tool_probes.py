"""Tool-calling probes and tool definitions, loaded from fixtures/tools/ (cases as data).

The definitions are written as function tools ({"type": "function", "function":
{name, description, parameters}}); each dialect encodes them (dialects/<name>/requests.py)."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from functools import cache
from typing import Any

from chatconform.judgements import ExpectedCall
from chatconform.paths import FIXTURES_DIR
from chatconform.prompts import Prompt, control_of

TOOLS_DIR = FIXTURES_DIR / "tools"


@cache
def tool(name: str) -> dict[str, Any]:
    """The definition in fixtures/tools/<name>.json, as sent in ``tools``."""
    return json.loads((TOOLS_DIR / f"{name}.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ToolProbe:
    name: str
    tools: tuple[str, ...]
    messages: tuple[dict[str, Any], ...]
    expect: tuple[ExpectedCall, ...] = ()
    accept: tuple[str, ...] = ()
    # The tool result sent back in a round trip.
    result: dict[str, Any] | None = None
    # The plain version: the tool result given as text, no tools (see prompts.toml).
    control: Prompt | None = None


@cache
def tool_probes() -> dict[str, ToolProbe]:
    data = tomllib.loads((TOOLS_DIR / "probes.toml").read_text(encoding="utf-8"))
    return {
        name: ToolProbe(
            name=name,
            tools=tuple(entry["tools"]),
            messages=tuple(entry["messages"]),
            expect=tuple(
                ExpectedCall(e["name"], dict(e.get("arguments", {})))
                for e in entry.get("expect", ())
            ),
            accept=tuple(entry.get("accept", ())),
            result=entry.get("result"),
            control=control_of(name, entry, tuple(entry.get("accept", ()))),
        )
        for name, entry in data.items()
    }


def tool_probe(name: str) -> ToolProbe:
    return tool_probes()[name]
