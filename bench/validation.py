"""Throughput of stream chunk decoding and schema validation, side by side with json.loads.

A long stream (5,000 chunks by default, a long reasoning answer) of realistic OpenAI
chat.completion.chunk payloads and Anthropic stream events, once valid and once with a
deviation on every chunk, is decoded from SSE bytes (one network read per event, as a
paced stream arrives) and validated by each candidate: jsonschema as the harness used it
before (every error, explained), a jsonschema validator built once with the registry
resolved (is_valid), fastjsonschema (`pip install fastjsonschema` to compare; not a
dependency: draft 7, it ignores a $ref's siblings), jsonschema-rs, and what the harness
ships (``schema_errors``: jsonschema-rs, jsonschema explaining what it rejects). Each row is
chunks per CPU second on one core and its ratio to json.loads alone. Goal (issue 12): decode +
validation at least 50,000 chunks/s and at least a fifth of json.loads alone.

Run by hand (`make bench`); never part of `make test`.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from chatconform import schemas
from chatconform.exchange import load_json
from chatconform.sse import SSEDecoder

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
GOAL_CHUNKS_PER_S = 50_000
GOAL_RATIO = 0.2
WORDS = ("the", "model", "reasons", "about", "each", "step", "before", "it", "answers", ".")

Validate = Callable[[Any], object]


def sample(dialect: str, name: str) -> dict[str, Any]:
    return json.loads((DATA / dialect / name).read_text(encoding="utf-8"))


def text(i: int) -> str:
    return " " + WORDS[i % len(WORDS)]


def openai_stream(chunks: int) -> list[tuple[str | None, dict[str, Any]]]:
    """A role chunk, content chunks, the finish chunk and the include_usage chunk."""
    content = sample("openai", "chunk_content.json")
    body = []
    for i in range(chunks - 3):
        chunk = copy.deepcopy(content)
        chunk["choices"][0]["delta"]["content"] = text(i)
        body.append(chunk)
    last = copy.deepcopy(content)
    last["choices"][0]["delta"] = {}
    last["choices"][0]["finish_reason"] = "stop"
    payloads = [sample("openai", "chunk_first_role.json"), *body, last]
    payloads.append(sample("openai", "chunk_final_usage.json"))
    return [(None, payload) for payload in payloads]


def openai_deviant(stream: list[tuple[str | None, dict[str, Any]]]) -> list:
    """Every chunk typed as a whole completion, as some gateways send them."""
    return [(event, {**payload, "object": "chat.completion"}) for event, payload in stream]


def anthropic_stream(chunks: int) -> list[tuple[str | None, dict[str, Any]]]:
    """message_start, a text block of deltas, message_delta and message_stop."""
    names = ["message_start", "content_block_start_text", "ping"]
    events = [sample("anthropic", f"event_{name}.json") for name in names]
    delta = sample("anthropic", "event_content_block_delta_text.json")
    for i in range(chunks - 6):
        event = copy.deepcopy(delta)
        event["delta"]["text"] = text(i)
        events.append(event)
    names = ["content_block_stop", "message_delta", "message_stop"]
    events += [sample("anthropic", f"event_{name}.json") for name in names]
    return [(event["type"], event) for event in events]


def anthropic_deviant(stream: list[tuple[str | None, dict[str, Any]]]) -> list:
    """Every text delta carrying its text under OpenAI's name, content."""
    deviant = []
    for name, event in stream:
        if name == "content_block_delta":
            event = {**event, "delta": {"type": "text_delta", "content": event["delta"]["text"]}}
        deviant.append((name, event))
    return deviant


def reads(stream: list[tuple[str | None, dict[str, Any]]], done: bool) -> list[bytes]:
    """The stream's SSE bytes, one read per event."""
    out = []
    for name, payload in stream:
        head = f"event: {name}\n" if name else ""
        out.append(f"{head}data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode())
    if done:
        out.append(b"data: [DONE]\n\n")
    return out


def fastjsonschema_validator(dialect: str, name: str) -> Validate | None:
    """fastjsonschema compiled from the same files (its own $ref loader), format checks off."""
    try:
        import fastjsonschema
    except ImportError:
        return None
    files = (schemas.SCHEMA_DIR / dialect).glob("*.schema.json")
    documents = {doc["$id"]: doc for doc in (json.loads(f.read_text("utf-8")) for f in files)}
    schema = documents[f"https://chatconform.dev/schemas/{dialect}/{name}.schema.json"]
    check = fastjsonschema.compile(
        schema, handlers={"https": documents.__getitem__}, use_formats=False, use_default=False
    )

    def is_valid(instance: Any) -> bool:
        try:
            check(instance)
        except fastjsonschema.JsonSchemaValueException:
            return False
        return True

    return is_valid


def candidates(dialect: str, name: str) -> Iterator[tuple[str, Validate | None]]:
    yield "jsonschema as before", lambda i: schemas.explained_errors(dialect, name, i)
    yield "jsonschema built once, is_valid", schemas.validator(dialect, name).is_valid
    yield "fastjsonschema", fastjsonschema_validator(dialect, name)
    compiled = schemas.compiled_validator(dialect, name)
    yield "jsonschema-rs, is_valid", None if compiled is None else compiled.is_valid
    yield "shipped: schema_errors", lambda i: schemas.schema_errors(dialect, name, i)


def rate(run: Callable[[], int], seconds: float) -> float:
    """Items per CPU second of ``run`` (which returns how many it handled): the best of the
    passes that fit in ``seconds`` of CPU (at least one). CPU time, not wall time, so other
    work on a shared machine does not count against a row."""
    best, spent = 0.0, 0.0
    while spent < seconds:
        started = time.process_time()
        count = run()
        elapsed = time.process_time() - started
        best, spent = max(best, count / elapsed), spent + elapsed
    return best


def decode_only(stream_reads: list[bytes]) -> int:
    decoder = SSEDecoder()
    return sum(len(decoder.feed(read)) for read in stream_reads)


def decode_and(stream_reads: list[bytes], validate: Validate | None) -> int:
    """Decode, parse (as the harness parses provider JSON) and validate every chunk."""
    decoder, count = SSEDecoder(), 0
    for read in stream_reads:
        for event in decoder.feed(read):
            if event.data == "[DONE]":
                continue
            payload = load_json(event.data)
            if validate is not None:
                validate(payload)
            count += 1
    return count


def disagreements(payloads: list[Any], verdicts: list[bool], validate: Validate) -> int:
    """Instances on which a candidate's verdict differs from jsonschema's."""
    return sum((validate(p) in (True, [])) != v for p, v in zip(payloads, verdicts, strict=True))


def row(label: str, speed: float, loads: float, note: str = "") -> None:
    print(f"  {label:52} {speed:>10,.0f} /s {speed / loads:>6.2f} x json.loads{note}")


def bench(title: str, stream, dialect: str, name: str, seconds: float) -> tuple[float, float]:
    """Print one block of rows; return the shipped path's (chunks/s, ratio to json.loads)."""
    stream_reads = reads(stream, done=dialect == "openai")
    datas = [json.dumps(payload, separators=(",", ":")) for _, payload in stream]
    print(f"\n{title}: {len(stream):,} chunks, one read per event")
    loads = rate(lambda: len([json.loads(d) for d in datas]), seconds)
    row("json.loads alone", loads, loads)
    row("sse decode alone", rate(lambda: decode_only(stream_reads), seconds), loads)
    row("decode + json", rate(lambda: decode_and(stream_reads, None), seconds), loads)
    shipped = (0.0, 0.0)
    payloads = [payload for _, payload in stream]
    verdicts = [schemas.validator(dialect, name).is_valid(p) for p in payloads]
    for label, validate in candidates(dialect, name):
        if validate is None:
            print(f"  {'decode + json + ' + label:52} (not installed)")
            continue
        wrong = disagreements(payloads, verdicts, validate)
        speed = rate(lambda v=validate: decode_and(stream_reads, v), seconds)
        note = f"  DISAGREES with jsonschema on {wrong:,} chunks" if wrong else ""
        row("decode + json + " + label, speed, loads, note)
        if label.startswith("shipped"):
            shipped = (speed, speed / loads)
    return shipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=5000, help="chunks per stream")
    parser.add_argument("--seconds", type=float, default=1.5, help="time per measurement")
    args = parser.parse_args()
    valid_openai = openai_stream(args.chunks)
    valid_anthropic = anthropic_stream(args.chunks)
    blocks = [
        ("OpenAI chat_chunk, valid", valid_openai, "openai", "chat_chunk"),
        ("OpenAI chat_chunk, every chunk invalid", openai_deviant(valid_openai), "openai", "chat_chunk"),
        ("Anthropic stream_event, valid", valid_anthropic, "anthropic", "stream_event"),
        ("Anthropic stream_event, every delta invalid", anthropic_deviant(valid_anthropic), "anthropic", "stream_event"),
    ]  # fmt: skip
    results = {title: bench(title, *rest, args.seconds) for title, *rest in blocks}
    print()
    for title, (speed, ratio) in results.items():
        if "invalid" in title:
            continue  # the goal is for valid streams: a rejected chunk is explained by jsonschema
        met = speed >= GOAL_CHUNKS_PER_S and ratio >= GOAL_RATIO
        print(
            f"goal {title}: {speed:,.0f} chunks/s (>= {GOAL_CHUNKS_PER_S:,}), "
            f"{ratio:.2f} x json.loads (>= {GOAL_RATIO}): {'met' if met else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
