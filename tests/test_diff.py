"""A run against a baseline: each category, the verdict order, the outputs, the command."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from chatconform.baseline import Baseline, accepted_from_results, dump_accepted
from chatconform.config import DialectConfig, ProviderConfig
from chatconform.diff import (
    CaseChange,
    RunDiff,
    add_parser,
    diff_runs,
    format_text,
    markdown,
    to_json,
    transition,
)
from chatconform.finding import make_finding
from chatconform.results import build_results, write_results
from chatconform.rules import catalog

DONE = "openai.stream.done-sentinel"
USAGE = "openai.usage.present"
NOT_A_RULE = "openai.made-up.rule"


def case(case_id: str, verdict: str = "pass", *rules: str, reason: str = "", message: str = "m"):
    dialect, capability, _ = case_id.split("/", 2)
    return {
        "id": case_id,
        "dialect": dialect,
        "capability": capability,
        "verdict": verdict,
        "reason": reason,
        "findings": [
            {"rule": r, "severity": "must", "title": "t", "message": message, "location": ""}
            for r in rules
        ],
    }


def run(*cases: dict[str, Any], **values: Any) -> dict[str, Any]:
    return {
        "schema_version": 2,
        "tool": {"name": "chatconform", "version": values.pop("version", "0.1.0")},
        "provider": {"name": values.pop("provider", "acme"), "dialects": {}},
        "started_at": values.pop("started_at", "2026-12-04T03:17:00Z"),
        "complete": values.pop("complete", True),
        "cases": list(cases),
        **values,
    }


def diff(old: list[dict[str, Any]], new: list[dict[str, Any]], **values: Any) -> RunDiff:
    baseline = Baseline.from_results(run(*old, started_at="2026-12-03T03:17:00Z"), "acme.json")
    return diff_runs(baseline, run(*new, **values))


def ids(entries: list[CaseChange]) -> list[str]:
    return [e.case for e in entries]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # The judged verdicts in order: pass < non_strict < fail < error.
        ("pass", "non_strict", "worse"),
        ("non_strict", "fail", "worse"),
        ("fail", "error", "worse"),
        ("pass", "error", "worse"),
        ("error", "fail", "better"),
        ("fail", "non_strict", "better"),
        ("non_strict", "pass", "better"),
        ("fail", "fail", None),
        # A capability withdrawn, or a broken feature now refused cleanly.
        ("pass", "unsupported", "worse"),
        ("non_strict", "unsupported", "worse"),
        ("fail", "unsupported", "better"),
        ("error", "unsupported", "better"),
        # A refused feature now served: right, or with deviations never accepted.
        ("unsupported", "pass", "better"),
        ("unsupported", "non_strict", "worse"),
        ("unsupported", "fail", "worse"),
        # Not judged is never worse, and a case not judged before accepted nothing.
        ("pass", "inconclusive", "not_judged"),
        ("fail", "skipped", "not_judged"),
        ("unsupported", "inconclusive", "not_judged"),
        ("skipped", "inconclusive", "not_judged"),
        ("inconclusive", "inconclusive", None),
        ("inconclusive", "pass", None),
        ("inconclusive", "unsupported", None),
        ("inconclusive", "fail", "worse"),
        ("skipped", "error", "worse"),
        # A case the baseline does not hold.
        (None, "pass", None),
        (None, "unsupported", None),
        (None, "inconclusive", None),
        (None, "non_strict", "worse"),
        (None, "fail", "worse"),
        (None, "error", "worse"),
    ],
)
def test_verdict_order(old: str | None, new: str, expected: str | None) -> None:
    assert transition(old, new) == expected


def test_a_worse_verdict_is_a_regression_with_the_rules_it_brought() -> None:
    d = diff(
        [case("openai/streaming/done-sentinel")],
        [case("openai/streaming/done-sentinel", "fail", DONE)],
    )
    assert d.regressed
    assert d.regressions == [
        CaseChange("openai/streaming/done-sentinel", "pass", "fail", (DONE,), True, "")
    ]
    assert d.known == d.fixed == d.new_cases == d.missing == d.not_judged == []


def test_a_rule_newly_firing_on_a_failing_case_is_a_regression_though_the_verdict_stayed() -> None:
    d = diff([case("openai/text/a", "fail", DONE)], [case("openai/text/a", "fail", DONE, USAGE)])
    assert d.regressions == [CaseChange("openai/text/a", "fail", "fail", (USAGE,))]
    assert d.known == [CaseChange("openai/text/a", "fail", "fail", (DONE,))]
    assert d.fixed == []


def test_known_deviations_match_by_rule_id_never_by_message() -> None:
    d = diff(
        [case("openai/text/a", "fail", DONE, message="Received: 'x'")],
        [case("openai/text/a", "fail", DONE, message="Received: 'something else'")],
    )
    assert not d.regressed
    assert ids(d.known) == ["openai/text/a"]


def test_one_rule_replaced_by_another_is_both_a_regression_and_a_fix() -> None:
    d = diff([case("openai/text/a", "fail", DONE)], [case("openai/text/a", "fail", USAGE)])
    assert d.regressions == [CaseChange("openai/text/a", "fail", "fail", (USAGE,))]
    assert d.fixed == [CaseChange("openai/text/a", "fail", "fail", (DONE,))]
    assert d.known == []


def test_fixed_by_verdict_and_by_rule() -> None:
    d = diff(
        [case("openai/text/a", "fail", DONE), case("openai/text/b", "fail", DONE, USAGE)],
        [case("openai/text/a"), case("openai/text/b", "fail", DONE)],
    )
    assert not d.regressed
    assert d.fixed == [
        CaseChange("openai/text/a", "fail", "pass", (DONE,), True),
        CaseChange("openai/text/b", "fail", "fail", (USAGE,)),
    ]
    assert ids(d.known) == ["openai/text/b"]


def test_new_cases_are_listed_and_regress_only_when_a_rule_fires_or_the_harness_broke() -> None:
    d = diff(
        [],
        [
            case("openai/text/passes"),
            case("openai/text/refused", "unsupported"),
            case("openai/text/stalled", "inconclusive"),
            case("openai/text/lenient", "non_strict", USAGE),
            case("openai/text/fails", "fail", DONE),
            case("openai/text/crashed", "error"),
        ],
    )
    assert len(d.new_cases) == 6
    assert ids(d.regressions) == ["openai/text/crashed", "openai/text/fails", "openai/text/lenient"]
    assert d.regressions[1] == CaseChange("openai/text/fails", None, "fail", (DONE,), True)
    assert d.not_judged == []


def test_missing_cases_are_listed_and_never_a_regression() -> None:
    d = diff(
        [case("openai/vision/url[png]", "fail", DONE), case("openai/text/a")],
        [case("openai/text/a")],
    )
    assert not d.regressed
    assert d.missing == [CaseChange("openai/vision/url[png]", "fail", None, (DONE,))]
    assert d.fixed == []


def test_a_case_not_judged_this_time_is_listed_and_only_a_new_rule_counts() -> None:
    d = diff(
        [
            case("openai/text/a"),
            case("openai/text/b", "fail", DONE),
            case("openai/text/c", "skipped"),
        ],
        [
            case("openai/text/a", "inconclusive", reason="rate limited (HTTP 429)"),
            # A rule that fired before the stall fired: it is a regression all the same.
            case("openai/text/b", "inconclusive", USAGE, reason="stalled"),
            case("openai/text/c", "skipped"),
        ],
    )
    assert d.regressed
    assert [(c.case, c.rules) for c in d.regressions] == [("openai/text/b", (USAGE,))]
    assert d.not_judged == [
        CaseChange("openai/text/a", "pass", "inconclusive", (), True, "rate limited (HTTP 429)"),
        CaseChange("openai/text/b", "fail", "inconclusive", (), True, "stalled"),
    ]
    assert d.fixed == d.known == []


def test_a_capability_withdrawn_is_a_regression_and_a_broken_feature_refused_is_fixed() -> None:
    d = diff(
        [case("openai/text/n"), case("openai/text/strict", "fail", DONE)],
        [case("openai/text/n", "unsupported"), case("openai/text/strict", "unsupported")],
    )
    assert d.regressions == [CaseChange("openai/text/n", "pass", "unsupported", (), True)]
    assert d.fixed == [CaseChange("openai/text/strict", "fail", "unsupported", (DONE,), True)]


def test_a_harness_error_is_worse_and_fixes_nothing() -> None:
    d = diff([case("openai/text/a", "fail", DONE)], [case("openai/text/a", "error")])
    assert d.regressions == [CaseChange("openai/text/a", "fail", "error", (), True)]
    assert d.fixed == []


def test_a_run_against_its_own_baseline_has_only_known_deviations() -> None:
    cases = [
        case("openai/text/a"),
        case("openai/text/b", "fail", DONE),
        case("openai/text/c", "skipped"),
    ]
    d = diff(cases, cases)
    assert not d.regressed
    assert d.counts() == {
        "regressions": 0,
        "fixed": 0,
        "not_judged": 0,
        "new_cases": 0,
        "missing": 0,
        "known": 1,
    }


def test_a_case_deleted_from_the_accepted_file_is_no_longer_accepted() -> None:
    document = accepted_from_results(run(case("openai/text/b", "fail", DONE)))
    del document["cases"]["openai/text/b"]
    d = diff_runs(Baseline.from_accepted(document), run(case("openai/text/b", "fail", DONE)))
    assert ids(d.regressions) == ids(d.new_cases) == ["openai/text/b"]


def test_notes_say_when_the_comparison_is_shaky() -> None:
    d = diff([case("openai/text/a")], [], provider="other", version="0.2.0", complete=False)
    assert d.notes == [
        "the baseline is of provider 'acme', this run of 'other'",
        "the baseline was made with chatconform 0.1.0, this run with 0.2.0: cases and rules "
        "added since are compared as new",
        "this run was interrupted: the cases it did not reach are listed as missing",
    ]


MIXED = (
    [
        case("openai/streaming/done-sentinel"),
        case("openai/tools/a", "fail", USAGE),
        case("openai/tools/b", "fail", DONE),
        case("openai/vision/url[png]"),
    ],
    [
        case("openai/streaming/done-sentinel", "fail", DONE, NOT_A_RULE),
        case("openai/tools/a", "fail", USAGE),
        case("openai/tools/b"),
        case("openai/text/new-one"),
    ],
)


def test_the_text_puts_regressions_first_one_fact_per_line() -> None:
    text = format_text(diff(*MIXED))
    assert text.splitlines() == [
        "chatconform diff: acme run of 2026-12-04T03:17:00Z against acme.json "
        "(run of 2026-12-03T03:17:00Z): 1 regression, 1 known, 1 fixed, 1 new case, 1 missing",
        "regressions (1):",
        "  openai/streaming/done-sentinel: pass -> fail",
        f"  openai/streaming/done-sentinel: + {NOT_A_RULE}",
        f"  openai/streaming/done-sentinel: + {DONE}",
        "fixed (1):",
        "  openai/tools/b: fail -> pass",
        f"  openai/tools/b: - {DONE}",
        "new cases (1):",
        "  openai/text/new-one: pass",
        "missing: in the baseline, not in this run (1):",
        "  openai/vision: 1 case",
        "known deviations: 1 case, 1 rule:",
        f"  {USAGE}: 1 case",
    ]


def test_the_text_shows_control_characters_instead_of_obeying_them() -> None:
    hostile = "openai/text/\x1b[2Jcleared"
    text = format_text(diff([], [case(hostile, "fail", DONE, reason="\x1b]0;pwned\x07")]))
    assert "\x1b" not in text and "\x07" not in text
    assert "openai/text/\\x1b[2Jcleared: new case -> fail (\\x1b]0;pwned\\x07)" in text


def test_the_json_lists_every_category() -> None:
    document = json.loads(json.dumps(to_json(diff(*MIXED))))
    assert document["regressed"] is True
    assert document["counts"]["regressions"] == 1
    assert document["regressions"] == [
        {
            "case": "openai/streaming/done-sentinel",
            "old": "pass",
            "new": "fail",
            "rules": [NOT_A_RULE, DONE],
            "verdict_change": True,
            "reason": "",
        }
    ]
    assert [e["case"] for e in document["missing"]] == ["openai/vision/url[png]"]


SUMMARY = {
    "capabilities": {"openai/text": "pass", "openai/streaming": "fail"},
    "capability_counts": {"openai/text": {"pass": 3}, "openai/streaming": {"fail": 1, "pass": 2}},
    "unsupported_features": {"openai/text": ["n"]},
}


def test_the_markdown_summary_headline_table_regressions_fixed_then_known_folded() -> None:
    d = diff(*MIXED)
    text = markdown(d, run(summary=SUMMARY))
    lines = text.splitlines()
    assert lines[0] == (
        "### ❌ chatconform: acme, run of 2026\\-12\\-04T03\\:17\\:00Z: "
        "1 regression, 1 known, 1 fixed, 1 new case, 1 missing"
    )
    assert "| `openai/text` | ✅ pass \\(1 optional feature unsupported\\: n\\) | 3 pass |" in lines
    assert "| `openai/streaming` | ❌ fail | 1 fail, 2 pass |" in lines
    title = catalog()[DONE].title
    regressions = lines.index("#### Regressions (1)")
    fixed = lines.index("#### Fixed (1)")
    known = next(n for n, line in enumerate(lines) if line.startswith("<details><summary>Known"))
    assert regressions < fixed < known
    block = lines[regressions:fixed]
    assert "- `openai/streaming/done-sentinel`: pass → fail" in block
    # A rule the catalog does not know is shown by its id.
    assert f"  - `{NOT_A_RULE}`" in block
    # With its title and severity from the catalog, escaped ("[DONE]" is no link).
    assert f"  - `{DONE}`: {title} (must)" in [line.replace("\\", "") for line in block]
    assert f"- `{USAGE}`: " in "\n".join(lines[known:])
    # Ends with a blank line, so whatever a later step appends starts a block of its own.
    assert text.endswith("\n</details>\n\n")


def test_the_markdown_without_a_regression_says_so_and_works_without_results() -> None:
    d = diff([case("openai/text/a", "fail", DONE)], [case("openai/text/a", "fail", DONE)])
    text = markdown(d, None)
    assert text.startswith("### ✅ chatconform: acme, run of ")
    assert "| capability |" not in text
    assert "Regressions" not in text


def test_the_markdown_of_a_run_alone_is_its_headline_and_table() -> None:
    text = markdown(None, run(case("openai/text/a"), summary=SUMMARY))
    assert (
        text.splitlines()[0]
        == "### chatconform: acme, run of 2026\\-12\\-04T03\\:17\\:00Z: 1 passed"
    )
    assert "| `openai/streaming` | ❌ fail | 1 fail, 2 pass |" in text


HOSTILE = [
    "<script>alert(1)</script>",
    "</details><img src=x onerror=alert(1)>",
    "[click](https://evil.example) ![x](https://evil.example/x.png)",
    "line\n# Heading\n\n| a | b |\n",
    "`code` **bold** _it_ ~~s~~ $x^2$ :rocket: @octocat &lt; &#60;",
    "\u202eevil\u2066 \r\n- item\n1. item\n> quote\n    indented",
]

# Raw HTML the summary itself writes; any other tag would be the provider's markup.
OUR_TAGS = {"<details>", "<summary>", "</summary>", "</details>"}


def unescaped_html(text: str) -> set[str]:
    return {m.group(0) for m in re.finditer(r"(?<!\\)<[^>]*>?", text)} - OUR_TAGS


def hostile_markdown(value: str) -> tuple[str, str]:
    """The summary with ``value`` as a case id, a reason, a capability and the provider,
    and the same summary with a benign value, to compare their structure."""

    def summary_of(text: str) -> str:
        old = [case(f"openai/text/{text}"), case("openai/text/known", "fail", DONE)]
        new = [
            case(f"openai/text/{text}", "fail", DONE, f"openai.x.{text}", reason=text),
            case("openai/text/known", "fail", DONE),
            case("openai/text/gone", "inconclusive", reason=text),
        ]
        results = run(
            *new,
            provider=text,
            summary={"capabilities": {text: "fail"}, "capability_counts": {text: {text: 1}}},
        )
        baseline = Baseline.from_results(run(*old, case("openai/text/gone")))
        return markdown(diff_runs(baseline, results), results)

    return summary_of(value), summary_of("benign")


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_in_a_run_cannot_inject_markup_into_the_summary(value: str) -> None:
    text, benign = hostile_markdown(value)
    assert unescaped_html(text) == set(), text
    assert "](" not in text.replace("\\](", "")
    # One line per line of the benign summary: no heading, list, table row or quote added.
    assert len(text.splitlines()) == len(benign.splitlines()), text
    for line, expected in zip(text.splitlines(), benign.splitlines(), strict=True):
        assert line[:2] == expected[:2], (line, expected)


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_string_in_a_run_leaves_the_summary_structure_unchanged(value: str) -> None:
    note(repr(value))
    text, benign = hostile_markdown(value)
    assert unescaped_html(text) == set()
    assert len(text.splitlines()) == len(benign.splitlines())


def cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chatconform")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def write(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_the_command_exits_1_on_a_regression_and_writes_json_and_appends_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    accepted = tmp_path / "baselines" / "acme.json"
    accepted.parent.mkdir()
    accepted.write_text(dump_accepted(accepted_from_results(run(*MIXED[0]))), encoding="utf-8")
    new = write(tmp_path / "reports" / "run" / "results.json", run(*MIXED[1], summary=SUMMARY))
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    out = tmp_path / "out" / "diff.json"

    args = cli(
        ["diff", str(accepted), str(new.parent), "-o", str(out), "--summary-md", str(summary)]
    )
    assert args.func(args) == 1

    stdout = capsys.readouterr().out
    assert "  openai/streaming/done-sentinel: pass -> fail\n" in stdout
    assert stdout.endswith(f"exit code 1: 1 cases regressed against {accepted}\n")
    assert json.loads(out.read_text(encoding="utf-8"))["regressed"] is True
    assert summary.read_text(encoding="utf-8").startswith("earlier step\n### ❌ chatconform")


def test_the_command_exits_0_comparing_two_runs_without_a_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = write(tmp_path / "a" / "results.json", run(case("openai/text/a", "fail", DONE)))
    new = write(tmp_path / "b" / "results.json", run(case("openai/text/a")))
    args = cli(["diff", str(old), str(new)])
    assert args.func(args) == 0
    assert "  openai/text/a: fail -> pass" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ("missing.json", "b.json", "missing.json: no such file"),
        ("a.json", "accepted.json", "accepted.json is an accepted-deviations file"),
        ("a.json", "garbage.json", "garbage.json is not JSON"),
    ],
)
def test_the_command_refuses_bad_input_in_one_line_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], a: str, b: str, message: str
) -> None:
    write(tmp_path / "a.json", run(case("openai/text/a")))
    write(tmp_path / "b.json", run(case("openai/text/a")))
    write(tmp_path / "accepted.json", accepted_from_results(run(case("openai/text/a"))))
    (tmp_path / "garbage.json").write_text("not json", encoding="utf-8")
    args = cli(["diff", str(tmp_path / a), str(tmp_path / b)])
    assert args.func(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("chatconform: error: ")
    assert message in captured.err
    assert captured.err.count("\n") == 1


def test_runs_of_the_real_results_shape_round_trip_through_baseline_and_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """results.json as the harness writes it (build_results, make_finding): a baseline of
    one night, the next night with one regression, and the summary of both."""
    from chatconform.baseline import add_parser as add_baseline_parser

    provider = ProviderConfig(
        name="relay",
        dialects={
            "openai": DialectConfig("https://relay.example/v1", "bearer", {"default": "m"}),
            "anthropic": DialectConfig("https://relay.example", "x-api-key", {"default": "c"}),
        },
        api_key_env="RELAY_API_KEY",
    )

    def real(case_id: str, verdict: str, *rules: str, optional: str | None = None):
        entry = case(case_id, verdict)
        findings = [
            make_finding(r, "Expected: [DONE]\nReceived: end of stream", location="/events/3")
            for r in rules
        ]
        name = case_id.split("/", 2)[2]
        return {
            **entry,
            "title": name,
            "requirement": "A requirement.",
            "source": "https://example.test/spec",
            "optional": optional,
            "findings": [f.to_dict() for f in findings],
            "attempts": 1,
            "notes": [],
            "duration_s": 0.1,
            "usage": {"requests": 1, "prompt_tokens": 5, "completion_tokens": 1},
            "exchanges": [],
            "media": [],
        }

    night1 = build_results(
        provider,
        [
            real("openai/streaming/done-sentinel", "fail", DONE),
            real("openai/text/usage", "pass"),
            real("openai/text/n-choices", "unsupported", optional="n"),
            real("anthropic/streaming/event-order", "pass"),
        ],
        1796000000.0,
        12.5,
    )
    night2 = build_results(
        provider,
        [
            real("openai/streaming/done-sentinel", "fail", DONE),
            real("openai/text/usage", "non_strict", USAGE),
            real("openai/text/n-choices", "unsupported", optional="n"),
            real("anthropic/streaming/event-order", "inconclusive"),
        ],
        1796086400.0,
        12.5,
    )
    dir1 = write_results(tmp_path / "reports" / "night1", night1).parent
    dir2 = write_results(tmp_path / "reports" / "night2", night2).parent

    parser = argparse.ArgumentParser(prog="chatconform")
    commands = parser.add_subparsers(dest="command", required=True)
    add_parser(commands)
    add_baseline_parser(commands)
    accepted = tmp_path / "baselines" / "relay.json"
    args = parser.parse_args(["baseline", str(dir1), "-o", str(accepted)])
    assert args.func(args) == 0
    summary = tmp_path / "summary.md"
    args = parser.parse_args(["diff", str(accepted), str(dir2), "--summary-md", str(summary)])
    assert args.func(args) == 1

    stdout = capsys.readouterr().out
    assert "  openai/text/usage: pass -> non_strict\n" in stdout
    assert f"  openai/text/usage: + {USAGE}\n" in stdout
    assert "  anthropic/streaming/event-order: pass -> inconclusive\n" in stdout
    text = summary.read_text(encoding="utf-8")
    assert "| `anthropic/claude_code` | ➖ not\\_measured |  |" in text
    assert "| `openai/text` | 🟡 non\\_strict \\(1 optional feature unsupported\\: n\\) |" in text
    assert "1 regression, 1 known, 0 fixed, 1 not judged" in text.splitlines()[0]


def test_a_new_rule_on_a_case_stopped_short_is_still_a_regression() -> None:
    from chatconform.baseline import Baseline

    old = Baseline.from_results(
        {
            "schema_version": 2,
            "provider": {"name": "p"},
            "cases": [{"id": "x", "verdict": "pass", "findings": []}],
        }
    )
    new = {
        "schema_version": 2,
        "provider": {"name": "p"},
        "cases": [
            {
                "id": "x",
                "verdict": "inconclusive",
                "reason": "rate limited",
                "findings": [{"rule": "openai.stream.done-sentinel"}],
            }
        ],
    }
    changes = diff_runs(old, new)
    assert changes.regressed
    assert [c.rules for c in changes.regressions] == [("openai.stream.done-sentinel",)]
