"""Accepted-deviations files: written from a run, read back, edited by hand, refused clearly."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from chatconform.baseline import (
    Accepted,
    Baseline,
    BaselineError,
    accepted_from_results,
    add_parser,
    dump_accepted,
    load_baseline,
    load_results,
    write_output,
)


def case(case_id: str, verdict: str = "pass", *rules: str, reason: str = "") -> dict[str, Any]:
    dialect, capability, _ = case_id.split("/", 2)
    return {
        "id": case_id,
        "dialect": dialect,
        "capability": capability,
        "verdict": verdict,
        "reason": reason,
        "findings": [
            {"rule": r, "severity": "must", "title": "t", "message": "Expected: x", "location": ""}
            for r in rules
        ],
    }


def run(*cases: dict[str, Any], complete: bool = True) -> dict[str, Any]:
    return {
        "schema_version": 2,
        "tool": {"name": "chatconform", "version": "0.1.0"},
        "provider": {"name": "acme", "dialects": {}},
        "started_at": "2026-12-03T03:22:53Z",
        "complete": complete,
        "cases": list(cases),
    }


RUN = run(
    case("openai/text/basic-answer"),
    # Two findings of one rule (two locations) are one accepted rule.
    case(
        "openai/tools/parallel-calls[plain]",
        "fail",
        "openai.tools.b",
        "openai.tools.a",
        "openai.tools.b",
    ),
    case("openai/streaming/done-sentinel", "fail", "openai.stream.done-sentinel"),
    case("openai/vision/url[png]", "inconclusive", reason="rate limited"),
)


def cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chatconform")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_the_accepted_document_holds_every_case_sorted_with_its_rules_deduplicated() -> None:
    document = accepted_from_results(RUN)
    assert document == {
        "chatconform_baseline": 1,
        "provider": "acme",
        "from_run": "2026-12-03T03:22:53Z",
        "tool_version": "0.1.0",
        "cases": {
            "openai/streaming/done-sentinel": {
                "verdict": "fail",
                "rules": ["openai.stream.done-sentinel"],
            },
            "openai/text/basic-answer": {"verdict": "pass", "rules": []},
            "openai/tools/parallel-calls[plain]": {
                "verdict": "fail",
                "rules": ["openai.tools.a", "openai.tools.b"],
            },
            "openai/vision/url[png]": {"verdict": "inconclusive", "rules": []},
        },
    }
    assert list(document["cases"]) == sorted(document["cases"])


def test_the_accepted_file_is_one_case_per_line_and_does_not_depend_on_case_order() -> None:
    text = dump_accepted(accepted_from_results(RUN))
    shuffled = run(*reversed(RUN["cases"]))
    assert dump_accepted(accepted_from_results(shuffled)) == text
    assert json.loads(text) == accepted_from_results(RUN)
    case_lines = [line for line in text.splitlines() if line.startswith('    "openai/')]
    assert len(case_lines) == 4
    assert case_lines[0] == (
        '    "openai/streaming/done-sentinel": '
        '{"verdict": "fail", "rules": ["openai.stream.done-sentinel"]},'
    )


def test_an_empty_run_makes_a_valid_file() -> None:
    assert json.loads(dump_accepted(accepted_from_results(run())))["cases"] == {}


def test_round_trip_through_the_command_and_load_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "reports" / "20261203T032253Z-acme"
    run_dir.mkdir(parents=True)
    write_json(run_dir / "results.json", RUN)
    out = tmp_path / "baselines" / "acme.json"  # its directory does not exist yet

    args = cli(["baseline", str(run_dir), "-o", str(out)])
    assert args.func(args) == 0

    stdout = capsys.readouterr().out
    assert stdout == (
        f"wrote {out}: 4 cases of the run of 2026-12-03T03:22:53Z, "
        "2 with accepted deviations (3 rules)\n"
    )
    loaded = load_baseline(out)
    assert loaded == Baseline.from_results(RUN, origin=str(out))
    assert loaded.cases["openai/tools/parallel-calls[plain]"] == Accepted(
        "fail", frozenset({"openai.tools.a", "openai.tools.b"})
    )
    assert (loaded.provider, loaded.from_run, loaded.tool_version) == (
        "acme",
        "2026-12-03T03:22:53Z",
        "0.1.0",
    )


def test_a_whole_results_file_or_its_run_directory_is_a_baseline_too(tmp_path: Path) -> None:
    write_json(tmp_path / "results.json", RUN)
    from_file = load_baseline(tmp_path / "results.json")
    from_dir = load_baseline(tmp_path)
    assert from_file.cases == from_dir.cases == Baseline.from_results(RUN).cases


def test_a_hand_edited_file_deleting_a_line_and_adding_notes_still_loads(tmp_path: Path) -> None:
    lines = dump_accepted(accepted_from_results(RUN)).splitlines()
    kept = [line for line in lines if "done-sentinel" not in line]
    kept = [
        line.replace('"rules": []}', '"rules": [], "note": "accepted: no vision model"}')
        for line in kept
    ]
    path = tmp_path / "accepted.json"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    loaded = load_baseline(path)
    assert "openai/streaming/done-sentinel" not in loaded.cases
    assert loaded.cases["openai/vision/url[png]"] == Accepted("inconclusive")


def test_an_interrupted_run_says_its_baseline_is_partial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_json(tmp_path / "results.json", run(case("openai/text/a"), complete=False))
    args = cli(["baseline", str(tmp_path), "-o", str(tmp_path / "b.json")])
    assert args.func(args) == 0
    assert "interrupted" in capsys.readouterr().out


ACCEPTED = accepted_from_results(RUN)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.json", None, "missing.json: no such file"),
        ("empty-dir", "DIR", "empty-dir is a directory without results.json"),
        ("broken.json", '{"cases": {,}}', "broken.json is not JSON (Expecting property name"),
        ("binary.json", b"\xff\xfe\x00", "binary.json is not JSON (not UTF-8 text)"),
        ("list.json", [1, 2], "list.json is neither an accepted-deviations file"),
        ("other.json", {"name": "x"}, "other.json is neither an accepted-deviations file"),
        (
            "future.json",
            {**ACCEPTED, "chatconform_baseline": 2},
            "future.json: accepted-deviations format 2 is not supported",
        ),
        (
            "verdict.json",
            {**ACCEPTED, "cases": {"openai/text/a": {"verdict": "good", "rules": []}}},
            "verdict.json: case 'openai/text/a': verdict 'good' is not one of pass,",
        ),
        (
            "rules.json",
            {**ACCEPTED, "cases": {"openai/text/a": {"verdict": "fail", "rules": "x.y.z"}}},
            "rules.json: case 'openai/text/a': 'rules' must be a list of rule ids",
        ),
        (
            "cases.json",
            {**ACCEPTED, "cases": []},
            "cases.json: 'cases' must be an object of case id to entry",
        ),
        (
            "v1.json",
            {**RUN, "schema_version": 1},
            "v1.json: results schema_version 1 is not supported (this chatconform reads 2)",
        ),
        (
            "twice.json",
            run(case("openai/text/a"), case("openai/text/a")),
            "twice.json: case 'openai/text/a' appears twice",
        ),
        (
            "newline.json",
            {**ACCEPTED, "cases": {"a\nb": {"verdict": "nope"}}},
            "newline.json: case 'a\\nb': verdict 'nope'",
        ),
    ],
)
def test_a_file_that_is_no_baseline_is_refused_in_one_line(
    tmp_path: Path, name: str, content: Any, expected: str
) -> None:
    path = tmp_path / name
    if content == "DIR":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif content is not None:
        write_json(path, content)
    with pytest.raises(BaselineError) as caught:
        load_baseline(path)
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert message.startswith(str(path)), message
    assert expected.split(name, 1)[1] in message, message
    assert "\n" not in message


def test_results_are_required_where_a_run_is_judged(tmp_path: Path) -> None:
    accepted = write_json(tmp_path / "accepted.json", ACCEPTED)
    with pytest.raises(BaselineError, match="is an accepted-deviations file; give a run"):
        load_results(accepted)
    other = write_json(tmp_path / "other.json", {"hello": 1})
    with pytest.raises(BaselineError, match=r"is not a chatconform results\.json"):
        load_results(other)
    bad = write_json(tmp_path / "bad.json", run({"id": "openai/text/a", "verdict": "meh"}))
    with pytest.raises(BaselineError, match="unknown verdict 'meh'"):
        load_results(bad)


def test_the_command_reports_bad_input_in_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = cli(["baseline", str(tmp_path / "nowhere"), "-o", str(tmp_path / "b.json")])
    assert args.func(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"chatconform: error: {tmp_path / 'nowhere'}: no such file\n"
    assert not (tmp_path / "b.json").exists()


def test_an_output_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(BaselineError, match=r"^cannot write .*file/b\.json: "):
        write_output(blocker / "b.json", "x")


def test_appending_keeps_what_the_file_held(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    write_output(path, "first\n")
    write_output(path, "second\n", append=True)
    assert path.read_text(encoding="utf-8") == "first\nsecond\n"
