"""Replay jobs from a run: each recorded chat answer, the calls an application would make
for it, and what the suite itself read from it.

A job is made of every exchange a client library could have received: a POST to the
dialect's chat endpoint (``/chat/completions``, ``/v1/messages``) that got a response,
streamed or not, successful or an error status (a client must raise its typed API error
for those, and that is its correct behaviour). Exchanges the suite cut short (an answer
far over its cap, a body over the size limit, a total timeout) hold no whole response
and make no job: a client's outcome for them would be made up.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chatconform import archive
from chatconform.clients.reading import Call, Ending, Expected, Job, ToolCall
from chatconform.dialects.anthropic import reply as anthropic_reply
from chatconform.dialects.openai import reply as openai_reply
from chatconform.dialects.openai.checks.streaming import deltas_are_incremental
from chatconform.dialects.openai.stream import choices, parse
from chatconform.exchange import Exchange, load_json
from chatconform.reply import Reply
from chatconform.results import RESULTS_FILE
from chatconform.sse import SSEDecoder

# The chat endpoint of each dialect, as the path of the request URL ends.
ENDPOINTS = {"openai": "/chat/completions", "anthropic": "/v1/messages"}
# A blank line ends an event (WHATWG SSE: CRLF, LF or CR end a line; a CRLF is one end).
_EVENT_END = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")
# Response headers that describe the recorded bytes' transfer, not the entity: the body is
# stored decoded (and redacted), so they would no longer be true of it.
_TRANSFER_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding"})
# The provider's own error text is compared with what a client's error shows on its first
# characters: clients may quote it whole, escaped (a Python dict's repr) or cut.
ERROR_MESSAGE_CHARS = 120


@dataclass(frozen=True)
class RunJobs:
    """The jobs of a run, and the run's cases by id (dialect and scorecard row)."""

    jobs: list[Job]
    cases: dict[str, dict[str, Any]]


def run_jobs(run_dir: Path) -> RunJobs:
    """The jobs of a run directory, from its wire archive and results.json; raises
    ``archive.ArchiveError`` or ``ValueError`` (one line) when they cannot be read."""
    recorded = archive.load(run_dir / archive.ARCHIVE_FILE)
    try:
        results = json.loads((run_dir / RESULTS_FILE).read_text(encoding="utf-8"))
        cases = {c["id"]: c for c in results["cases"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{run_dir / RESULTS_FILE} cannot be read: {exc}") from None
    return RunJobs(jobs_of(recorded, cases), cases)


def jobs_of(recorded: archive.Archive, cases: dict[str, dict[str, Any]]) -> list[Job]:
    """The jobs of every case of ``cases`` that the archive holds, in case order."""
    jobs = []
    for case_id in sorted(cases):
        case = cases[case_id]
        dialect = case.get("dialect")
        if dialect not in ENDPOINTS or case_id not in recorded.cases:
            continue
        row = f"{dialect}/{case.get('capability', '')}"
        for n, exchange in enumerate(recorded.exchanges(case_id)):
            job = job_of(case_id, dialect, n, exchange, row)
            if job is not None:
                jobs.append(job)
    return jobs


def job_of(
    case_id: str, dialect: str, index: int, exchange: Exchange, capability: str = ""
) -> Job | None:
    """The job of one recorded exchange, or None when no client call could receive it."""
    request = exchange.request
    path = urlsplit(request.url).path
    if request.method != "POST" or not path.endswith(ENDPOINTS[dialect]):
        return None
    if exchange.status is None or exchange.truncated or exchange.cut or not _whole(exchange):
        return None
    try:
        body = load_json(request.body.decode("utf-8")) if request.body else None
    except (ValueError, UnicodeDecodeError):
        body = None  # a case that sends a broken body on purpose: its answer still counts
    return Job(
        case_id=case_id,
        dialect=dialect,
        exchange_index=index,
        method=request.method,
        path=path,
        request_body=body,
        status=exchange.status,
        headers={k: v for k, v in exchange.headers.items() if k.lower() not in _TRANSFER_HEADERS},
        chunks=recorded_chunks(exchange),
        calls=_calls(dialect, exchange, body),
        expected=expected_of(dialect, exchange),
        ending=_ending(exchange),
        capability=capability,
    )


def _whole(exchange: Exchange) -> bool:
    """Whether the recording tells how the response ended: not when the suite gave up on
    one still arriving (its total timeout), since what came next is unknown."""
    return not (exchange.error or "").startswith("total timeout")


def _ending(exchange: Exchange) -> Ending | None:
    """How the response ended: None (cleanly), stalled (no more data) or dropped."""
    error = exchange.error
    if error is None:
        return None
    return "stalled" if error.startswith("stalled") else "dropped"


def _calls(dialect: str, exchange: Exchange, body: Any) -> tuple[Call, ...]:
    """What an application calls for this exchange: for a stream, iterating it and the
    SDK's accumulating helper; else ``create``, and openai-python's ``parse`` where the
    request asked for a json_schema answer."""
    if exchange.streamed:
        return ("stream", "helper")
    fmt = body.get("response_format") if isinstance(body, dict) else None
    if dialect == "openai" and isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        return ("create", "parse")
    return ("create",)


def recorded_chunks(exchange: Exchange) -> tuple[bytes, ...]:
    """The body in the pieces it arrived in, as far as the recording tells: a stream's
    events grouped by arrival time (events that arrived at once came in one read), the
    bytes after the last event as the last piece; any other body whole."""
    body = exchange.body
    if not exchange.streamed or not exchange.events:
        return (body,) if body else ()
    times = [event.t for event in exchange.events]
    chunks: list[bytes] = []
    current = bytearray()
    dispatched = 0
    start = 0
    for end in _EVENT_END.finditer(body):
        segment = body[start : end.end()]
        start = end.end()
        current += segment
        dispatched += len(SSEDecoder().feed(segment))
        if dispatched and (dispatched >= len(times) or times[dispatched] != times[dispatched - 1]):
            chunks.append(bytes(current))
            current.clear()
    current += body[start:]
    if current:
        chunks.append(bytes(current))
    return tuple(chunks)


def expected_of(dialect: str, exchange: Exchange) -> Expected:
    """What the suite read from the exchange: the dialect's reply, or for an error status
    the provider's own error message."""
    status = exchange.status or 0
    if not 200 <= status < 300:
        return Expected(status=status, error_message=provider_error_message(exchange))
    reply: Reply = (openai_reply if dialect == "openai" else anthropic_reply).read(exchange)
    text = reply.text
    if dialect == "openai" and exchange.streamed and any(deltas_are_incremental(exchange)):
        # Each delta repeats the text so far (openai.stream.cumulative-deltas): the
        # answer the provider meant is its last delta, not their concatenation.
        text = _last_content_delta(exchange) or text
    return Expected(
        status=status,
        text=text,
        tool_calls=tuple(
            ToolCall(call.id, call.name, call.parsed(), call.arguments) for call in reply.tool_calls
        ),
        finish_reason=reply.stop_reason,
        input_tokens=reply.usage.input_tokens if reply.usage else None,
        output_tokens=reply.usage.output_tokens if reply.usage else None,
    )


def _last_content_delta(exchange: Exchange) -> str:
    last = ""
    for _, chunk in parse(exchange).chunks:
        for entry in choices(chunk):
            delta = entry.get("delta")
            content = delta.get("content") if isinstance(delta, dict) else None
            if entry.get("index", 0) == 0 and isinstance(content, str) and content:
                last = content
    return last


def provider_error_message(exchange: Exchange) -> str | None:
    """The message the provider gave with an error status, where a client can find one:
    the envelope's ``error.message`` (both dialects), an ``error`` string or a top-level
    ``message``; None for any other body (plain text, an HTML page), which clients show
    as they can."""
    payload = exchange.json_or_none()
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    for candidate in (
        error.get("message") if isinstance(error, dict) else error,
        payload.get("message"),
    ):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()[:ERROR_MESSAGE_CHARS]
    return None
