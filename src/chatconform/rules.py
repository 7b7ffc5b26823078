"""The rules catalog: every rule id with its title, severity, requirement and source."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from chatconform.dialects import DIALECTS_DIR, NAMES

# The clients a rule's ``breaks`` may name: those the suite replays its runs through
# (chatconform.clients), each as results.json's ``clients`` names it.
CLIENTS = ("openai-python", "anthropic-python", "openai-node", "vercel-ai")


def catalog_paths() -> list[Path]:
    """Each dialect's rules.toml."""
    return [DIALECTS_DIR / name / "rules.toml" for name in NAMES]


class Severity(StrEnum):
    MUST = "must"
    SHOULD = "should"
    INFO = "info"


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: Severity
    requirement: str
    source: str
    # The runnable clients (CLIENTS) its deviation breaks, as the replay measures them
    # (the self-test checks each claim); ``impact`` says, in words, whom else it hits.
    breaks: tuple[str, ...] = ()
    impact: tuple[str, ...] = ()


@cache
def catalog() -> dict[str, Rule]:
    """All rules, keyed by id, as written in the dialects' rules.toml files."""
    rules = {}
    for path in catalog_paths():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for rule_id, entry in data.items():
            if not rule_id.startswith(f"{path.parent.name}."):
                raise ValueError(f"{path}: rule {rule_id!r} is outside its dialect's namespace")
            rules[rule_id] = Rule(
                id=rule_id,
                title=entry["title"],
                severity=Severity(entry["severity"]),
                requirement=entry["requirement"],
                source=entry["source"],
                breaks=tuple(entry.get("breaks", ())),
                impact=tuple(entry.get("impact", ())),
            )
    return rules


def rule(rule_id: str) -> Rule:
    try:
        return catalog()[rule_id]
    except KeyError:
        raise KeyError(f"rule {rule_id!r} is in no dialect's rules.toml") from None
