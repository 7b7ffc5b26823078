"""Checks: small functions over recorded exchanges, one rule each, in every dialect.

A check is a generator of ``Violation``s registered under its rule id with
``@check``; calling it returns ``Finding``s with the rule's title and severity.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from chatconform.finding import Finding, make_finding
from chatconform.rules import rule

REGISTRY: dict[str, Callable[..., list[Finding]]] = {}


@dataclass(frozen=True)
class Violation:
    """What a check saw: ``message`` in Expected/Received form, where, and the excerpt."""

    message: str
    location: str = ""
    evidence: str = ""


def check(
    rule_id: str,
) -> Callable[[Callable[..., Iterator[Violation]]], Callable[..., list[Finding]]]:
    """Register a check under ``rule_id``, which must be in the catalog."""
    rule(rule_id)

    def decorate(fn: Callable[..., Iterator[Violation]]) -> Callable[..., list[Finding]]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> list[Finding]:
            return [
                make_finding(rule_id, v.message, location=v.location, evidence=v.evidence)
                for v in fn(*args, **kwargs)
            ]

        run.rule_id = rule_id  # type: ignore[attr-defined]
        if rule_id in REGISTRY:
            raise ValueError(f"two checks registered for {rule_id}")
        REGISTRY[rule_id] = run
        return run

    return decorate


def expected(expected: str, received: str) -> str:
    """The house format of a finding's message."""
    return f"Expected: {expected}\nReceived: {received}"


def load_all() -> dict[str, Callable[..., list[Finding]]]:
    """Every dialect's checks, imported so that REGISTRY is complete."""
    from chatconform.dialects.anthropic.checks import load_all as anthropic_checks
    from chatconform.dialects.openai.checks import load_all as openai_checks

    openai_checks()
    anthropic_checks()
    return REGISTRY
