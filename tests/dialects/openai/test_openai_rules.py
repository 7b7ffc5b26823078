"""The OpenAI rules catalog against the registered checks (the Anthropic side's twin is in
tests/dialects/anthropic/test_anthropic_message_checks.py)."""

from __future__ import annotations

from chatconform.dialects.openai.checks import load_all
from chatconform.rules import catalog


def test_every_openai_rule_is_catalogued_and_has_a_check() -> None:
    catalogued = {r for r in catalog() if r.startswith("openai.")}
    registered = {r for r in load_all() if r.startswith("openai.")}
    assert catalogued == registered
    for rule_id in catalogued:
        entry = catalog()[rule_id]
        assert entry.title and entry.requirement and entry.source, rule_id
        # Whom a deviation hits: measured clients (breaks), or in words (impact).
        assert entry.breaks or entry.impact, rule_id
