"""openai-python and anthropic-sdk-python on recorded answers, faithful and deviating."""

from __future__ import annotations

import time

import pytest
from recorded import answered, sample, streamed

from chatconform.clients import python
from chatconform.clients.jobs import job_of
from chatconform.clients.outcome import outcome
from chatconform.exchange import Exchange

pytestmark = pytest.mark.skipif(
    python.available() is not None, reason="the Python client libraries are not installed"
)


def outcomes(dialect: str, exchange: Exchange, timeout_s: float = 10.0) -> dict[str, str]:
    """Each call's outcome on the exchange: ``{"stream": "works", ...}``."""
    job = job_of("case", dialect, 0, exchange)
    assert job is not None and job.expected is not None
    readings = python.read([job], timeout_s)
    assert {(r.case_id, r.exchange_index) for r in readings} == {("case", 0)}
    return {r.call: outcome(job.expected, r).kind for r in readings}


def details(dialect: str, exchange: Exchange) -> dict[str, str]:
    job = job_of("case", dialect, 0, exchange)
    assert job is not None and job.expected is not None
    return {r.call: outcome(job.expected, r).detail for r in python.read([job], 10.0)}


@pytest.mark.parametrize(
    "sample_file",
    [
        "openai/stream_faithful.sse",
        "openai/stream_tool_calls_parallel.sse",
        "openai/stream_include_usage.sse",
        # Deviations both clients tolerate.
        "openai/stream_no_done.sse",
        "openai/stream_first_delta_no_role.sse",
    ],
)
def test_openai_streams_the_client_reads_as_the_suite_does_work(sample_file: str) -> None:
    assert outcomes("openai", streamed("openai", sample_file)) == {
        "stream": "works",
        "helper": "works",
    }


def test_faithful_answers_and_error_envelopes_work() -> None:
    assert outcomes("openai", answered("openai", sample("openai/response_tool_calls.json"))) == {
        "create": "works"
    }
    assert outcomes("openai", answered("openai", sample("openai/error_envelope.json"), 404)) == {
        "create": "works"
    }
    for exchange in (
        streamed("anthropic", "anthropic/stream_faithful_text.sse"),
        streamed("anthropic", "anthropic/stream_faithful_tool_use.sse"),
    ):
        assert outcomes("anthropic", exchange) == {"helper": "works"}
    assert outcomes(
        "anthropic", answered("anthropic", sample("anthropic/message_tool_use.json"))
    ) == {"create": "works"}
    error = answered("anthropic", sample("anthropic/error_not_found.json"), 404)
    assert outcomes("anthropic", error) == {"create": "works"}


def test_a_wrong_chunk_object_breaks_the_stream_helper_only() -> None:
    exchange = streamed("openai", "openai/stream_chunk_object_wrong.sse")
    assert outcomes("openai", exchange) == {"stream": "works", "helper": "breaks"}
    # An assert without a message is shown by where it failed.
    assert "openai/lib/streaming" in details("openai", exchange)["helper"]


def test_tool_arguments_as_an_object_break_the_loop_and_read_wrong_in_the_helper() -> None:
    exchange = streamed("openai", "openai/stream_tool_call_args_object.sse")
    assert outcomes("openai", exchange) == {"stream": "breaks", "helper": "wrong"}


def test_tool_call_deltas_without_index_are_merged_or_break() -> None:
    exchange = streamed("openai", "openai/stream_tool_calls_index_missing.sse")
    assert outcomes("openai", exchange) == {"stream": "wrong", "helper": "breaks"}
    assert "merged" in details("openai", exchange)["stream"]


def test_cumulative_deltas_read_as_repeated_text() -> None:
    exchange = streamed("openai", "openai/stream_cumulative_deltas.sse")
    assert set(details("openai", exchange).values()) == {
        "repeated text: 124 characters for an answer of 23"
    }


def test_anthropic_streams_the_helper_cannot_build_break_it() -> None:
    for sample_file in (
        "anthropic/stream_event_lines_missing.sse",
        "anthropic/stream_index_gap.sse",
        "anthropic/stream_message_start_incomplete.sse",
    ):
        assert outcomes("anthropic", streamed("anthropic", sample_file)) == {"helper": "breaks"}


def test_an_error_body_with_status_200_breaks() -> None:
    exchange = answered("openai", sample("openai/error_envelope.json"), 200)
    assert outcomes("openai", exchange) == {"create": "breaks"}


def test_a_stalled_stream_hangs_without_waiting_for_the_bound() -> None:
    exchange = streamed("openai", "openai/stream_truncated.sse", error="stalled: no data for 3 s")
    started = time.monotonic()
    assert outcomes("openai", exchange, timeout_s=30.0) == {"stream": "hangs", "helper": "hangs"}
    assert time.monotonic() - started < 10.0


def test_a_dropped_connection_breaks() -> None:
    exchange = streamed("openai", "openai/stream_truncated.sse", error="RemoteProtocolError: x")
    assert outcomes("openai", exchange) == {"stream": "breaks", "helper": "breaks"}
