"""Probe prompts, loaded from fixtures/prompts.toml (cases as data)."""

from __future__ import annotations

import copy
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

    def body(self, model: str, **params: Any) -> dict[str, Any]:
        """A request body for this prompt (a fresh copy: cases may change it)."""
        return {"model": model, "messages": copy.deepcopy(list(self.messages)), **params}


@cache
def prompts() -> dict[str, Prompt]:
    data = tomllib.loads((FIXTURES_DIR / "prompts.toml").read_text(encoding="utf-8"))
    return {
        name: Prompt(name, tuple(entry["messages"]), tuple(entry["accept"]))
        for name, entry in data.items()
    }


def prompt(name: str) -> Prompt:
    return prompts()[name]
