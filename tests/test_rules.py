"""The rules catalog: what each rule claims it breaks is a client the suite can run."""

from __future__ import annotations

from chatconform.rules import CLIENTS, catalog


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
