"""Findings: one observed deviation, tied to a rule and to its evidence."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from chatconform.exchange import clip
from chatconform.rules import Severity, rule

SCHEMA_RULE_SUFFIX = "schema"
# A message names what was expected and received; a received value can be anything
# a provider sent (a 10 MB content, say), so it is bounded like the evidence.
MESSAGE_CHARS = 2000


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    title: str
    message: str
    location: str = ""
    evidence: str = ""
    # Index of the exchange (within its case) that shows the deviation.
    exchange: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = str(self.severity)
        return data


def make_finding(
    rule_id: str,
    message: str,
    *,
    location: str = "",
    evidence: str = "",
    exchange: int | None = None,
) -> Finding:
    """A finding for ``rule_id``, with title and severity from the catalog."""
    entry = rule(rule_id)
    return Finding(
        rule=rule_id,
        severity=entry.severity,
        title=entry.title,
        message=clip(message, MESSAGE_CHARS),
        location=location,
        evidence=clip(evidence),
        exchange=exchange,
    )


def deduplicate(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (rule, location); a schema finding yields to a specific one.

    A value that breaks both a specific rule and the schema (``object`` of a
    chunk, say) is reported once, under the rule that names the problem.
    """
    unique: dict[tuple[str, str], Finding] = {}
    for finding in findings:
        unique.setdefault((finding.rule, finding.location), finding)
    specific = {
        f.location
        for f in unique.values()
        if not f.rule.endswith(SCHEMA_RULE_SUFFIX) and f.location
    }
    return [
        f
        for f in unique.values()
        if not (f.rule.endswith(SCHEMA_RULE_SUFFIX) and f.location in specific)
    ]
