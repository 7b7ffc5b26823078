"""The pytest plugin: verdicts become pytest outcomes, results.json, junit.xml, the report
and the wire archive, also under xdist."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chatconform import archive
from chatconform.config import single
from chatconform.html_page import case_anchor

pytest_plugins = ["pytester"]

CASES = """
import pytest
from chatconform.case import case
from chatconform.finding import make_finding


@case("openai/text/clean", title="t", requirement="r", source="s")
def test_clean(case):
    pass


@case("openai/text/broken", title="t", requirement="r", source="s")
def test_broken(case):
    case.add([make_finding("openai.auth.not-enforced", "Expected: 401\\nReceived: 200")])


@case("openai/text/tolerated", title="t", requirement="r", source="s")
def test_tolerated(case):
    case.add([make_finding("openai.completion.created-unit", "Expected: s\\nReceived: ms")])


@case("openai/streaming/refused", title="t", requirement="r", source="s")
def test_refused(case):
    case.unsupported("refused with HTTP 400: streaming is not supported")


@case("openai/streaming/limited", title="t", requirement="r", source="s")
def test_limited(case):
    case.inconclusive("rate limited: HTTP 429 after 3 attempts")


@case("openai/models/crashes", title="t", requirement="r", source="s")
def test_crashes(case):
    raise KeyError("a bug in a check")


@case("openai/models/not-configured", title="t", requirement="r", source="s")
def test_not_configured(case):
    case.skip("no model configured for vision")


@case("openai/errors/param", title="t", requirement="r", source="s")
@pytest.mark.parametrize("variant", ["a", "b"])
def test_param(case, variant):
    pass
"""


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict]:
    provider = pytester.path / "provider.json"
    provider.write_text(single("p", "http://127.0.0.1:9/v1", api_key_env="K").to_json())
    pytester.makepyfile(test_cases=CASES)
    out = pytester.path / "out"
    result = pytester.runpytest_subprocess(
        f"--cc-provider={provider}", f"--cc-report-dir={out}", "-p", "no:cacheprovider", *args
    )
    return result, json.loads((out / "results.json").read_text())


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["in-process", "xdist"])
def test_verdicts_drive_outcomes_and_results(pytester: pytest.Pytester, workers: list[str]) -> None:
    result, results = run(pytester, "-rs", *workers)
    verdicts = {c["id"]: c["verdict"] for c in results["cases"]}
    assert verdicts == {
        "openai/text/clean": "pass",
        "openai/text/broken": "fail",
        "openai/text/tolerated": "non_strict",
        "openai/streaming/refused": "unsupported",
        "openai/streaming/limited": "inconclusive",
        "openai/models/crashes": "error",
        "openai/models/not-configured": "skipped",
        "openai/errors/param[a]": "pass",
        "openai/errors/param[b]": "pass",
    }
    # Each worker's part of the wire archive is joined into one, every case in it.
    recorded = archive.load(pytester.path / "out" / archive.ARCHIVE_FILE)
    assert sorted(recorded.cases) == sorted(verdicts)
    outcomes = result.parseoutcomes()
    # Only judged cases pass; error fails; what could not be judged is skipped.
    assert outcomes["failed"] == 2 and outcomes["skipped"] == 3 and outcomes["passed"] == 4
    assert result.ret == 1
    result.stdout.fnmatch_lines_random(
        [
            "SKIPPED*inconclusive: rate limited: HTTP 429 after 3 attempts",
            "SKIPPED*unsupported: refused with HTTP 400: streaming is not supported",
            "SKIPPED*skipped: no model configured for vision",
        ]
    )
    summary = results["summary"]
    assert summary["capabilities"]["openai/text"] == "fail"
    assert summary["capabilities"]["openai/streaming"] == "inconclusive"
    assert summary["capabilities"]["openai/models"] == "error"
    assert summary["capabilities"]["openai/vision"] == "not_measured"
    broken = next(c for c in results["cases"] if c["id"] == "openai/text/broken")
    assert broken["findings"][0]["rule"] == "openai.auth.not-enforced"
    assert broken["findings"][0]["severity"] == "must"
    refused = next(c for c in results["cases"] if c["id"] == "openai/streaming/refused")
    assert refused["reason"] == "refused with HTTP 400: streaming is not supported"


def test_junit_is_written_from_verdicts_beside_results(pytester: pytest.Pytester) -> None:
    _, results = run(pytester)
    root = ET.parse(pytester.path / "out" / "junit.xml").getroot()
    verdicts = {
        tc.get("name"): {p.get("name"): p.get("value") for p in tc.iter("property")}[
            "chatconform.verdict"
        ]
        for tc in root.iter("testcase")
    }
    assert verdicts == {c["id"]: c["verdict"] for c in results["cases"]}
    counts = {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": "9", "failures": "1", "errors": "1", "skipped": "3"}


def test_a_run_that_judged_nothing_does_not_fail_pytest(pytester: pytest.Pytester) -> None:
    result, results = run(pytester, "-k", "limited")
    assert [c["verdict"] for c in results["cases"]] == ["inconclusive"]
    assert result.parseoutcomes() == {"skipped": 1, "deselected": 8}
    assert result.ret == 0


def test_the_run_writes_its_report_and_its_wire_archive(pytester: pytest.Pytester) -> None:
    _, results = run(pytester)
    out = pytester.path / "out"
    page = (out / "report.html").read_text()
    for entry in results["cases"]:
        assert f'id="{case_anchor(entry["id"])}"' in page
    assert "cc-headline" in page
    # Every case is in the archive, with what it sent; the workers' parts are gone.
    recorded = archive.load(out / archive.ARCHIVE_FILE)
    assert sorted(recorded.cases) == sorted(c["id"] for c in results["cases"])
    assert recorded.header["attempts"] == 2
    assert recorded.header["provider"]["name"] == "p"
    assert not list(out.glob(".exchanges-*"))


def test_a_failing_case_shows_its_findings_not_a_traceback(pytester: pytest.Pytester) -> None:
    result, _ = run(pytester, "-k", "broken")
    result.stdout.re_match_lines([r"\[must\] openai\.auth\.not-enforced: Invalid API key accepted"])
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize(
    ("args", "order"),
    [
        (["--cc-concurrency=2"], ["test_four", "test_two", "test_one"]),
        ([], ["test_one", "test_two", "test_four"]),
    ],
    ids=["in-flight-together", "one-at-a-time"],
)
def test_cases_of_more_round_trips_start_first_when_in_flight_together(
    pytester: pytest.Pytester, args: list[str], order: list[str]
) -> None:
    ran = pytester.path / "order.txt"
    pytester.makeconftest(
        f"""
        def pytest_collection_finish(session):
            with open({str(ran)!r}, "w") as out:
                out.write(" ".join(item.name for item in session.items))
        """
    )
    pytester.makepyfile(
        test_trips="""
        from chatconform.case import case

        @case("openai/text/one", title="t", requirement="r", source="s")
        def test_one(case):
            pass

        @case("openai/text/two", title="t", requirement="r", source="s", round_trips=2)
        def test_two(case):
            pass

        @case("openai/text/four", title="t", requirement="r", source="s", round_trips=4)
        def test_four(case):
            pass
        """
    )
    _, results = run(pytester, "test_trips.py", *args)
    assert ran.read_text().split() == order
    assert {c["id"] for c in results["cases"]} == {
        f"openai/text/{n}" for n in ("one", "two", "four")
    }


def test_capability_and_case_selection(pytester: pytest.Pytester) -> None:
    _, results = run(pytester, "--cc-only=streaming")
    assert {c["capability"] for c in results["cases"]} == {"streaming"}
    _, results = run(pytester, "--cc-case=openai/errors/*")
    assert [c["id"] for c in results["cases"]] == [
        "openai/errors/param[a]",
        "openai/errors/param[b]",
    ]


def test_results_contract(pytester: pytest.Pytester) -> None:
    _, results = run(pytester)
    assert results["schema_version"] == 2
    assert results["tool"]["name"] == "chatconform"
    assert set(results["provider"]) == {"name", "dialects", "prices"}
    assert set(results["provider"]["dialects"]["openai"]) == {"base_url", "auth", "models"}
    assert set(results["summary"]["capabilities"]) >= {"openai/text", "openai/streaming"}
    assert set(results["usage"]) == {"requests", "prompt_tokens", "completion_tokens"}
    assert set(results["summary"]) >= {"verdicts", "capabilities"}
    case = results["cases"][0]
    assert set(case) >= {
        "id",
        "capability",
        "dialect",
        "title",
        "requirement",
        "verdict",
        "findings",
        "duration_s",
    }


def test_suites_refuse_to_run_without_a_provider(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_cases=CASES)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*conformance suites run through `chatconform run`*"])


def test_plain_tests_are_untouched(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_plain="def test_ok():\n    assert True\n")
    assert pytester.runpytest_subprocess("-p", "no:cacheprovider").ret == 0
