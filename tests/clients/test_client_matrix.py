"""The client matrix of a run: outcomes per scorecard row and per case, examples, and how
a run gets it into results.json and its report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from recorded import answered, sample, streamed

from chatconform import archive
from chatconform.clients import parse_families, python
from chatconform.clients.jobs import job_of
from chatconform.clients.matrix import attach, build
from chatconform.clients.reading import Reading
from chatconform.report import REPORT_FILE
from chatconform.results import RESULTS_FILE

ROWS = ["openai/streaming", "openai/text", "openai/tools"]


def test_each_row_and_case_takes_the_worst_outcome_and_keeps_what_did_not_work() -> None:
    good = job_of(
        "openai/text/a",
        "openai",
        0,
        answered("openai", sample("openai/response_basic.json")),
        "openai/text",
    )
    cut = job_of(
        "openai/streaming/b",
        "openai",
        0,
        streamed("openai", "openai/stream_truncated.sse"),
        "openai/streaming",
    )
    assert good is not None and cut is not None and good.expected is not None
    readings = [
        Reading("c", "create", text=good.expected.text, finish_reason=good.expected.finish_reason,
                input_tokens=good.expected.input_tokens, output_tokens=good.expected.output_tokens,
                case_id="openai/text/a", exchange_index=0, client_version="1.0"),
        Reading("c", "stream", text="", case_id="openai/streaming/b", exchange_index=0),
        Reading("c", "helper", error_type="KeyError", error_message="<b>", case_id="openai/streaming/b", exchange_index=0),
    ]  # fmt: skip
    clients = build([good, cut], readings, ROWS)
    entry = clients["c"]
    assert entry["version"] == "1.0"
    assert entry["capabilities"] == {
        "openai/streaming": "breaks",
        "openai/text": "works",
        "openai/tools": "n/a",
    }
    assert entry["cases"] == {"openai/streaming/b": "breaks", "openai/text/a": "works"}
    assert [(e["case"], e["call"], e["outcome"]) for e in entry["examples"]] == [
        ("openai/streaming/b", "stream", "wrong"),
        ("openai/streaming/b", "helper", "breaks"),
    ]
    assert entry["examples"][1]["detail"] == "KeyError: <b>"


def test_clients_are_chosen_by_family() -> None:
    assert parse_families(None) is None
    assert parse_families("none") == ()
    assert parse_families("node, python,node") == ("node", "python")
    with pytest.raises(ValueError, match="unknown client family 'java'"):
        parse_families("python,java")


@pytest.mark.skipif(python.available() is not None, reason="no Python client libraries")
def test_a_run_gets_its_matrix_in_results_and_report(tmp_path: Path) -> None:
    exchange = streamed("openai", "openai/stream_chunk_object_wrong.sse")
    archive.append_case(tmp_path, "main", "openai/streaming/a", [archive.exchange_record(exchange)])
    archive.assemble(tmp_path, {"provider": {}})
    results = {
        "schema_version": 2,
        "provider": {"name": "p", "dialects": {}},
        "started_at": "2026-12-03T00:00:00Z",
        "summary": {"capabilities": {"openai/streaming": "fail"}, "capability_counts": {}},
        "cases": [
            {
                "id": "openai/streaming/a",
                "dialect": "openai",
                "capability": "streaming",
                "verdict": "fail",
                "title": "t",
                "requirement": "r",
                "reason": "",
                "findings": [],
            }
        ],
    }
    (tmp_path / RESULTS_FILE).write_text(json.dumps(results))
    assert attach(tmp_path, ("python",)) == []
    written = json.loads((tmp_path / RESULTS_FILE).read_text())
    assert written["clients"]["openai-python"]["capabilities"] == {"openai/streaming": "breaks"}
    assert "AssertionError" in (tmp_path / REPORT_FILE).read_text()
    assert attach(tmp_path, ()) == []
    assert attach(tmp_path / "nowhere", ("python",))[0].startswith("no client matrix: ")
