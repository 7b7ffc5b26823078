"""Load the wire-format JSON Schemas under schemas/ and report validation errors by JSON pointer.

Two validators judge each schema. A compiled one (jsonschema-rs) answers the question a
stream of thousands of chunks asks, "is this valid?", at over a million instances a second
(bench/validation.py); jsonschema, hundreds of times slower, explains every instance the
compiled one does not accept, so findings are jsonschema's, pointers and messages alike.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema.protocols
import jsonschema_rs
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from chatconform.paths import SCHEMAS_DIR

SCHEMA_DIR: Path = SCHEMAS_DIR


@functools.cache
def _documents(dialect: str) -> tuple[tuple[Path, dict[str, Any]], ...]:
    """(path, contents) of every schema file of a dialect, read once for both validators."""
    return tuple(
        (path, json.loads(path.read_text(encoding="utf-8")))
        for path in sorted((SCHEMA_DIR / dialect).glob("*.schema.json"))
    )


@functools.cache
def _registry(dialect: str) -> Registry:
    resources = []
    for path, contents in _documents(dialect):
        resource = Resource.from_contents(contents, default_specification=DRAFT202012)
        # Register under the $id and under the bare file name, so relative $refs resolve
        # whether or not the referring schema declares an $id.
        resources.append((path.name, resource))
        if "$id" in contents:
            resources.append((contents["$id"], resource))
    return Registry().with_resources(resources)


@functools.cache
def validator(dialect: str, name: str) -> jsonschema.protocols.Validator:
    """Draft 2020-12 validator for schemas/<dialect>/<name>.schema.json (format checks off)."""
    registry = _registry(dialect)
    file_name = f"{name}.schema.json"
    if file_name not in registry:
        raise FileNotFoundError(SCHEMA_DIR / dialect / file_name)
    # Not checked against the metaschema here (a tenth of a second a run): the project's
    # tests check every shipped schema (tests/test_schemas.py, test_anthropic_schemas.py).
    return jsonschema.Draft202012Validator(registry.contents(file_name), registry=registry)


def _no_retrieval(uri: str) -> object:
    raise LookupError(f"{uri} is not under schemas/ (schemas are never fetched)")


@functools.cache
def compiled_validator(dialect: str, name: str) -> jsonschema_rs.Validator | None:
    """The same schema compiled by jsonschema-rs (Draft 2020-12, format checks off, never
    fetching a $ref), or None when it cannot compile it: jsonschema then judges alone."""
    validator(dialect, name)  # the same FileNotFoundError
    resources = []
    schema: dict[str, Any] = {}
    for path, contents in _documents(dialect):
        # Each file under its $id and its own URI, as the jsonschema registry has them.
        uris = {path.as_uri(), contents.get("$id", path.as_uri())}
        resources.extend((uri, contents) for uri in sorted(uris))
        if path.name == f"{name}.schema.json":
            schema = contents
    base = schema.get("$id", (SCHEMA_DIR / dialect / f"{name}.schema.json").as_uri())
    try:
        registry = jsonschema_rs.Registry(resources, retriever=_no_retrieval)
        return jsonschema_rs.Draft202012Validator(
            schema, registry=registry, base_uri=base, validate_formats=False, offline=True
        )
    except (jsonschema_rs.ReferencingError, ValueError):
        return None


def _escape(part: object) -> str:
    return "/" + str(part).replace("~", "~0").replace("/", "~1")


def _pointer(error: ValidationError) -> str:
    return "".join(_escape(part) for part in error.absolute_path)


def _missing(error: ValidationError) -> str | None:
    """The property a ``required`` error is about (jsonschema reports one error per key)."""
    if error.validator != "required" or not isinstance(error.instance, dict):
        return None
    return next(
        (
            key
            for key in error.validator_value
            if key not in error.instance and error.message == f"{key!r} is a required property"
        ),
        None,
    )


def missing_key_at(pointer: str, message: str, places: re.Pattern[str]) -> bool:
    """Whether a schema error says a required key is absent, at one of ``places`` (a
    missing key's pointer is where the key belongs: see ``_leaf``)."""
    return message.endswith("is a required property") and places.fullmatch(pointer) is not None


def _leaf(error: ValidationError) -> tuple[str, str]:
    """(pointer, message) of one error; a missing key is pointed at where it belongs, so
    two keys missing from one object are two places, and a rule about one of them
    (finish_reason absent, say) is at the same place as the schema error."""
    missing = _missing(error)
    if missing is not None:
        return _pointer(error) + _escape(missing), error.message
    return _pointer(error), error.message


def _specific(error: ValidationError) -> list[tuple[str, str]]:
    """Replace an anyOf/oneOf failure by the errors of the one branch whose type fits, if any."""
    if not error.context:
        return [_leaf(error)]
    branches: dict[object, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    # A branch "misfits" when it rejects the instance's JSON type outright.
    misfits = {
        key: sub.validator_value
        for key, subs in branches.items()
        for sub in subs
        if sub.validator == "type" and not sub.relative_path
    }
    fitting = [subs for key, subs in branches.items() if key not in misfits]
    if len(fitting) == 1:
        return [leaf for sub in fitting[0] for leaf in _specific(sub)]
    if not fitting:
        types = " or ".join(repr(t) for t in misfits.values())
        return [(_pointer(error), f"{error.instance!r} is not of type {types}")]
    return [_leaf(best_match([error]))]


def schema_errors(dialect: str, name: str, instance: object) -> list[tuple[str, str]]:
    """(JSON pointer, message) for every validation error, sorted by pointer ("" is the root).

    An anyOf/oneOf failure is replaced by the errors of the branch matching the instance's
    type, or else by jsonschema's best_match, so messages name the real problem. A missing
    required key is reported at its own pointer (``/choices/0/finish_reason``), not at the
    object that lacks it. ``instance`` is a JSON value as ``json.loads`` makes it (to
    jsonschema a tuple is no array; to jsonschema-rs it is one).
    """
    compiled = compiled_validator(dialect, name)
    if compiled is not None and _accepts(compiled, instance):
        return []
    return explained_errors(dialect, name, instance)


def _accepts(compiled: jsonschema_rs.Validator, instance: object) -> bool:
    """Whether the compiled validator accepts the instance; False when it cannot tell."""
    try:
        return compiled.is_valid(instance)
    except ValueError:
        # A value jsonschema-rs cannot convert (a lone surrogate in a string, a key that is
        # not a string): jsonschema judges it, as it judges everything not accepted here.
        return False


def explained_errors(dialect: str, name: str, instance: object) -> list[tuple[str, str]]:
    """``schema_errors`` by jsonschema alone: what explains an instance the compiled
    validator rejects, and what it must agree with."""
    errors = validator(dialect, name).iter_errors(instance)
    return sorted({leaf for error in errors for leaf in _specific(error)})


def value_at(instance: object, pointer: str) -> object:
    """The value a JSON pointer of ``schema_errors`` names; raises KeyError when there is none."""
    value = instance
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise KeyError(pointer)
    return value


@dataclass(frozen=True)
class SchemaProblem:
    """Why a value does not validate: where (a JSON pointer, "" for the root) and what."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return self.message + (f" at {self.pointer}" if self.pointer else "")


def request_schema_problem(value: Any, schema: Any) -> SchemaProblem | None:
    """Why ``value`` does not validate against a schema the request declared (a tool's
    parameters or input_schema, a response_format's json_schema): None when it does, or
    when the schema cannot be used (no valid schema, a $ref outside it), which is not
    the provider's to answer for."""
    if not isinstance(schema, dict):
        return None
    try:
        validator = _request_validator(json.dumps(schema))
    except (TypeError, ValueError, RecursionError):
        return None
    if validator is None:
        return None
    try:
        error = best_match(validator.iter_errors(value))
    except (Unresolvable, RecursionError):
        return None
    if error is None:
        return None
    return SchemaProblem("".join(f"/{part}" for part in error.absolute_path), error.message)


@functools.lru_cache(maxsize=256)
def _request_validator(canonical: str) -> jsonschema.protocols.Validator | None:
    # A case asks with the same tools several times: each schema is checked once.
    schema = json.loads(canonical)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except (jsonschema.SchemaError, RecursionError):
        return None
    return jsonschema.Draft202012Validator(schema)
