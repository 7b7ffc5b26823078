"""The load probe, `chatconform run --load N` (chatconform.load), against the reference."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from chatconform import load
from chatconform.budget import TokenLedger
from chatconform.config import single
from chatconform.reference import ReferenceServer
from chatconform.results import RESULTS_FILE, build_results, write_results

KEY_ENV = "CC_LOAD_TEST_KEY"


def provider(server: ReferenceServer, dialect: str = "openai", **values: object):
    base = server.base_url if dialect == "openai" else server.root_url
    return single(
        "reference",
        base,
        dialect=dialect,
        models={"default": server.model},
        api_key_env=KEY_ENV,
        **values,
    )


@pytest.mark.parametrize("dialect", ["openai", "anthropic"])
def test_n_requests_at_once_are_all_answered_and_counted(
    dialect: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ReferenceServer(pace_s=0) as server:
        monkeypatch.setenv(KEY_ENV, server.api_key)
        ledger = TokenLedger(tmp_path / "spent", None)
        outcome = load.probe(provider(server, dialect), 4, ledger)
    assert outcome["dialect"] == dialect and outcome["concurrency"] == 4
    assert outcome["concurrent"]["requests"] == outcome["concurrent"]["succeeded"] == 4
    assert outcome["alone"]["succeeded"] == load.ALONE
    assert outcome["success_rate"] == 1.0 and outcome["errors"] == {}
    together = outcome["concurrent"]
    assert 0 < together["latency_p50_s"] <= together["latency_p95_s"]
    assert outcome["slowdown_p50"] > 0
    usage = outcome["usage"]
    assert usage["requests"] == 4 + load.ALONE
    # Every answer reported its tokens, and the run's budget was charged with them.
    assert usage["prompt_tokens"] >= usage["requests"] and usage["completion_tokens"] > 0
    assert ledger.spent() == usage["prompt_tokens"] + usage["completion_tokens"]


def test_refused_requests_are_counted_by_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ReferenceServer(pace_s=0, faults=frozenset({"chat-refused-400"})) as server:
        monkeypatch.setenv(KEY_ENV, server.api_key)
        outcome = load.probe(provider(server), 3, TokenLedger(tmp_path / "spent", None))
    assert outcome["success_rate"] == 0.0
    assert outcome["errors"] == {"400": 3}
    assert outcome["concurrent"]["latency_p50_s"] is None and outcome["slowdown_p50"] is None
    assert "0/3 answered" in load.summary_line(outcome)


def test_a_budget_that_cannot_pay_for_the_probe_sends_nothing(tmp_path: Path) -> None:
    ledger = TokenLedger(tmp_path / "spent", 1000)
    ledger.spend(990)
    # Nothing listens there: a request sent would show as an error, not a skip.
    outcome = load.probe(single("p", "http://127.0.0.1:9/v1"), 8, ledger)
    assert outcome == {
        "concurrency": 8,
        "skipped": "the token budget (1000) cannot pay for 11 more requests (up to 528 tokens)",
    }
    assert ledger.spent() == 990
    assert load.summary_line(outcome).startswith("not run: the token budget")


def test_after_run_adds_load_to_results_json_and_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with ReferenceServer(pace_s=0) as server:
        monkeypatch.setenv(KEY_ENV, server.api_key)
        config = provider(server)
        write_results(tmp_path, build_results(config, [], 0, 1.0))
        load.after_run(config, tmp_path, 2)
    results = json.loads((tmp_path / RESULTS_FILE).read_text())
    assert results["load"]["concurrent"]["succeeded"] == 2
    # The probe's requests are the run's too; no verdict counts them.
    assert results["usage"]["requests"] == 2 + load.ALONE
    assert results["summary"]["verdicts"]["pass"] == 0
    assert "Load probe: 2 identical requests at once" in (tmp_path / "report.html").read_text()
    assert "load probe: 2 at once: 2/2 answered" in capsys.readouterr().out


def test_after_an_interrupted_run_without_results_nothing_is_sent(tmp_path: Path) -> None:
    load.after_run(single("p", "http://127.0.0.1:9/v1"), tmp_path, 4)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["0", "-1", "x", "257", ""])
def test_load_count_takes_1_to_256(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="not a number of requests"):
        load.load_count(value)
    assert load.load_count("256") == 256
