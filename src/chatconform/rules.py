"""The rules catalog: every rule id with its title, severity, requirement and source."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

CATALOG_PATH = Path(__file__).with_name("rules.toml")


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
    breaks: tuple[str, ...] = ()


@cache
def catalog() -> dict[str, Rule]:
    """All rules, keyed by id, as written in rules.toml."""
    data = tomllib.loads(CATALOG_PATH.read_text(encoding="utf-8"))
    rules = {}
    for rule_id, entry in data.items():
        rules[rule_id] = Rule(
            id=rule_id,
            title=entry["title"],
            severity=Severity(entry["severity"]),
            requirement=entry["requirement"],
            source=entry["source"],
            breaks=tuple(entry.get("breaks", ())),
        )
    return rules


def rule(rule_id: str) -> Rule:
    try:
        return catalog()[rule_id]
    except KeyError:
        raise KeyError(f"rule {rule_id!r} is not in {CATALOG_PATH.name}") from None
