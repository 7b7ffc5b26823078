"""Provider configuration: a TOML file, CLI flags over it, and one-line errors."""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_CONFIG = Path("chatconform.toml")
DIALECTS = ("openai",)
CAPABILITIES = (
    "text",
    "streaming",
    "vision",
    "base64_image",
    "tools",
    "structured_output",
    "errors",
    "models",
)
# Path suffixes of endpoints users paste instead of the base URL.
_ENDPOINT_SUFFIXES = ("/chat/completions", "/completions", "/models", "/messages", "/responses")
_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")


class ConfigError(Exception):
    """A configuration problem the user can fix; its message is one actionable line."""


@dataclass(frozen=True)
class ProviderConfig:
    """One provider to test. Holds the key's variable name, never the key."""

    name: str
    base_url: str
    api_key_env: str | None = None
    dialects: tuple[str, ...] = ("openai",)
    # capability -> model id; "default" applies where a capability names none,
    # and an empty string switches a capability off (its cases are skipped).
    models: dict[str, str] = field(default_factory=dict)
    concurrency: int = 4
    timeout_s: float = 60.0
    max_tokens_total: int | None = None
    # Where fixtures/images is published for the provider to fetch (URL image cases).
    image_base_url: str | None = None

    def model_for(self, capability: str) -> str | None:
        model = self.models.get(capability, self.models.get("default"))
        return model or None

    def api_key(self) -> str | None:
        """The key from its environment variable (checked to be set at load time)."""
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    def to_json(self) -> str:
        data = asdict(self)
        data["dialects"] = list(self.dialects)
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str) -> ProviderConfig:
        data = json.loads(text)
        data["dialects"] = tuple(data["dialects"])
        return cls(**data)


@dataclass(frozen=True)
class Overrides:
    """Values given as CLI flags; None means not given."""

    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    concurrency: int | None = None
    timeout_s: float | None = None
    max_tokens_total: int | None = None
    image_base_url: str | None = None


def load_file(path: Path) -> dict[str, ProviderConfig]:
    """Every provider in a TOML file, validated."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    providers = data.get("providers")
    if not isinstance(providers, dict) or not providers:
        raise ConfigError(f"{path}: no [providers.<name>] table (see providers.example.toml)")
    return {
        name: _provider_from_table(name, table, f"{path}: [providers.{name}]")
        for name, table in providers.items()
    }


def resolve(
    *,
    config_path: Path | None,
    provider_name: str | None,
    overrides: Overrides,
    environ: dict[str, str] | None = None,
) -> ProviderConfig | None:
    """The provider to test, or None when nothing is configured (use the reference).

    ``config_path`` None means the default file if it exists.
    """
    environ = os.environ if environ is None else environ
    if config_path is None and DEFAULT_CONFIG.exists():
        config_path = DEFAULT_CONFIG
    provider: ProviderConfig | None = None
    if config_path is not None:
        providers = load_file(config_path)
        if provider_name is None:
            if len(providers) > 1:
                raise ConfigError(
                    f"{config_path} has several providers ({', '.join(sorted(providers))}); "
                    "choose one with --provider NAME"
                )
            provider_name = next(iter(providers))
        if provider_name not in providers:
            raise ConfigError(
                f"unknown provider {provider_name!r} in {config_path}; "
                f"known providers: {', '.join(sorted(providers))}"
            )
        provider = providers[provider_name]
    elif provider_name is not None:
        raise ConfigError(f"--provider {provider_name} given but no config file (--config)")
    if provider is None and overrides.base_url is None:
        if overrides.model or overrides.api_key_env:
            raise ConfigError("--model/--api-key-env need --base-url (or a config file)")
        return None
    if provider is None:
        provider = ProviderConfig(name=_name_from_url(overrides.base_url or ""), base_url="")
    provider = apply_overrides(provider, overrides)
    validate(provider, "command line" if config_path is None else str(config_path), environ)
    return provider


def apply_overrides(provider: ProviderConfig, o: Overrides) -> ProviderConfig:
    """The provider with every value given as a flag replacing the file's."""
    changes: dict[str, Any] = {}
    if o.base_url is not None:
        changes["base_url"] = o.base_url
    if o.model is not None:
        changes["models"] = {**provider.models, "default": o.model}
    for name in ("api_key_env", "concurrency", "timeout_s", "max_tokens_total", "image_base_url"):
        value = getattr(o, name)
        if value is not None:
            changes[name] = value
    return replace(provider, **changes)


def _provider_from_table(name: str, table: Any, where: str) -> ProviderConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    known = {f for f in ProviderConfig.__dataclass_fields__ if f != "name"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(known))}"
        )
    if "base_url" not in table:
        raise ConfigError(f"{where}: base_url is missing")
    kinds: dict[str, type | tuple[type, ...]] = {
        "base_url": str,
        "api_key_env": str,
        "dialects": list,
        "models": dict,
        "concurrency": int,
        "timeout_s": (int, float),
        "max_tokens_total": int,
        "image_base_url": str,
    }
    for key, kind in kinds.items():
        value = table.get(key)
        # bool is an int to Python, yet `concurrency = true` is a mistake.
        if key in table and (isinstance(value, bool) or not isinstance(value, kind)):
            raise ConfigError(f"{where}: {key} has the wrong type ({type(value).__name__})")
    models = table.get("models", {})
    for capability, model in models.items():
        if capability != "default" and capability not in CAPABILITIES:
            raise ConfigError(
                f"{where}: models.{capability} is not a capability; "
                f"use default or one of {', '.join(CAPABILITIES)}"
            )
        if not isinstance(model, str):
            raise ConfigError(f"{where}: models.{capability} must be a string")
    values = dict(table)
    if "dialects" in values:
        values["dialects"] = tuple(values["dialects"])
    if "timeout_s" in values:
        values["timeout_s"] = float(values["timeout_s"])
    return ProviderConfig(name=name, **values)


def validate(provider: ProviderConfig, where: str, environ: Mapping[str, str]) -> None:
    """Raise a ConfigError naming the first problem with a resolved provider."""
    if not _NAME.match(provider.name):
        raise ConfigError(
            f"{where}: provider name {provider.name!r} may use only A-Z a-z 0-9 _ . + -"
        )
    check_base_url(provider.base_url)
    for dialect in provider.dialects:
        if dialect not in DIALECTS:
            raise ConfigError(
                f"{where}: dialect {dialect!r} is not supported; supported: {', '.join(DIALECTS)}"
            )
    if not provider.model_for("text"):
        raise ConfigError(f"{where}: no model given; set models.default or pass --model")
    if provider.api_key_env is None:
        raise ConfigError(f"{where}: no key variable given; set api_key_env or pass --api-key-env")
    if not environ.get(provider.api_key_env):
        raise ConfigError(
            f"environment variable {provider.api_key_env} is not set "
            f"(it should hold the API key for {provider.name})"
        )
    if provider.concurrency < 1:
        raise ConfigError(f"{where}: concurrency must be at least 1")
    if not (math.isfinite(provider.timeout_s) and provider.timeout_s > 0):
        raise ConfigError(f"{where}: timeout_s must be a positive number of seconds")
    if provider.max_tokens_total is not None and provider.max_tokens_total < 1:
        raise ConfigError(f"{where}: max_tokens_total must be at least 1")
    if provider.image_base_url is not None:
        parts = urlsplit(provider.image_base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"{where}: image_base_url {provider.image_base_url!r} is not an http(s) URL "
                "(expected where fixtures/images is published, e.g. https://host/fixtures/images/)"
            )


def check_base_url(url: str) -> None:
    """Raise a ConfigError with a hint for a base URL the official SDKs would not accept."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise ConfigError(f"base URL {url!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"base URL {url!r} is not an http(s) URL (expected e.g. https://host/v1)")
    if parts.username is not None or parts.password is not None:
        # Credentials in the URL would be sent as Basic auth and written into reports.
        raise ConfigError(
            "base URL contains credentials (user:password@); remove them and put the key "
            "in the variable named by api_key_env"
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            f"base URL {url!r} has a query string or fragment; the SDKs append paths to "
            "base_url, so it must end with the path (e.g. https://host/v1)"
        )
    if any(ch.isspace() for ch in url):
        raise ConfigError(f"base URL {url!r} contains white space")
    path = parts.path.rstrip("/")
    for suffix in _ENDPOINT_SUFFIXES:
        if path.endswith(suffix):
            base = url.rstrip("/")[: -len(suffix)]
            raise ConfigError(
                f"base URL {url!r} is an endpoint, not a base URL; use {base!r} "
                f"(the suite appends {suffix} itself, like the official SDKs)"
            )


def _name_from_url(url: str) -> str:
    host = urlsplit(url).hostname or "provider"
    return re.sub(r"[^A-Za-z0-9_.-]", "-", host)
