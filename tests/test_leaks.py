"""Leak-proof evidence: a key the provider echoes back reaches no output, in any encoding.

End to end like the self-test (a reference server on loopback, `chatconform run`
in a subprocess), against each fault that echoes the key; through the recording
client, for a key spelt out by the tokens of a logprobs answer (their strings and
their bytes); and through the plugin alone, for text that only the assembled result
holds whole.
"""

from __future__ import annotations

import html
import itertools
import json
from pathlib import Path

import pytest
from leak_helpers import LEAKY_KEY, encodings, leaks, logprobs_leaks, outputs
from test_selftest import PACE_S, run_suite

from chatconform.archive import exchange_record
from chatconform.client import RecordingClient
from chatconform.config import single
from chatconform.redaction import REDACTED, Redactor
from chatconform.reference import FAULTS, ReferenceServer
from chatconform.reference.leaks import percent_encoded, usage_signature
from chatconform.reference.logprobs import choice_logprobs

pytest_plugins = ["pytester"]

KEY_ECHOES = sorted(name for name in FAULTS if name.startswith("key-echo-"))


def test_every_encoding_is_found_where_it_is() -> None:
    forms = encodings(LEAKY_KEY)
    assert len(forms) >= 10
    for name, form in forms.items():
        assert leaks(LEAKY_KEY, {"blob": b"<p>" + form + b"</p>"}) != [], name
    assert leaks(LEAKY_KEY, {"blob": f"{LEAKY_KEY[:-1]} {REDACTED}".encode()}) == []


def _logprobs_answer(pieces: list[str]) -> bytes:
    answer = {"choices": [{"index": 0, "logprobs": choice_logprobs(pieces, 2, frozenset())}]}
    return json.dumps(answer).encode()


@pytest.mark.parametrize("key", [LEAKY_KEY, percent_encoded(LEAKY_KEY)])
def test_a_key_spelt_out_by_logprobs_tokens_is_found_in_every_writing(key: str) -> None:
    cuts = [0, 3, 9, 10, 20, len(key)]
    pieces = ["5 (key: ", *(key[a:b] for a, b in itertools.pairwise(cuts)), ")"]
    answer = _logprobs_answer(pieces)
    # As the archive writes a body (JSON in JSON) and the report shows it (HTML).
    written = {
        "raw": answer,
        "archived": json.dumps({"body": {"text": answer.decode()}}).encode(),
        "html": html.escape(answer.decode()).encode(),
    }
    for where, blob in written.items():
        found = logprobs_leaks(LEAKY_KEY, blob)
        assert {name.split(":")[0] for name in found} == {"logprobs-tokens", "logprobs-bytes"}, (
            where
        )
    # Alone, the bytes of the key's tokens spell it too; what redaction leaves does not.
    in_bytes = [{"token": "x", "bytes": list(piece.encode())} for piece in pieces]
    found = logprobs_leaks(LEAKY_KEY, json.dumps({"content": in_bytes}).encode())
    assert {name.split(":")[0] for name in found} == {"logprobs-bytes"}
    assert logprobs_leaks(LEAKY_KEY, Redactor([LEAKY_KEY]).bytes(answer)) == []


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


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("fault", KEY_ECHOES)
def test_an_echoed_key_in_logprobs_reaches_no_recorded_byte(fault: str, stream: bool) -> None:
    # Streamed under key-echo-split-deltas, each chunk's logprobs hold a piece of the key.
    body = {
        "model": "reference-1",
        "messages": [{"role": "user", "content": "What is 2 + 3? Reply with the number only."}],
        "logprobs": True,
        "top_logprobs": 2,
        "stream": stream,
    }
    with (
        ReferenceServer(faults={fault}, api_key=LEAKY_KEY, pace_s=0) as server,
        RecordingClient(
            server.base_url,
            headers={"authorization": f"Bearer {LEAKY_KEY}"},
            redactor=Redactor([LEAKY_KEY]),
        ) as client,
    ):
        exchange = client.request("POST", "chat/completions", json=body, stream=stream)
    assert exchange.status == 200
    record = json.dumps(exchange_record(exchange)).encode()
    assert leaks(LEAKY_KEY, {"body": exchange.body, "archive": record}) == []
    # The key was echoed, in the answer's tokens: where it was, they now say [REDACTED].
    chunks = [json.loads(e.data) for e in exchange.events if e.data != "[DONE]"]
    tokens = [
        entry
        for chunk in (chunks if stream else [exchange.json_or_none()])
        for choice in chunk["choices"]
        for entry in (choice.get("logprobs") or {}).get("content") or []
    ]
    assert REDACTED in "".join(entry["token"] for entry in tokens)
    assert all(entry["bytes"] == list(entry["token"].encode()) for entry in tokens)


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
