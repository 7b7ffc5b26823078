"""junit.xml from verdicts: every verdict maps to what CI shows, counts agree, text is safe."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from chatconform.junit import JUNIT_FILE, junit_xml, write_junit

HOSTILE = 'ab\x00\x1b[31m<script>"&]]></script>\ud800'


def finding(rule: str, severity: str, message: str = "Expected: 1\nReceived: 2") -> dict[str, Any]:
    return {
        "rule": rule,
        "severity": severity,
        "title": f"Title of {rule}",
        "message": message,
        "location": "/choices/0",
        "evidence": "",
        "exchange": 0,
    }


def entry(
    name: str, verdict: str, reason: str = "", findings: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A results.json case entry, shaped like CaseRecord.result."""
    return {
        "id": f"openai/text/{name}",
        "capability": "text",
        "dialect": "openai",
        "title": "t",
        "requirement": "The requirement.",
        "source": "s",
        "verdict": verdict,
        "reason": reason,
        "optional": None,
        "findings": findings or [],
        "attempts": 1,
        "notes": [],
        "duration_s": 0.25,
        "usage": {"requests": 1, "prompt_tokens": 0, "completion_tokens": 0},
        "exchanges": [],
    }


def results(cases: list[dict[str, Any]], complete: bool = True) -> dict[str, Any]:
    return {
        "provider": {
            "name": "acme",
            "dialects": {"openai": {"base_url": "https://h/v1", "auth": "bearer", "models": {}}},
        },
        "started_at": "2026-01-01T00:00:00Z",
        "duration_s": 3.5,
        "complete": complete,
        "cases": cases,
    }


CASES = [
    entry("clean", "pass"),
    entry(
        "tolerated",
        "non_strict",
        findings=[
            finding("openai.completion.created-unit", "should"),
            finding("openai.completion.extension", "info"),
        ],
    ),
    entry(
        "broken",
        "fail",
        findings=[
            finding("openai.auth.not-enforced", "must", "Expected: 401\nReceived: 200"),
            finding("openai.stream.done-sentinel", "must"),
            finding("openai.completion.created-unit", "should"),
        ],
    ),
    entry("crashes", "error", "harness error: KeyError: 'x'"),
    entry("limited", "inconclusive", "rate limited: HTTP 429 after 3 attempts"),
    entry("refused", "unsupported", "refused with HTTP 400: n is not supported"),
    entry("not-configured", "skipped", "no model configured for vision"),
]


def parse(document: dict[str, Any]) -> ET.Element:
    return ET.fromstring(junit_xml(document))


def cases_by_name(root: ET.Element) -> dict[str, ET.Element]:
    return {tc.get("name", ""): tc for tc in root.iter("testcase")}


def properties(testcase: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in testcase.iter("property")}


def test_every_verdict_maps_to_its_junit_outcome() -> None:
    cases = cases_by_name(parse(results(CASES)))
    assert len(cases) == len(CASES)
    for name, tc in cases.items():
        assert tc.get("classname") == "openai.text"
        assert properties(tc)["chatconform.case_id"] == name
        assert tc.get("time") == "0.250"
    outcome = {
        name: [child.tag for child in tc if child.tag != "properties"] for name, tc in cases.items()
    }
    assert outcome == {
        "openai/text/clean": [],
        "openai/text/tolerated": [],
        "openai/text/broken": ["failure"],
        "openai/text/crashes": ["error"],
        "openai/text/limited": ["skipped"],
        "openai/text/refused": ["skipped"],
        "openai/text/not-configured": ["skipped"],
    }
    verdicts = {name: properties(tc)["chatconform.verdict"] for name, tc in cases.items()}
    assert verdicts == {c["id"]: c["verdict"] for c in CASES}


def test_a_failure_names_its_must_rules_and_shows_expected_and_received() -> None:
    broken = cases_by_name(parse(results(CASES)))["openai/text/broken"]
    failure = broken.find("failure")
    assert failure is not None
    assert failure.get("message") == (
        "openai.auth.not-enforced: Title of openai.auth.not-enforced; "
        "openai.stream.done-sentinel: Title of openai.stream.done-sentinel"
    )
    text = failure.text or ""
    assert "[must] openai.auth.not-enforced: Title of openai.auth.not-enforced" in text
    assert "    Expected: 401\n    Received: 200" in text
    assert "[should] openai.completion.created-unit" in text
    rules = properties(broken)["chatconform.rules"]
    assert (
        rules
        == "openai.auth.not-enforced,openai.completion.created-unit,openai.stream.done-sentinel"
    )


def test_non_strict_passes_naming_its_should_rules_and_pass_names_none() -> None:
    cases = cases_by_name(parse(results(CASES)))
    assert properties(cases["openai/text/tolerated"])["chatconform.rules"] == (
        "openai.completion.created-unit"
    )
    assert "chatconform.rules" not in properties(cases["openai/text/clean"])


def test_error_and_skips_carry_their_reason_after_the_verdict() -> None:
    cases = cases_by_name(parse(results(CASES)))
    error = cases["openai/text/crashes"].find("error")
    assert error is not None and error.get("message") == "harness error: KeyError: 'x'"
    skips = {
        name: cases[name].find("skipped")
        for name in ("openai/text/limited", "openai/text/refused", "openai/text/not-configured")
    }
    messages = {name: skip.get("message") for name, skip in skips.items() if skip is not None}
    assert messages == {
        "openai/text/limited": "inconclusive: rate limited: HTTP 429 after 3 attempts",
        "openai/text/refused": "unsupported: refused with HTTP 400: n is not supported",
        "openai/text/not-configured": "skipped: no model configured for vision",
    }


def test_suite_counts_agree_with_the_testcases() -> None:
    root = parse(results(CASES, complete=False))
    suite = root.find("testsuite")
    assert suite is not None
    for element in (root, suite):
        assert (
            element.get("tests"),
            element.get("failures"),
            element.get("errors"),
            element.get("skipped"),
        ) == ("7", "1", "1", "3")
    assert properties(suite)["chatconform.complete"] == "false"
    assert properties(suite)["chatconform.provider"] == "acme"


def test_an_all_inconclusive_run_is_all_skipped() -> None:
    cases = [entry(f"c{i}", "inconclusive", "stalled: no data for 1.5 s") for i in range(3)]
    suite = parse(results(cases)).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "0", "3")


def test_provider_text_cannot_break_the_xml(tmp_path: Path) -> None:
    hostile = entry(
        "hostile",
        "fail",
        HOSTILE,
        [finding("openai.auth.not-enforced", "must", f"Expected: x\nReceived: {HOSTILE}")],
    )
    path = write_junit(tmp_path, results([hostile, entry("skip", "inconclusive", HOSTILE)]))
    assert path == tmp_path / JUNIT_FILE
    root = ET.parse(path).getroot()  # well-formed despite NUL, ESC and a lone surrogate
    failure = root.find(".//failure")
    assert failure is not None
    text = failure.text or ""
    assert '<script>"&]]></script>' in text
    assert "\\u0000" in text and "\\u001b" in text and "\\ud800" in text
    skipped = root.find(".//skipped")
    assert skipped is not None
    assert skipped.get("message", "").startswith("inconclusive: ab\\u0000\\u001b[31m<script>")
