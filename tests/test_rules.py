"""The rules catalog: every rule has a check and says whom it hits; what each rule claims it
breaks is a client the suite can run."""

from __future__ import annotations

import pytest

from chatconform.dialects.anthropic.checks import load_all as anthropic_checks
from chatconform.dialects.openai.checks import load_all as openai_checks
from chatconform.rules import CLIENTS, catalog


@pytest.mark.parametrize(
    ("dialect", "registered"), [("openai", openai_checks), ("anthropic", anthropic_checks)]
)
def test_every_rule_is_catalogued_and_has_a_check(dialect: str, registered) -> None:
    catalogued = {r for r in catalog() if r.startswith(f"{dialect}.")}
    assert catalogued == {r for r in registered() if r.startswith(f"{dialect}.")}
    for rule_id in catalogued:
        entry = catalog()[rule_id]
        assert entry.title and entry.requirement and entry.source, rule_id
        # Whom a deviation hits: measured clients (breaks), or in words (impact).
        assert entry.breaks or entry.impact, rule_id


def test_breaks_names_only_clients_the_replay_runs() -> None:
    unknown = {
        rule.id: [c for c in rule.breaks if c not in CLIENTS]
        for rule in catalog().values()
        if any(c not in CLIENTS for c in rule.breaks)
    }
    assert unknown == {}, "breaks lists client ids; say whom else a deviation hits in impact"


def test_impact_is_said_in_words() -> None:
    assert all(
        isinstance(line, str) and line.strip()
        for rule in catalog().values()
        for line in rule.impact
    )
