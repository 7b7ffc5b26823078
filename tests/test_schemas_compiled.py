"""The compiled validator of chatconform.schemas agrees with jsonschema, and findings do not change.

``schema_errors`` asks jsonschema-rs first and jsonschema only to explain what it rejects, so
it is right exactly when jsonschema-rs never accepts an instance jsonschema rejects. These
properties check that on mutations of the real wire samples under tests/data, and that the
findings (pointers and messages) are those of jsonschema alone, as before the fast path.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from chatconform import schemas
from chatconform.schemas import (
    SCHEMA_DIR,
    compiled_validator,
    explained_errors,
    schema_errors,
    validator,
)
from chatconform.sse import decode

DATA_DIR = Path(__file__).parent / "data"
DIALECTS = ["openai", "anthropic"]


def _sse_payloads(path: Path) -> Iterator[Any]:
    for event in decode([path.read_bytes()]):
        try:
            yield json.loads(event.data)
        except ValueError:
            continue  # [DONE], or a sample of data that is not JSON


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _seeds(dialect: str, json_glob: str, sse_glob: str | None = None) -> list[Any]:
    """The payloads of the samples that show one wire object, valid and invalid ones."""
    folder = DATA_DIR / dialect
    seeds = [_json(path) for path in sorted(folder.glob(json_glob))]
    if sse_glob:
        seeds += [p for path in sorted(folder.glob(sse_glob)) for p in _sse_payloads(path)]
    return [seed for seed in seeds if isinstance(seed, dict)]


SEEDS: dict[tuple[str, str], list[Any]] = {
    ("openai", "chat_chunk"): _seeds("openai", "chunk_*.json", "stream_*.sse"),
    ("openai", "chat_response"): _seeds("openai", "response_*.json"),
    ("openai", "chat_request"): _seeds("openai", "request_*.json"),
    ("anthropic", "stream_event"): _seeds("anthropic", "event_*.json", "stream_*.sse"),
    ("anthropic", "message"): _seeds("anthropic", "message_*.json"),
    ("anthropic", "messages_request"): _seeds("anthropic", "request_*.json"),
}


def _vocabulary() -> tuple[list[str], list[str]]:
    """(property names, string constants) of every schema: mutations that switch a type
    discriminator or add a known key reach the schemas' if/then branches."""
    keys: set[str] = set()
    constants: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            keys.update(node.get("properties", {}))
            keys.update(k for k in node.get("required", []) if isinstance(k, str))
            for value in [node.get("const"), *node.get("enum", [])]:
                if isinstance(value, str):
                    constants.add(value)
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for path in SCHEMA_DIR.glob("*/*.schema.json"):
        walk(_json(path))
    return sorted(keys), sorted(constants)


KEYS, CONSTANTS = _vocabulary()
# Values the two validators judge differently, by design of each, never with jsonschema-rs
# accepting what jsonschema rejects (checked for every instance):
# - NaN and ±Infinity (json.loads accepts them): jsonschema lets NaN pass minimum/maximum,
#   jsonschema-rs rejects both;
# - strings holding a lone surrogate (json.loads accepts "\ud800"): jsonschema-rs cannot
#   convert them and raises, so jsonschema judges;
# - "pattern" with "$" before a final newline: Python's re matches it, ECMAScript's does not.
EXOTIC_FLOATS = [math.nan, math.inf, -math.inf]
LONE_SURROGATES = ["\ud800", "x\udfff"]

_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 3),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(EXOTIC_FLOATS),
    st.text(max_size=4),
    st.sampled_from(LONE_SURROGATES),
    st.sampled_from(CONSTANTS),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


def _places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _places(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _places(child, (*path, i))


def _mutate(draw: st.DrawFn, instance: Any) -> Any:
    """The instance with one value replaced, one key or item removed, or one key added."""
    *parents, last = [None, *draw(st.sampled_from(list(_places(instance))))]
    target = instance
    for part in parents[1:]:
        target = target[part]
    node = instance if last is None else target[last]
    operation = draw(st.sampled_from(["replace", "delete", "add"]))
    if operation == "add" and isinstance(node, dict):
        node[draw(st.sampled_from(KEYS))] = draw(_VALUES)
    elif operation == "delete" and last is not None:
        del target[last]
    elif last is None:
        instance = draw(_VALUES)
    else:
        target[last] = draw(_VALUES)
    return instance


@st.composite
def mutated(draw: st.DrawFn, seeds: list[Any]) -> Any:
    """A real sample, changed in up to three places (unchanged one time in five or so)."""
    instance = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 3))):
        instance = _mutate(draw, instance)
    return instance


def _exotic(value: Any) -> bool:
    """Whether a value holds one of the known divergences (see EXOTIC_FLOATS)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(_exotic(k) or _exotic(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_exotic(item) for item in value)
    return False


def _compiled_verdict(dialect: str, name: str, instance: Any) -> bool | None:
    """jsonschema-rs's verdict, None when it cannot convert the instance."""
    compiled = compiled_validator(dialect, name)
    assert compiled is not None
    try:
        return compiled.is_valid(instance)
    except ValueError:
        return None


# --- the compiled validators --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", sorted(SCHEMA_DIR.glob("*/*.schema.json")), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_every_schema_compiles(path: Path) -> None:
    # A schema jsonschema-rs cannot compile would be judged by jsonschema alone, correctly
    # but two hundred times slower: this says so instead of letting it pass unnoticed.
    assert compiled_validator(path.parent.name, path.name.removesuffix(".schema.json"))


def test_compiled_validator_is_cached_and_unknown_names_raise() -> None:
    assert compiled_validator("openai", "chat_chunk") is compiled_validator("openai", "chat_chunk")
    with pytest.raises(FileNotFoundError):
        compiled_validator("openai", "no_such_schema")
    with pytest.raises(FileNotFoundError):
        schema_errors("openai", "no_such_schema", {})


def test_seeds_hold_valid_and_invalid_samples_of_each_schema() -> None:
    for (dialect, name), seeds in SEEDS.items():
        verdicts = {validator(dialect, name).is_valid(seed) for seed in seeds}
        assert True in verdicts, f"{dialect}/{name}: no valid sample"
        if name in {"chat_chunk", "stream_event"}:
            assert False in verdicts, f"{dialect}/{name}: no invalid sample"


def test_real_samples_get_the_findings_jsonschema_gives() -> None:
    for (dialect, name), seeds in SEEDS.items():
        for seed in seeds:
            assert schema_errors(dialect, name, seed) == explained_errors(dialect, name, seed)
            assert _compiled_verdict(dialect, name, seed) == validator(dialect, name).is_valid(seed)


@pytest.mark.parametrize(
    "instance",
    [
        {"id": "\ud800", "object": "chat.completion.chunk", "created": 1, "model": "m"},
        {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": []}
        | {"\udfff": 1},
        {1: "not a string key", "id": "x"},
        {"id": "x", "object": "chat.completion.chunk", "created": math.nan, "model": "m"},
    ],
    ids=["lone-surrogate-value", "lone-surrogate-key", "integer-key", "nan"],
)
def test_what_the_compiled_validator_cannot_convert_jsonschema_judges(instance: Any) -> None:
    assert schema_errors("openai", "chat_chunk", instance) == explained_errors(
        "openai", "chat_chunk", instance
    )


def test_a_schema_the_compiled_validator_rejects_is_judged_by_jsonschema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "\Z" is Python's end anchor; ECMAScript regexes (jsonschema-rs) have no such escape.
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "pattern": "^a\\Z"}
    (tmp_path / "python-regex").mkdir()
    (tmp_path / "python-regex" / "thing.schema.json").write_text(json.dumps(schema))
    monkeypatch.setattr(schemas, "SCHEMA_DIR", tmp_path)
    assert compiled_validator("python-regex", "thing") is None
    assert schema_errors("python-regex", "thing", "a") == []
    assert schema_errors("python-regex", "thing", "b") == [("", "'b' does not match '^a\\\\Z'")]


def test_a_ref_outside_schemas_is_never_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": "https://example.invalid/elsewhere.schema.json",
    }
    (tmp_path / "remote-ref").mkdir()
    (tmp_path / "remote-ref" / "thing.schema.json").write_text(json.dumps(schema))
    monkeypatch.setattr(schemas, "SCHEMA_DIR", tmp_path)
    assert compiled_validator("remote-ref", "thing") is None


# --- properties ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("dialect", "name"), list(SEEDS), ids=[f"{d}/{n}" for d, n in SEEDS])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_compiled_validator_agrees_with_jsonschema_and_findings_are_unchanged(
    dialect: str, name: str, data: st.DataObject
) -> None:
    instance = data.draw(mutated(SEEDS[dialect, name]))
    note(f"instance: {instance!r}")
    compiled = _compiled_verdict(dialect, name, instance)
    valid = validator(dialect, name).is_valid(instance)
    note(f"jsonschema-rs: {compiled}, jsonschema: {valid}")
    # Never accept what jsonschema rejects: that would hide a finding.
    assert valid or not compiled
    if not _exotic(instance):
        assert compiled == valid
    assert schema_errors(dialect, name, instance) == explained_errors(dialect, name, instance)
