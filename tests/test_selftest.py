"""The self-test: the faithful reference passes everything; every catalog fault is flagged.

Each run goes through the real path a user takes: a reference server on
loopback (`chatconform serve` in-process) and `chatconform run --base-url`
in a subprocess, judged from the results.json it writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from client_claims import claim_mismatches
from leak_helpers import LEAKY_KEY, leaks, outputs
from suite_cases import round_trip_mismatches

from chatconform.fixture_server import FixtureServer
from chatconform.reference import FAULTS, ReferenceServer
from chatconform.reference.embeddings import EMBEDDING_MODEL
from chatconform.rules import catalog

EXPECTATIONS = tomllib.loads(
    (Path(__file__).parent / "data" / "fault_expectations.toml").read_text(encoding="utf-8")
)
KEY_ENV = "CHATCONFORM_SELFTEST_KEY"
# Every scorecard row the reference is measured on: all of them.
NOT_MEASURED: set[str] = set()
# Pacing fast enough for CI, slow enough that a faithful stream is clearly incremental
# even when a busy machine holds the client back for a while (a stall shorter than
# the whole stream cannot make it look like one burst).
PACE_S = "0.01"
# Seconds of silence before a request is cut: far above what the reference needs on a
# busy machine (recognising a 3 MB image takes a while); stall faults set their own.
TIMEOUT_S = 30


def provider_config(server: ReferenceServer, images: str, anthropic_auth: str) -> str:
    """The reference as a user describes a provider speaking both dialects."""
    return f"""
[providers.reference]
api_key_env = "{KEY_ENV}"
image_base_url = "{images}"

[providers.reference.dialects.openai]
base_url = "{server.base_url}"
models = {{ default = "{server.model}", reasoning = "{server.reasoning_model}", embeddings = "{EMBEDDING_MODEL}" }}

[providers.reference.dialects.anthropic]
base_url = "{server.root_url}"
auth = "{anthropic_auth}"
models = {{ default = "{server.model}", thinking = "{server.model}" }}
"""


def run_suite(
    server: ReferenceServer, tmp_path: Path, *extra: str, anthropic_auth: str = "x-api-key"
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    env = {**os.environ, KEY_ENV: server.api_key}
    # The URL image and document cases need the fixtures where the provider can fetch them.
    with FixtureServer() as images:
        config = tmp_path / "chatconform.toml"
        config.write_text(provider_config(server, images.base_url, anthropic_auth))
        command = [
            sys.executable, "-m", "chatconform", "run",
            "--config", str(config),
            "--reports", str(tmp_path / "reports"),
            "--concurrency", "1",
            *extra,
        ]  # fmt: skip
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    found = list(tmp_path.glob("reports/*/results.json"))
    assert len(found) == 1, f"no results.json; exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done, json.loads(found[0].read_text())


def test_faithful_reference_passes_every_case(tmp_path: Path) -> None:
    with ReferenceServer(pace_s=float(PACE_S), api_key=LEAKY_KEY) as server:
        done, results = run_suite(server, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(results["cases"]) >= 150
    not_passing = [
        (c["id"], c["verdict"], c["reason"]) for c in results["cases"] if c["verdict"] != "pass"
    ]
    assert not_passing == []
    assert [f for c in results["cases"] for f in c["findings"]] == []
    assert round_trip_mismatches(results) == []
    # Every real client the run replayed its answers through got what the suite read.
    python_clients = {k: v for k, v in results["clients"].items() if k.endswith("-python")}
    assert sorted(python_clients) == ["anthropic-python", "openai-python"]
    assert {
        (name, row): kind
        for name, entry in python_clients.items()
        for row, kind in entry["capabilities"].items()
        if kind not in ("works", "n/a")
    } == {}
    assert claim_mismatches(results) == []
    statuses = results["summary"]["capabilities"]
    assert {c for c, status in statuses.items() if status != "pass"} == NOT_MEASURED
    # Judged again offline, after the reference is gone, the run keeps every verdict.
    (run_dir,) = tmp_path.glob("reports/*/")
    again = subprocess.run(
        [sys.executable, "-m", "chatconform", "rejudge", str(run_dir)],
        env={**os.environ, KEY_ENV: server.api_key},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    rejudged = json.loads((run_dir / "rejudged" / "results.json").read_text())
    assert [(c["id"], c["verdict"]) for c in rejudged["cases"]] == [
        (c["id"], c["verdict"]) for c in results["cases"]
    ]
    written = outputs(tmp_path, done.stdout, done.stderr, again.stdout, again.stderr)
    assert {Path(name).name for name in written} >= {
        "results.json",
        "report.html",
        "junit.xml",
        "exchanges.jsonl",
    }
    assert leaks(server.api_key, written) == [], "the API key reached the run's outputs"


def scope(entry: dict[str, Any]) -> list[str]:
    """The run's selection for a fault: its declared capabilities, whole, except those
    of which ``also`` names some cases (id globs): where one root cause also shows in
    other capabilities, a few of their cases prove it shows there as its own rule and
    nothing else, without running them all."""
    capabilities = sorted({e["capability"] for e in entry["expect"]})
    if "also" not in entry:
        return ["--only", ",".join(capabilities)]
    sampled = {"/".join(glob.split("/")[:2]) for glob in entry["also"]}
    globs = [f"{c}/*" for c in capabilities if c not in sampled] + entry["also"]
    return [arg for glob in globs for arg in ("--case", glob)]


@pytest.mark.parametrize("fault", sorted(EXPECTATIONS))
def test_fault_fires_exactly_its_declared_rules(fault: str, tmp_path: Path) -> None:
    """Sensitivity and precision: the declared rules fire, in the declared capabilities,
    and nothing else does (one root cause, one family of findings)."""
    entry = EXPECTATIONS[fault]
    expected = entry["expect"]
    with ReferenceServer(faults=frozenset({fault}), pace_s=float(PACE_S)) as server:
        done, results = run_suite(
            server,
            tmp_path,
            *scope(entry),
            "--timeout",
            str(entry.get("timeout", TIMEOUT_S)),
            anthropic_auth=entry.get("auth", "x-api-key"),
        )
    fired = {
        (f"{case['dialect']}/{case['capability']}", f["rule"]): case["id"]
        for case in results["cases"]
        for f in case["findings"]
    }
    declared = {(e["capability"], e["rule"]) for e in expected if "rule" in e}
    missing = sorted(declared - set(fired))
    unexpected = sorted(f"{c}: {r} (in {fired[c, r]})" for c, r in set(fired) - declared)
    assert (missing, unexpected) == ([], []), f"{fault}: missing {missing}, unexpected {unexpected}"
    statuses = results["summary"]["capabilities"]
    for e in expected:
        assert statuses[e["capability"]] == e["status"], (
            f"{fault}: {e['capability']} is {statuses[e['capability']]}, not {e['status']}"
        )
    failed = any(e["status"] == "fail" for e in expected)
    assert done.returncode == (1 if failed else 0), done.stdout + done.stderr
    # The clients the fired rules claim to break are those the replay saw break.
    assert claim_mismatches(results, fault) == [], f"{fault}: catalog breaks vs. client replay"


def test_every_fault_has_an_expectation() -> None:
    assert sorted(EXPECTATIONS) == sorted(FAULTS)


def test_every_rule_is_triggered_by_some_fault() -> None:
    expected_rules = {
        e["rule"] for entry in EXPECTATIONS.values() for e in entry["expect"] if "rule" in e
    }
    assert sorted(set(catalog()) - expected_rules) == []


class Reframe:
    """ASGI middleware re-framing event streams in ways the SSE spec allows.

    CRLF line ends, no space after ``data:``, comment pings between events,
    and every body write split in two (so a CRLF can straddle two reads).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        is_stream = False

        async def reframing_send(message: dict[str, Any]) -> None:
            nonlocal is_stream
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                is_stream = headers.get(b"content-type", b"").startswith(b"text/event-stream")
            if message["type"] != "http.response.body" or not is_stream or not message.get("body"):
                await send(message)
                return
            body = b": ping\r\n\r\n" + message["body"].replace(b"data: ", b"data:").replace(
                b"\n", b"\r\n"
            )
            middle = len(body) // 2 + 1
            await send({"type": "http.response.body", "body": body[:middle], "more_body": True})
            await send({**message, "body": body[middle:]})

        await self.app(scope, receive, reframing_send)


def test_valid_sse_framing_variants_are_never_deviations(tmp_path: Path) -> None:
    server = ReferenceServer(pace_s=float(PACE_S))
    server.app.add_middleware(Reframe)
    with server:
        done, results = run_suite(
            server, tmp_path, "--only", "streaming,tools,base64_image,vision,documents,thinking"
        )
    assert [
        (c["id"], c["verdict"], c["findings"]) for c in results["cases"] if c["verdict"] != "pass"
    ] == []
    assert done.returncode == 0


def test_cases_in_flight_together_are_judged_as_one_at_a_time(tmp_path: Path) -> None:
    """Concurrency changes nothing but time: with cases in flight together (threads),
    every case gets the verdict, findings and requests of a sequential run."""
    outcomes = []
    for concurrency in ("1", "8"):
        directory = tmp_path / concurrency
        directory.mkdir()
        with ReferenceServer(
            faults=frozenset({"chunk-id-changes"}), pace_s=float(PACE_S)
        ) as server:
            _, results = run_suite(
                server,
                directory,
                "--only",
                "openai/streaming,openai/tools,anthropic/streaming",
                "--concurrency",
                concurrency,
            )
        outcomes.append(
            [
                (c["id"], c["verdict"], sorted(f["rule"] for f in c["findings"]), c["usage"])
                for c in results["cases"]
            ]
        )
    assert len(outcomes[0]) > 30
    assert any(rules for _, _, rules, _ in outcomes[0]), "the fault fired nowhere"
    assert outcomes[0] == outcomes[1]
