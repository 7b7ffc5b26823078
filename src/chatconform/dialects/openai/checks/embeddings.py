"""Checks of POST /embeddings: the list shape, usage, batches, dimensions, base64, meaning."""

from __future__ import annotations

import base64
import binascii
import math
import re
import struct
from collections.abc import Iterator, Sequence
from typing import Any

from chatconform.dialects.openai.checks import Violation, check, expected
from chatconform.dialects.openai.checks.errors import looks_like_error
from chatconform.exchange import Exchange, clip
from chatconform.schemas import schema_errors

# Cosine at or above which two vectors are one text's embedding: hosted models differ
# between requests (and between a batch and a single input) by float noise, far less
# than this; a vector of another text, or bytes decoded the wrong way, is far below.
SAME_VECTOR = 0.99
# The usage fields openai.embeddings.usage judges; the schema check leaves them to it.
_USAGE = re.compile(r"/usage(/.*)?")
_IN_VECTOR = re.compile(r"(/data/\d+/embedding)/\d+")
Vector = list[float]


def _requested(exchange: Exchange) -> dict[str, Any]:
    """The request body the exchange sent (empty when it sent none)."""
    try:
        body = exchange.request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def encoding(exchange: Exchange) -> str:
    """The encoding_format the request asked for: float unless it said base64."""
    return "base64" if _requested(exchange).get("encoding_format") == "base64" else "float"


def decode_base64(text: str, fmt: str = "<f") -> Vector | None:
    """A base64 string as the vector of ``fmt`` values it packs (little-endian float32 by
    default, what the official SDKs decode), or None when it does not decode to them."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    size = struct.calcsize(fmt)
    if not raw or len(raw) % size:
        return None
    return [v for (v,) in struct.iter_unpack(fmt, raw)]


def _entries(exchange: Exchange) -> list[Any] | None:
    payload = exchange.json_or_none()
    data = payload.get("data") if isinstance(payload, dict) else None
    return data if isinstance(data, list) else None


def vectors(exchange: Exchange) -> list[Vector] | None:
    """The embeddings in list order, base64 ones decoded as little-endian float32; None
    when one of them cannot be read as a vector of numbers."""
    return exchange.derive("openai.embeddings", _vectors)


def _vectors(exchange: Exchange) -> list[Vector] | None:
    entries = _entries(exchange)
    if entries is None:
        return None
    found = []
    for entry in entries:
        value = entry.get("embedding") if isinstance(entry, dict) else None
        vector = decode_base64(value) if isinstance(value, str) else _numbers(value)
        if vector is None:
            return None
        found.append(vector)
    return found


def _numbers(value: Any) -> Vector | None:
    if not isinstance(value, list) or not value:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return None
    numbers = [float(v) for v in value]
    return numbers if all(math.isfinite(v) for v in numbers) else None


def cosine(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Cosine similarity; None for vectors of different lengths or a zero vector."""
    if len(a) != len(b):
        return None
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    if norms == 0:
        return None
    return sum(x * y for x, y in zip(a, b, strict=True)) / norms


def single_vector(exchange: Exchange) -> Vector | None:
    """The one embedding of a single-input answer (None unless there is exactly one)."""
    found = vectors(exchange)
    return found[0] if found is not None and len(found) == 1 else None


@check("openai.embeddings.schema")
def embeddings_schema(exchange: Exchange) -> Iterator[Violation]:
    """POST /embeddings returns a list of embedding objects (openai-openapi CreateEmbeddingResponse)."""
    payload = exchange.json_or_none()
    if payload is None:
        yield Violation(
            expected('a JSON {"object": "list", "data": [embedding objects]}', "not JSON"),
            evidence=exchange.excerpt(),
        )
        return
    problems: dict[str, str] = {}
    for pointer, message in schema_errors("openai", "embeddings_response", payload):
        if not _USAGE.fullmatch(pointer):
            # One problem per embedding, however many of its numbers are wrong.
            problems.setdefault(_IN_VECTOR.sub(r"\1", pointer), message)
    for pointer, message in list(problems.items())[:3]:
        yield Violation(
            expected('{"object": "list", "data": [embedding objects], "model", "usage"}', message),
            location=pointer,
            evidence=exchange.excerpt(),
        )
    if problems:
        return
    asked = encoding(exchange)
    for k, entry in enumerate(payload["data"]):
        value = entry["embedding"]
        if asked == "float" and not isinstance(value, list):
            yield Violation(
                expected("an array of floats (encoding_format float)", clip(repr(value), 80)),
                location=f"/data/{k}/embedding",
                evidence=exchange.excerpt(),
            )
            return
        if isinstance(value, list) and _numbers(value) is None:
            yield Violation(
                expected("finite numbers", "a value that is not a finite number"),
                location=f"/data/{k}/embedding",
                evidence=exchange.excerpt(),
            )
            return


@check("openai.embeddings.usage")
def embeddings_usage(exchange: Exchange) -> Iterator[Violation]:
    """usage reports prompt_tokens and an equal total_tokens (CreateEmbeddingResponse.usage)."""
    payload = exchange.json_or_none()
    if not isinstance(payload, dict) or looks_like_error(exchange):
        return
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        yield Violation(
            expected("usage {prompt_tokens, total_tokens}", f"usage {clip(repr(usage), 80)}"),
            location="/usage",
            evidence=exchange.excerpt(),
        )
        return
    counts = {k: usage.get(k) for k in ("prompt_tokens", "total_tokens")}
    wrong = [
        f"{k} {clip(repr(v), 40)}"
        for k, v in counts.items()
        if not (isinstance(v, int) and not isinstance(v, bool) and v >= 0)
    ]
    if wrong:
        yield Violation(
            expected("prompt_tokens and total_tokens, integers", ", ".join(wrong)),
            location="/usage",
            evidence=exchange.excerpt(),
        )
        return
    prompt, total = counts["prompt_tokens"], counts["total_tokens"]
    if prompt == 0 or total != prompt:
        yield Violation(
            expected(
                "prompt_tokens above 0 for a non-empty input, total_tokens equal to it",
                f"prompt_tokens {prompt}, total_tokens {total}",
            ),
            location="/usage",
            evidence=exchange.excerpt(),
        )


@check("openai.embeddings.batch")
def one_embedding_per_input(batch: Exchange, singles: Sequence[Exchange]) -> Iterator[Violation]:
    """data[i] of a batch is input i's embedding (Embedding.index: its place in the list)."""
    entries, found = _entries(batch), vectors(batch)
    if entries is None or found is None:
        return  # the schema check says why
    if len(found) != len(singles):
        yield Violation(
            expected(f"{len(singles)} embeddings, one per input", f"{len(found)} embeddings"),
            location="/data",
            evidence=batch.excerpt(),
        )
        return
    indexes = [e.get("index") if isinstance(e, dict) else None for e in entries]
    if indexes != list(range(len(found))):
        yield Violation(
            expected(f"index {list(range(len(found)))} in list order", f"index {indexes}"),
            location="/data",
            evidence=batch.excerpt(),
        )
        return
    alone = [single_vector(s) for s in singles]
    for k, vector in enumerate(found):
        if alone[k] is None:
            continue
        same = cosine(vector, alone[k])
        if same is not None and same >= SAME_VECTOR:
            continue
        yield Violation(
            expected(
                f"data[{k}] the embedding of input {k} (as it is embedded alone)",
                _likeness(vector, alone, k),
            ),
            location=f"/data/{k}",
            evidence=batch.excerpt(),
        )
        return  # one finding says the batch is out of order


def _likeness(vector: Vector, alone: Sequence[Vector | None], k: int) -> str:
    """What a batch vector is, compared with the inputs embedded alone."""
    scores = {
        j: c for j, v in enumerate(alone) if v is not None and (c := cosine(vector, v)) is not None
    }
    own = scores.get(k)
    said = (
        f"cosine {own:.3f} with input {k}'s embedding"
        if own is not None
        else f"{len(vector)} numbers where input {k} alone gets {len(alone[k] or [])}"
    )
    best = max(scores, key=scores.__getitem__, default=None)
    if best is not None and best != k and scores[best] >= SAME_VECTOR:
        said += f"; it is input {best}'s (cosine {scores[best]:.3f})"
    return said


@check("openai.embeddings.dimensions")
def dimensions_honoured(exchange: Exchange, dimensions: int) -> Iterator[Violation]:
    """Each embedding has the requested number of dimensions (CreateEmbeddingRequest.dimensions)."""
    found = vectors(exchange)
    if found is None:
        return
    lengths = sorted({len(v) for v in found})
    if lengths != [dimensions]:
        yield Violation(
            expected(
                f"embeddings of {dimensions} numbers (dimensions {dimensions})",
                f"embeddings of {', '.join(map(str, lengths))} numbers",
            ),
            location="/data/0/embedding",
            evidence=exchange.excerpt(),
        )


@check("openai.embeddings.base64")
def base64_matches_float(as_float: Exchange, as_base64: Exchange) -> Iterator[Violation]:
    """base64 embeddings decode (float32, little-endian) to the float ones (encoding_format)."""
    floats, entries = single_vector(as_float), _entries(as_base64)
    if floats is None or not entries or not isinstance(entries[0], dict):
        return
    value = entries[0].get("embedding")
    if not isinstance(value, str):
        yield Violation(
            expected("a base64 string (encoding_format base64)", clip(repr(value), 80)),
            location="/data/0/embedding",
            evidence=as_base64.excerpt(),
        )
        return
    decoded = decode_base64(value)
    same = cosine(decoded, floats) if decoded is not None else None
    if same is not None and same >= SAME_VECTOR:
        return
    yield Violation(
        expected(
            f"the float vector ({len(floats)} numbers) as little-endian float32 in base64",
            _decoding(value, floats, decoded, same),
        ),
        location="/data/0/embedding",
        evidence=as_base64.excerpt(),
    )


def _decoding(text: str, floats: Vector, decoded: Vector | None, same: float | None) -> str:
    """What a base64 embedding holds instead, as far as common mistakes tell."""
    if decoded is None:
        said = "a string that is not base64 of float32 values"
    elif same is None:
        said = f"{len(decoded)} float32 values"
    else:
        said = f"float32 values with cosine {same:.3f} to the float vector"
    for fmt, name in (("<d", "little-endian float64"), (">f", "big-endian float32")):
        other = decode_base64(text, fmt)
        match = cosine(other, floats) if other is not None else None
        if match is not None and match >= SAME_VECTOR:
            return f"{said}: it is the vector as {name}"
    return said


@check("openai.embeddings.semantic")
def paraphrase_closer(
    anchor: Exchange, paraphrase: Exchange, unrelated: Exchange
) -> Iterator[Violation]:
    """A sentence's embedding is closer to its paraphrase's than to an unrelated one's
    (embeddings guide: distance measures relatedness)."""
    a, p, u = (single_vector(e) for e in (anchor, paraphrase, unrelated))
    if a is None or p is None or u is None:
        return
    near, far = cosine(a, p), cosine(a, u)
    if near is not None and far is not None and near > far:
        return
    shown = "; ".join(
        f"{name} {'undefined' if c is None else f'{c:.3f}'}"
        for name, c in (("paraphrase", near), ("unrelated", far))
    )
    yield Violation(
        expected("cosine with the paraphrase above cosine with the unrelated sentence", shown),
        location="/data/0/embedding",
        evidence=unrelated.excerpt(300),
    )


@check("openai.embeddings.input-too-long")
def too_long_input_refused(exchange: Exchange, tokens: int) -> Iterator[Violation]:
    """An input over the model's limit is refused with 400 (embedding_create_params input)."""
    status = exchange.status or 0
    if 200 <= status < 300 and not looks_like_error(exchange):
        payload = exchange.json_or_none()
        usage = payload.get("usage") if isinstance(payload, dict) else None
        counted = usage.get("prompt_tokens") if isinstance(usage, dict) else None
        yield Violation(
            expected(
                f"HTTP 400 for an input of about {tokens} tokens",
                f"HTTP {status} with an embedding"
                + (f", {counted} prompt tokens counted" if counted is not None else ""),
            ),
            evidence=exchange.excerpt(300),
        )
