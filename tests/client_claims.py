"""The rules catalog's ``breaks`` claims, checked against a run's client matrix.

A rule's ``breaks`` names the runnable clients its deviation breaks. In a run against a
fault, both directions must hold, for the clients that ran (results.json ``clients``):

- a client a fired rule claims does not work in some case where that rule fired (a
  deviation may break a client only on some answers: tool calls, not text); where the
  client was replayed in none of them (``n/a``), the run tells nothing about the claim;
- a client that does not work in some judged case (pass, non_strict, fail) is claimed
  by a rule fired in the run: one root cause shows in every stream a fault touches,
  while its rule fires in the case that checks it. A case the suite could not judge
  (a stalled stream is inconclusive) has no rule to claim what a client made of it.
"""

from __future__ import annotations

from typing import Any

from chatconform.clients.outcome import FAILING, NOT_APPLICABLE
from chatconform.rules import catalog

JUDGED = frozenset({"pass", "non_strict", "fail"})
# Faults whose client breakage no rule of the catalog can claim yet: the deviation is
# reported under a rule that other faults fire too, without breaking the same clients.
UNCLAIMABLE = {
    # Only the text stream's block-lifecycle case fires; the Vercel AI SDK emits a tool
    # call at its content_block_stop and loses the streamed tool call of the Claude Code
    # case, which only the claude-code.ready summary reports.
    "anthropic-block-stop-missing": {"vercel-ai"},
}


def claim_mismatches(results: dict[str, Any], fault: str = "") -> list[str]:
    """Every disagreement between the fired rules' claims and the matrix, with evidence
    (``fault``: the run's fault, whose ``UNCLAIMABLE`` clients are left out)."""
    rules = catalog()
    clients = results.get("clients", {})
    fired: dict[str, list[str]] = {}
    verdicts = {case["id"]: case["verdict"] for case in results["cases"]}
    for case in results["cases"]:
        for finding in case["findings"]:
            cases = fired.setdefault(finding["rule"], [])
            if case["id"] not in cases:
                cases.append(case["id"])
    problems = []
    for rule_id, case_ids in sorted(fired.items()):
        claimed = rules[rule_id].breaks if rule_id in rules else ()
        for client in claimed:
            outcomes = clients.get(client, {}).get("cases", {})
            replayed = [c for c in case_ids if outcomes.get(c, NOT_APPLICABLE) != NOT_APPLICABLE]
            if replayed and not any(outcomes[c] in FAILING for c in replayed):
                problems.append(
                    f"{rule_id} claims it breaks {client}, which works in every case where "
                    f"it fired: {', '.join(replayed[:3])}"
                )
    claimed_in_run = {
        client for rule_id in fired if rule_id in rules for client in rules[rule_id].breaks
    }
    for client, entry in sorted(clients.items()):
        if client in claimed_in_run or client in UNCLAIMABLE.get(fault, ()):
            continue
        failing = [
            (c, kind)
            for c, kind in entry.get("cases", {}).items()
            if kind in FAILING and verdicts.get(c) in JUDGED
        ]
        if failing:
            case_id, kind = failing[0]
            example = next(
                (e for e in entry.get("examples", []) if e["case"] == case_id), {"detail": ""}
            )
            problems.append(
                f"{client} {kind} in {case_id} ({len(failing)} cases), claimed by no fired rule "
                f"({', '.join(sorted(fired)) or 'none fired'}): {example['detail']}"
            )
    return problems
