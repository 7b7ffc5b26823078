"""The reference provider's embedding model and its POST /embeddings answers.

The model is a hashed bag of words: each lower-cased word adds +1 or -1 (its hash says
which) at a position its hash picks, and the vector is scaled to unit length. Texts
sharing words point the same way, texts sharing none are near orthogonal: a sentence is
closer to a paraphrase in the same words than to an unrelated sentence, as with any
embedding model, and the same text always gets the same vector.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from typing import Any

from chatconform.reference.errors import ApiError
from chatconform.reference.faults import FaultSet
from chatconform.reference.model import prompt_units, tokens
from chatconform.schemas import schema_errors

EMBEDDING_MODEL = "reference-embed-1"
# The model's own size: `dimensions` may ask for fewer, never more.
DIMENSIONS = 256
# OpenAI's limit per input, counted in the reference's tokens (words and punctuation).
MAX_INPUT_TOKENS = 8192
# What a server whose pooling takes the first token embeds, whatever the text
# (embeddings-same-vector).
FIRST_TOKEN = "<s>"
_WORD = re.compile(r"\w+")

Vector = list[float]


def embed(text: str, dimensions: int = DIMENSIONS) -> Vector:
    """The unit vector of a text, each value a float32 (what the wire carries)."""
    vector = [0.0] * dimensions
    for word in _WORD.findall(text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        position = int.from_bytes(digest[:4], "little") % dimensions
        vector[position] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0:  # no word at all (punctuation only): one fixed direction
        vector[0], norm = 1.0, 1.0
    return [_float32(v / norm) for v in vector]


def _float32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def embeddings_json(body: Any, faults: FaultSet) -> dict[str, Any]:
    """The answer to a POST /embeddings body, or the ApiError OpenAI would send."""
    texts, dimensions, encoding = _request(body, faults)
    if "embeddings-dimensions-ignored" in faults:
        dimensions = DIMENSIONS
    counted = [prompt_units(t) for t in texts]
    if any(n > MAX_INPUT_TOKENS for n in counted):
        if "embeddings-input-truncated" not in faults:
            longest = max(counted)
            raise ApiError(
                400,
                f"This model's maximum context length is {MAX_INPUT_TOKENS} tokens, however "
                f"you requested {longest} tokens ({longest} in your prompt; 0 for the "
                "completion). Please reduce your prompt; or completion length.",
                param="input",
            )
        texts = ["".join(tokens(t)[:MAX_INPUT_TOKENS]) for t in texts]
        counted = [min(n, MAX_INPUT_TOKENS) for n in counted]
    if "embeddings-same-vector" in faults:
        texts = [FIRST_TOKEN] * len(texts)
    vectors = [embed(t, dimensions) for t in texts]
    if "embeddings-order-shuffled" in faults:
        # Parallel upstream calls gathered as they finish, renumbered in that order.
        vectors = vectors[1:] + vectors[:1]
    if "embeddings-ollama-shape" in faults:
        return {"model": EMBEDDING_MODEL, "embeddings": vectors}
    answer: dict[str, Any] = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": k, "embedding": _encoded(v, encoding, faults)}
            for k, v in enumerate(vectors)
        ],
        "model": EMBEDDING_MODEL,
    }
    if "embeddings-usage-missing" not in faults:
        answer["usage"] = {"prompt_tokens": sum(counted), "total_tokens": sum(counted)}
    return answer


def _encoded(vector: Vector, encoding: str, faults: FaultSet) -> Vector | str:
    if encoding != "base64":
        return vector
    # embeddings-base64-mismatch: packed as float64, a gateway's default number type.
    fmt = "<d" if "embeddings-base64-mismatch" in faults else "<f"
    return base64.b64encode(struct.pack(f"{fmt[0]}{len(vector)}{fmt[1]}", *vector)).decode()


def _request(body: Any, faults: FaultSet) -> tuple[list[str], int, str]:
    """The texts to embed, the dimensions and the encoding a valid body asks for."""
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid request body: expected a JSON object.")
    for pointer, message in schema_errors("openai", "embeddings_request", body):
        param = pointer.split("/")[1] if pointer else _missing(message)
        raise ApiError(400, f"Invalid '{param}': {message}", param=param)
    if body["model"] != EMBEDDING_MODEL:
        raise ApiError(
            404,
            f"The model `{body['model']}` does not exist or you do not have access to it.",
            param="model",
            code="model_not_found",
        )
    dimensions = body.get("dimensions", DIMENSIONS)
    if dimensions > DIMENSIONS:
        raise ApiError(
            400,
            f"This model does not support dimensions above {DIMENSIONS}.",
            param="dimensions",
        )
    return _texts(body["input"]), dimensions, body.get("encoding_format", "float")


def _missing(message: str) -> str | None:
    match = re.match(r"^'([^']+)' is a required property", message)
    return match.group(1) if match else None


def _texts(value: str | list[Any]) -> list[str]:
    """The inputs as texts: a string, strings, or token ids (read as words)."""
    if isinstance(value, str):
        return [value]
    if all(isinstance(v, int) for v in value):
        return [" ".join(map(str, value))]
    return [v if isinstance(v, str) else " ".join(map(str, v)) for v in value]
