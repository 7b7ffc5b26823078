"""Leak-proof evidence: a key the provider echoes back reaches no output, in any encoding.

End to end like the self-test (a reference server on loopback, `chatconform run`
in a subprocess), against each fault that echoes the key; and through the plugin
alone, for text that only the assembled result holds whole.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from leak_helpers import LEAKY_KEY, encodings, leaks, outputs
from test_selftest import PACE_S, run_suite

from chatconform.config import single
from chatconform.redaction import REDACTED
from chatconform.reference import FAULTS, ReferenceServer
from chatconform.reference.leaks import usage_signature

pytest_plugins = ["pytester"]

KEY_ECHOES = sorted(name for name in FAULTS if name.startswith("key-echo-"))


def test_every_encoding_is_found_where_it_is() -> None:
    forms = encodings(LEAKY_KEY)
    assert len(forms) >= 10
    for name, form in forms.items():
        assert leaks(LEAKY_KEY, {"blob": b"<p>" + form + b"</p>"}) != [], name
    assert leaks(LEAKY_KEY, {"blob": f"{LEAKY_KEY[:-1]} {REDACTED}".encode()}) == []


@pytest.mark.parametrize("fault", KEY_ECHOES)
def test_an_echoed_key_reaches_no_output(fault: str, tmp_path: Path) -> None:
    with ReferenceServer(faults={fault}, api_key=LEAKY_KEY, pace_s=float(PACE_S)) as server:
        done, results = run_suite(server, tmp_path, "--only", "text,streaming")
    assert done.returncode == 0, done.stdout + done.stderr
    written = outputs(tmp_path, done.stdout, done.stderr)
    assert {Path(name).name for name in written} >= {"results.json", "report.html", "junit.xml"}
    assert leaks(LEAKY_KEY, written) == []
    # The usage link's signature is a credential too, though not the configured key.
    assert leaks(usage_signature(LEAKY_KEY), written) == []
    # The fault did echo the key: where it was, the answers now say [REDACTED].
    answers = [e["response_excerpt"] for c in results["cases"] for e in c["exchanges"]]
    assert any(REDACTED in answer for answer in answers)


ASSEMBLED_CASES = """
import os

from chatconform.case import case
from chatconform.finding import make_finding


@case("openai/streaming/assembled", title="t", requirement="r", source="s")
def test_assembled(case, redactor):
    key = os.environ["LEAK_KEY"]
    # As a check would quote a streamed answer: whole only once the deltas are joined.
    joined = "".join([key[:5], key[5:9], key[9:]])
    case.note(f"the answer was {joined!r}")
    case.media["answer"] = joined.replace("/", "\\\\/")
    case.add([make_finding("openai.text.answer", f"Expected: 5\\nReceived: {joined}")])


@case("openai/streaming/stopped", title="t", requirement="r", source="s")
def test_stopped(case, redactor):
    case.inconclusive("stream stalled after " + os.environ["LEAK_KEY"])
"""


def test_text_assembled_from_pieces_is_redacted_in_every_output(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEAK_KEY", LEAKY_KEY)
    provider = pytester.path / "provider.json"
    provider.write_text(single("p", "http://127.0.0.1:9/v1", api_key_env="LEAK_KEY").to_json())
    pytester.makepyfile(test_cases=ASSEMBLED_CASES)
    out = pytester.path / "out"
    result = pytester.runpytest_subprocess(
        f"--cc-provider={provider}",
        f"--cc-report-dir={out}",
        "-rs",
        "-p",
        "no:cacheprovider",
    )
    cases = {c["id"]: c for c in json.loads((out / "results.json").read_text())["cases"]}
    assert cases["openai/streaming/assembled"]["verdict"] == "fail"
    assert cases["openai/streaming/assembled"]["media"] == {"answer": REDACTED}
    assert cases["openai/streaming/stopped"]["reason"] == f"stream stalled after {REDACTED}"
    written = outputs(out, *result.outlines, *result.errlines)
    assert leaks(LEAKY_KEY, written) == []
    # What the terminal shows of a failure is its findings, redacted too.
    assert any(f"Received: {REDACTED}" in line for line in result.outlines)
