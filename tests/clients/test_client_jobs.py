"""Replay jobs from recorded exchanges: which exchanges, which calls, what the suite read."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from recorded import answered, request, sample, streamed

from chatconform import archive
from chatconform.clients.jobs import job_of, recorded_chunks, run_jobs
from chatconform.dialects.openai import reply
from chatconform.exchange import Exchange, RecordedRequest
from chatconform.results import RESULTS_FILE


def test_a_stream_is_served_in_its_recorded_reads_and_iterated_and_accumulated() -> None:
    exchange = streamed("openai", "openai/stream_faithful.sse")
    job = job_of("openai/streaming/a", "openai", 2, exchange, "openai/streaming")
    assert job is not None
    assert job.calls == ("stream", "helper")
    assert (job.status, job.exchange_index, job.capability) == (200, 2, "openai/streaming")
    assert b"".join(job.chunks) == exchange.body
    # One event every 10 ms: one read each.
    assert len(job.chunks) == len(exchange.events)
    assert job.expected is not None and job.expected.text == reply.read(exchange).text != ""
    assert job.expected.finish_reason == "stop"


def test_events_that_arrived_together_are_one_read() -> None:
    exchange = streamed("openai", "openai/stream_faithful.sse")
    exchange.events = [dataclasses.replace(e, t=0.0) for e in exchange.events]
    assert recorded_chunks(exchange) == (exchange.body,)


def test_cumulative_deltas_are_read_as_the_answer_the_provider_meant() -> None:
    exchange = streamed("openai", "openai/stream_cumulative_deltas.sse")
    job = job_of("c", "openai", 0, exchange)
    assert job is not None and job.expected is not None
    assert len(job.expected.text) < len(reply.read(exchange).text)
    assert reply.read(exchange).text.endswith(job.expected.text)


def test_tool_calls_are_expected_with_their_arguments_parsed() -> None:
    job = job_of("c", "openai", 0, answered("openai", sample("openai/response_tool_calls.json")))
    assert job is not None and job.expected is not None
    (call,) = job.expected.tool_calls
    assert (call.name, call.arguments) == ("get_current_weather", {"location": "Boston, MA"})
    assert job.calls == ("create",)


def test_an_error_status_expects_the_typed_error_with_the_providers_message() -> None:
    job = job_of("c", "openai", 0, answered("openai", sample("openai/error_envelope.json"), 404))
    assert job is not None and job.expected is not None
    assert job.expected.is_error and job.expected.status == 404
    assert job.expected.error_message is not None
    assert job.expected.error_message.startswith("The model `gpt-9` does not exist")
    # A body that is no JSON holds no message a client could be asked to show.
    for body in (b"upstream timed out\n", b"<html>502</html>"):
        plain = job_of("c", "openai", 0, answered("openai", body, 502))
        assert plain is not None and plain.expected is not None
        assert plain.expected.error_message is None


def test_a_json_schema_request_is_also_parsed() -> None:
    schema = {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}}
    job = job_of("c", "openai", 0, answered("openai", {}, response_format=schema))
    assert job is not None and job.calls == ("create", "parse")


def test_only_whole_answers_of_the_chat_endpoint_are_replayed() -> None:
    models = Exchange(
        request=RecordedRequest("GET", "http://provider.test/v1/models", {}),
        status=200,
        body=b"{}",
    )
    assert job_of("c", "openai", 0, models) is None
    assert job_of("c", "openai", 0, Exchange(request=request("openai"), error="refused")) is None
    for cut in (
        {"truncated": True},
        {"cut": "far over the cap"},
        {"error": "total timeout: response still arriving after 120 s"},
    ):
        exchange = dataclasses.replace(answered("openai", {}), **cut)
        assert job_of("c", "openai", 0, exchange) is None, cut
    stalled = streamed("openai", "openai/stream_truncated.sse", error="stalled: no data")
    dropped = streamed("openai", "openai/stream_truncated.sse", error="RemoteProtocolError: x")
    assert [job_of("c", "openai", 0, e).ending for e in (stalled, dropped)] == [  # type: ignore[union-attr]
        "stalled",
        "dropped",
    ]


def test_a_run_directory_gives_the_jobs_of_its_cases(tmp_path: Path) -> None:
    exchange = streamed("anthropic", "anthropic/stream_faithful_text.sse")
    archive.append_case(tmp_path, "main", "anthropic/text/a", [archive.exchange_record(exchange)])
    archive.assemble(tmp_path, {"provider": {}})
    cases = [{"id": "anthropic/text/a", "dialect": "anthropic", "capability": "text"}]
    (tmp_path / RESULTS_FILE).write_text(json.dumps({"cases": cases}))
    found = run_jobs(tmp_path)
    (job,) = found.jobs
    assert (job.case_id, job.dialect, job.capability) == (
        "anthropic/text/a",
        "anthropic",
        "anthropic/text",
    )
    assert job.expected is not None and job.expected.text != ""
