"""Probe prompts, loaded from fixtures/prompts.toml (cases as data): chat messages,
which each dialect encodes into its requests (dialects/<name>/requests.py)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from typing import Any

from chatconform.paths import FIXTURES_DIR


@dataclass(frozen=True)
class Prompt:
    name: str
    messages: tuple[dict[str, Any], ...]
    accept: tuple[str, ...]
    # The plain version of a semantic probe: the same question without the feature
    # under test, answered the same way by any model that can answer at all.
    control: Prompt | None = None


@cache
def prompts() -> dict[str, Prompt]:
    data = tomllib.loads((FIXTURES_DIR / "prompts.toml").read_text(encoding="utf-8"))
    return {name: _prompt(name, entry) for name, entry in data.items()}


def _prompt(name: str, entry: dict[str, Any]) -> Prompt:
    accept = tuple(entry["accept"])
    return Prompt(name, tuple(entry["messages"]), accept, control_of(name, entry, accept))


def control_of(name: str, entry: dict[str, Any], accept: tuple[str, ...]) -> Prompt | None:
    """The ``control`` table of a probe (prompts.toml, tools/probes.toml) as a Prompt."""
    plain = entry.get("control")
    if plain is None:
        return None
    return Prompt(f"{name}.control", tuple(plain["messages"]), accept)


def prompt(name: str) -> Prompt:
    return prompts()[name]
