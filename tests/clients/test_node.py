"""openai-node and the Vercel AI SDK over recorded exchanges: what each actually does with
faithful answers and with the deviations the catalog claims they break on.

The expectations are measured behaviour of the pinned versions (clients/node/package-lock.json),
not wishes: when an upgrade changes one, the test shows which client changed its mind.
Skipped when Node cannot run here, unless CHATCONFORM_REQUIRE_NODE=1 (CI has Node).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from chatconform.clients import node
from chatconform.clients.reading import Call, Job, Reading, ToolCall

DATA = Path(__file__).resolve().parents[1] / "data"
OPENAI = DATA / "openai"
ANTHROPIC = DATA / "anthropic"
JSON_HEADERS = {"content-type": "application/json", "x-request-id": "req_replayed"}
SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8"}
COUNTING = "1 2 3 4 5 6 7 8 9 10 11"
PARIS = {"city": "Paris", "unit": "celsius"}
TOKYO = {"city": "Tokyo", "unit": "celsius"}
BOTH_STREAMED: tuple[Call, ...] = ("stream", "helper")


def _weather_tool(name: str) -> dict[str, Any]:
    parameters = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["city"],
    }
    return {"type": "function", "function": {"name": name, "parameters": parameters}}


TEXT_REQUEST = {
    "model": "gpt-4o",
    "messages": [
        {"role": "developer", "content": "Answer briefly."},
        {"role": "user", "content": "Count from 1 to 11."},
    ],
    "max_completion_tokens": 64,
}
STRUCTURED_REQUEST = {
    **TEXT_REQUEST,
    "response_format": {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": {"type": "object"}},
    },
}
TOOL_REQUEST = {
    "model": "gpt-4o",
    "messages": [{"role": "user", "content": "Weather in Paris and Tokyo?"}],
    "tools": [_weather_tool("get_weather")],
    "max_completion_tokens": 64,
}


def _events(path: Path) -> tuple[bytes, ...]:
    """A recorded stream in the chunks it arrived in: one SSE event each."""
    return tuple(event + b"\n\n" for event in path.read_bytes().split(b"\n\n") if event.strip())


def _job(
    case_id: str,
    request: dict[str, Any],
    chunks: tuple[bytes, ...],
    calls: tuple[Call, ...],
    *,
    dialect: str = "openai",
    status: int = 200,
) -> Job:
    streamed = "stream" in calls
    return Job(
        case_id=case_id,
        dialect=dialect,
        exchange_index=0,
        method="POST",
        path="/v1/messages" if dialect == "anthropic" else "/v1/chat/completions",
        request_body={**request, "stream": True} if streamed else request,
        status=status,
        headers=SSE_HEADERS if streamed else JSON_HEADERS,
        chunks=chunks,
        calls=calls,
    )


JOBS = [
    _job("text", TEXT_REQUEST, ((OPENAI / "response_basic.json").read_bytes(),), ("create",)),
    _job(
        "tool-call",
        {**TOOL_REQUEST, "tools": [_weather_tool("get_current_weather")]},
        ((OPENAI / "response_tool_calls.json").read_bytes(),),
        ("create",),
    ),
    _job("stream", TEXT_REQUEST, _events(OPENAI / "stream_include_usage.sse"), BOTH_STREAMED),
    _job(
        "stream-tool-calls",
        TOOL_REQUEST,
        _events(OPENAI / "stream_tool_calls_parallel.sse"),
        BOTH_STREAMED,
    ),
    _job("no-done", TEXT_REQUEST, _events(OPENAI / "stream_no_done.sse"), BOTH_STREAMED),
    _job(
        "args-object",
        TOOL_REQUEST,
        ((OPENAI / "bodies" / "response_tool_call_args_object.json").read_bytes(),),
        ("create",),
    ),
    _job(
        "stream-args-object",
        TOOL_REQUEST,
        _events(OPENAI / "stream_tool_call_args_object.sse"),
        BOTH_STREAMED,
    ),
    _job(
        "index-missing",
        TOOL_REQUEST,
        _events(OPENAI / "stream_tool_calls_index_missing.sse"),
        BOTH_STREAMED,
    ),
    _job(
        "end-turn",
        TEXT_REQUEST,
        ((OPENAI / "bodies" / "response_finish_reason_end_turn.json").read_bytes(),),
        ("create",),
    ),
    _job(
        "stream-end-turn",
        TEXT_REQUEST,
        _events(OPENAI / "stream_finish_reason_end_turn.sse"),
        BOTH_STREAMED,
    ),
    _job("error-200", TEXT_REQUEST, ((OPENAI / "error_envelope.json").read_bytes(),), ("create",)),
    _job(
        "stream-error-event",
        TEXT_REQUEST,
        _events(OPENAI / "stream_error_event.sse"),
        BOTH_STREAMED,
    ),
    _job(
        "choice-index-missing",
        TEXT_REQUEST,
        _events(OPENAI / "stream_choice_index_missing.sse"),
        BOTH_STREAMED,
    ),
    _job(
        "two-choices",
        {**TEXT_REQUEST, "n": 2},
        ((OPENAI / "bodies" / "response_two_choices.json").read_bytes(),),
        ("create",),
    ),
    _job("cut", TEXT_REQUEST, _events(OPENAI / "stream_max_tokens_cut.sse"), BOTH_STREAMED),
    dataclasses.replace(
        _job("stalled", TEXT_REQUEST, _events(OPENAI / "stream_no_done.sse"), BOTH_STREAMED),
        ending="stalled",
    ),
    dataclasses.replace(
        _job("dropped", TEXT_REQUEST, _events(OPENAI / "stream_faithful.sse")[:5], BOTH_STREAMED),
        ending="dropped",
    ),
    _job(
        "structured-not-json",
        STRUCTURED_REQUEST,
        ((OPENAI / "response_basic.json").read_bytes(),),
        ("create", "parse"),
    ),
    _job(
        "error-404",
        TEXT_REQUEST,
        ((OPENAI / "error_envelope.json").read_bytes(),),
        ("create",),
        status=404,
    ),
    _job(
        "anthropic-text",
        json.loads((ANTHROPIC / "request_basic.json").read_text()),
        ((ANTHROPIC / "message_basic.json").read_bytes(),),
        ("create",),
        dialect="anthropic",
    ),
    _job(
        "anthropic-stream-tool-use",
        json.loads((ANTHROPIC / "request_tools_images.json").read_text()),
        _events(ANTHROPIC / "stream_faithful_tool_use.sse"),
        ("stream",),
        dialect="anthropic",
    ),
]


def _require_node() -> None:
    reason = node.available()
    if reason is None:
        return
    if os.environ.get("CHATCONFORM_REQUIRE_NODE") == "1":
        pytest.fail(f"CHATCONFORM_REQUIRE_NODE=1, but the Node clients cannot run: {reason}")
    pytest.skip(f"Node clients not available: {reason}")


@pytest.fixture(scope="module")
def readings() -> dict[tuple[str, str, str], Reading]:
    """Every job through every Node client, in one runner process."""
    _require_node()
    with pytest.MonkeyPatch.context() as patch:
        # The stalled job's clients are hung well before the 2 s a run gives them.
        patch.setattr(node, "STALLED_S", 0.5)
        return {(r.case_id, r.client, r.call): r for r in node.read(JOBS, timeout_s=20)}


def _works(reading: Reading) -> Reading:
    assert reading.error_type is None and not reading.hung, reading
    return reading


def _breaks(reading: Reading, error_type: str, says: str) -> None:
    assert reading.error_type == error_type, reading
    assert says in (reading.error_message or ""), reading


def test_each_job_gets_its_readings_in_job_order(readings: dict) -> None:
    listed = list(readings)
    # openai: openai-node's calls, then vercel-ai's one; anthropic: vercel-ai's one.
    # A request for n > 1 choices is none the AI SDK makes: openai-node's only.
    per_job = [
        1 if job.dialect == "anthropic" else len(job.calls) + (job.case_id != "two-choices")
        for job in JOBS
    ]
    assert [key[0] for key in listed] == [
        job.case_id for job, count in zip(JOBS, per_job, strict=True) for _ in range(count)
    ]
    assert listed[:2] == [("text", "openai-node", "create"), ("text", "vercel-ai", "create")]
    assert listed[4:7] == [
        ("stream", "openai-node", "stream"),
        ("stream", "openai-node", "helper"),
        ("stream", "vercel-ai", "stream"),
    ]
    # Anthropic exchanges: the AI SDK's Anthropic provider only.
    assert [key for key in listed if key[0].startswith("anthropic")] == [
        ("anthropic-text", "vercel-ai", "create"),
        ("anthropic-stream-tool-use", "vercel-ai", "stream"),
    ]
    assert all(reading.sent for reading in readings.values())
    reading = readings["text", "openai-node", "create"]
    assert reading.exchange_index == 0
    assert reading.client_version and reading.client_version[0].isdigit()


@pytest.mark.parametrize("client", ["openai-node", "vercel-ai"])
def test_a_faithful_completion_reads_the_same_everywhere(readings: dict, client: str) -> None:
    reading = _works(readings["text", client, "create"])
    assert reading.text == "Hello! How can I help you today?"
    assert reading.finish_reason == "stop"
    assert (reading.input_tokens, reading.output_tokens) == (19, 10)


@pytest.mark.parametrize("client", ["openai-node", "vercel-ai"])
def test_a_faithful_tool_call_comes_back_with_parsed_arguments(readings: dict, client: str) -> None:
    reading = _works(readings["tool-call", client, "create"])
    (call,) = reading.tool_calls
    assert (call.id, call.name, call.arguments) == (
        "call_abc123",
        "get_current_weather",
        {"location": "Boston, MA"},
    )
    assert reading.finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("client", "call"),
    [("openai-node", "stream"), ("openai-node", "helper"), ("vercel-ai", "stream")],
)
@pytest.mark.parametrize("case_id", ["stream", "no-done"])
def test_a_stream_reads_whole_with_or_without_done(
    readings: dict, case_id: str, client: str, call: str
) -> None:
    # Without [DONE] the stream simply ends: none of the clients waits for the sentinel.
    reading = _works(readings[case_id, client, call])
    assert reading.text == COUNTING
    assert reading.finish_reason == "stop"
    assert (reading.input_tokens, reading.output_tokens) == (22, 11)


@pytest.mark.parametrize(
    ("client", "call"),
    [("openai-node", "stream"), ("openai-node", "helper"), ("vercel-ai", "stream")],
)
def test_streamed_parallel_tool_calls_are_reassembled(
    readings: dict, client: str, call: str
) -> None:
    reading = _works(readings["stream-tool-calls", client, call])
    assert [(c.name, c.arguments) for c in reading.tool_calls] == [
        ("get_weather", PARIS),
        ("get_weather", TOKYO),
    ]
    assert reading.finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("case_id", "call"),
    [("args-object", "create"), ("stream-args-object", "stream"), ("stream-args-object", "helper")],
)
def test_openai_node_hands_object_arguments_on_unparseable(
    readings: dict, case_id: str, call: str
) -> None:
    # No error from the client: the application's JSON.parse meets "[object Object]".
    reading = _works(readings[case_id, "openai-node", call])
    assert [(c.name, c.arguments, c.raw) for c in reading.tool_calls] == [
        ("get_weather", None, "[object Object]")
    ]


@pytest.mark.parametrize(
    ("case_id", "call"), [("args-object", "create"), ("stream-args-object", "stream")]
)
def test_vercel_ai_rejects_object_arguments(readings: dict, case_id: str, call: str) -> None:
    # Its zod schema of the response wants a string: the whole answer is refused.
    error = "AI_APICallError" if call == "create" else "AI_TypeValidationError"
    said = '"arguments" ], "message": "Invalid input: expected string, received object"'
    _breaks(readings[case_id, "vercel-ai", call], error, said)


def test_tool_call_deltas_without_index(readings: dict) -> None:
    # Gathered by `index` as the docs show, every delta lands on one call: merged.
    merged = _works(readings["index-missing", "openai-node", "stream"])
    assert merged.tool_calls == (
        ToolCall(
            id="call_Q7fJd2WnE5uYaK0oVt6gMrC3",
            name="get_weatherget_weather",
            arguments=None,
            raw=json.dumps(PARIS, separators=(",", ":")) + json.dumps(TOKYO, separators=(",", ":")),
        ),
    )
    # The stream helper drops them silently: no call, yet finish_reason says tool_calls.
    dropped = _works(readings["index-missing", "openai-node", "helper"])
    assert (dropped.tool_calls, dropped.finish_reason) == ((), "tool_calls")
    said = '"tool_calls", 0, "index" ], "message": "Invalid input: expected number'
    _breaks(readings["index-missing", "vercel-ai", "stream"], "AI_TypeValidationError", said)


@pytest.mark.parametrize(
    ("case_id", "call"),
    [("end-turn", "create"), ("stream-end-turn", "stream"), ("stream-end-turn", "helper")],
)
def test_end_turn_passes_through_openai_node(readings: dict, case_id: str, call: str) -> None:
    reading = _works(readings[case_id, "openai-node", call])
    assert reading.finish_reason == "end_turn"


@pytest.mark.parametrize(
    ("case_id", "call"), [("end-turn", "create"), ("stream-end-turn", "stream")]
)
def test_end_turn_is_other_to_vercel_ai(readings: dict, case_id: str, call: str) -> None:
    # The answer is all there, but an application testing for "stop" sees an odd ending.
    reading = _works(readings[case_id, "vercel-ai", call])
    assert reading.finish_reason == "other"
    assert reading.text


def test_an_error_envelope_with_status_200(readings: dict) -> None:
    # openai-node returns the envelope as a completion: the application's choices[0] throws.
    _breaks(readings["error-200", "openai-node", "create"], "TypeError", "reading '0'")
    said = '"choices" ], "message": "Invalid input: expected array, received undefined"'
    _breaks(readings["error-200", "vercel-ai", "create"], "AI_APICallError", said)


def test_an_error_event_mid_stream(readings: dict) -> None:
    for call in BOTH_STREAMED:
        _breaks(
            readings["stream-error-event", "openai-node", call],
            "APIError",
            "upstream connection reset",
        )
    # The AI SDK hands the provider's error object itself to onError, not an Error.
    _breaks(
        readings["stream-error-event", "vercel-ai", "stream"],
        "Object",
        '"upstream connection reset"',
    )


def test_anthropic_messages_through_the_ai_sdk(readings: dict) -> None:
    text = _works(readings["anthropic-text", "vercel-ai", "create"])
    assert (text.text, text.finish_reason) == ("Hello! How can I help you today?", "stop")
    tool_use = _works(readings["anthropic-stream-tool-use", "vercel-ai", "stream"])
    assert [(c.name, c.arguments) for c in tool_use.tool_calls] == [
        ("get_weather", {"location": "Paris, France", "unit": "celsius"})
    ]
    assert tool_use.finish_reason == "tool_calls"


def test_a_call_without_an_answer_is_hung(monkeypatch: pytest.MonkeyPatch) -> None:
    _require_node()
    send = node._Handler._send

    def slow(handler: node._Handler, job: Job) -> None:
        time.sleep(1.5)
        send(handler, job)

    monkeypatch.setattr(node._Handler, "_send", slow)
    readings = node.read(JOBS[:1], timeout_s=0.5)
    assert [(r.client, r.hung) for r in readings] == [("openai-node", True), ("vercel-ai", True)]
    assert readings[0].error_message == "no answer within 0.5 s"


def test_without_node_the_reason_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    node._prepared.cache_clear()
    try:
        reason = node.available()
    finally:
        node._prepared.cache_clear()
    assert reason is not None and reason.startswith("node is not on PATH")
    assert "Node.js >= 18.17" in reason and "\n" not in reason
    with pytest.raises(node.NodeRunnerError, match="node is not on PATH"):
        node.read(JOBS, timeout_s=1)
    node._prepared.cache_clear()


# The harness's own bounds, with stand-in runners (the libraries cannot be made to block
# the process or die on demand).
_BLOCKING_RUNNER = """
import { readFileSync } from "node:fs";
const say = (record) => process.stdout.write("@chatconform " + JSON.stringify(record) + "\\n");
const { calls } = JSON.parse(readFileSync(process.argv[2], "utf8"));
say({ ready: true });
for (const call of calls) {
  if (call.id === 1) for (;;) {}
  say({ id: call.id, text: `call ${call.id}` });
}
"""
_DYING_RUNNER = """
process.stderr.write("something went wrong\\nError: the runner gave up\\n");
process.exit(3);
"""


def _stand_in(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: str) -> None:
    (tmp_path / "runner.mjs").write_text(source)
    monkeypatch.setattr(node, "RUNNER_DIR", tmp_path)


def test_a_call_that_blocks_node_is_hung_and_the_rest_still_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _require_node()
    _stand_in(monkeypatch, tmp_path, _BLOCKING_RUNNER)
    monkeypatch.setattr(node, "GRACE_S", 0.5)
    readings = node.read(JOBS[:2], timeout_s=0.5)
    assert [(r.text, r.hung) for r in readings] == [
        ("call 0", False),
        (None, True),
        ("call 2", False),
        ("call 3", False),
    ]
    assert readings[1].error_message == "blocked the Node process for over 1 s"


_EXITING_RUNNER = """
import { readFileSync } from "node:fs";
const say = (record) => process.stdout.write("@chatconform " + JSON.stringify(record) + "\\n");
const { calls } = JSON.parse(readFileSync(process.argv[2], "utf8"));
say({ ready: true });
for (const call of calls) {
  if (call.id === 1) process.exit(0);
  say({ id: call.id, text: `call ${call.id}` });
}
"""


def test_a_call_that_ends_the_node_process_breaks_and_the_rest_still_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An application's process gone in the middle of a call: that call breaks (as a
    deeply nested answer once ended the runner), and the calls after it are still made."""
    _require_node()
    _stand_in(monkeypatch, tmp_path, _EXITING_RUNNER)
    readings = node.read(JOBS[:2], timeout_s=5)
    assert [(r.text, r.error_type) for r in readings] == [
        ("call 0", None),
        (None, "ProcessExit"),
        ("call 2", None),
        ("call 3", None),
    ]
    assert readings[1].error_message == (
        "the Node process ended during this call: exit status 0: no output"
    )


def test_a_runner_that_dies_is_one_line_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _require_node()
    _stand_in(monkeypatch, tmp_path, _DYING_RUNNER)
    with pytest.raises(node.NodeRunnerError) as raised:
        node.read(JOBS[:1], timeout_s=5)
    assert str(raised.value) == (
        "the Node client runner stopped before its first call "
        "(exit status 3: Error: the runner gave up)"
    )


@pytest.mark.parametrize(
    ("client", "call"),
    [("openai-node", "stream"), ("openai-node", "helper"), ("vercel-ai", "stream")],
)
def test_an_answer_cut_by_max_tokens_reads_as_length(
    readings: dict, client: str, call: str
) -> None:
    # Unlike openai-python's helper, openai-node's does not raise on finish_reason "length".
    reading = _works(readings["cut", client, call])
    assert (reading.text, reading.finish_reason) == ("1 2 3 4 5", "length")


@pytest.mark.parametrize(
    ("client", "call"),
    [("openai-node", "stream"), ("openai-node", "helper"), ("vercel-ai", "stream")],
)
def test_a_stalled_stream_hangs_every_client(readings: dict, client: str, call: str) -> None:
    reading = readings["stalled", client, call]
    assert reading.hung and reading.error_message == node.STALLED


def test_a_dropped_connection(readings: dict) -> None:
    said = "terminated (cause: SocketError: other side closed)"
    _breaks(readings["dropped", "openai-node", "stream"], "TypeError", said)
    _breaks(readings["dropped", "openai-node", "helper"], "OpenAIError", "terminated")
    dropped = readings["dropped", "vercel-ai", "stream"]
    _breaks(dropped, "AI_APICallError", "Failed to process successful response")
    assert dropped.status == 200


def test_a_structured_answer_that_is_not_json(readings: dict) -> None:
    for client in ("openai-node", "vercel-ai"):
        assert _works(readings["structured-not-json", client, "create"]).text
    _breaks(
        readings["structured-not-json", "openai-node", "parse"], "SyntaxError", "not valid JSON"
    )


def test_an_error_status_is_a_typed_error_with_its_status(readings: dict) -> None:
    said = "The model `gpt-9` does not exist"
    _breaks(readings["error-404", "openai-node", "create"], "NotFoundError", said)
    _breaks(readings["error-404", "vercel-ai", "create"], "AI_APICallError", said)
    assert {readings["error-404", c, "create"].status for c in ("openai-node", "vercel-ai")} == {
        404
    }


def test_chunks_without_a_choice_index(readings: dict) -> None:
    # Read as the first choice by the application; the helper's own accumulator throws
    # where nothing can catch it (an unhandled rejection ends a Node process by default).
    assert _works(readings["choice-index-missing", "openai-node", "stream"]).text
    said = "unhandled, ends the application: stream ended without producing a ChatCompletionMessage"
    _breaks(readings["choice-index-missing", "openai-node", "helper"], "OpenAIError", said)
    said = '"index" ], "message": "Invalid input: expected number, received undefined"'
    _breaks(readings["choice-index-missing", "vercel-ai", "stream"], "AI_TypeValidationError", said)


def test_two_choices_read_as_the_first(readings: dict) -> None:
    first = json.loads((OPENAI / "bodies" / "response_two_choices.json").read_text())["choices"][0]
    assert (
        _works(readings["two-choices", "openai-node", "create"]).text == first["message"]["content"]
    )
