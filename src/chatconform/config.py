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

from chatconform.dialects import NAMES

DEFAULT_CONFIG = Path("chatconform.toml")
DIALECTS = NAMES
CAPABILITIES = (
    "text",
    "streaming",
    "vision",
    "base64_image",
    "documents",
    "tools",
    "thinking",
    "structured_output",
    "reasoning",
    "embeddings",
    "errors",
    "models",
    "claude_code",
)
# Capabilities a dialect has cases for: a scorecard row is a dialect x capability.
DIALECT_CAPABILITIES = {
    "openai": (
        "text",
        "streaming",
        "vision",
        "base64_image",
        "tools",
        "structured_output",
        "reasoning",
        "embeddings",
        "errors",
        "models",
    ),
    "anthropic": (
        "text",
        "streaming",
        "vision",
        "base64_image",
        "documents",
        "tools",
        "thinking",
        "errors",
        "models",
        "claude_code",
    ),
}
# Capabilities measured only with a model named for them: `default` is no thinking,
# reasoning or embedding model.
NAMED_ONLY = frozenset({"thinking", "reasoning", "embeddings"})
# How the key is sent: OpenAI's Authorization Bearer, or Anthropic's x-api-key header.
AUTH_STYLES = ("bearer", "x-api-key")
DEFAULT_AUTH = {"openai": "bearer", "anthropic": "x-api-key"}
# Path suffixes of endpoints users paste instead of the base URL.
_ENDPOINT_SUFFIXES = ("/chat/completions", "/completions", "/models", "/messages", "/responses")
_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")
_DIALECT_KEYS = ("base_url", "auth", "models", "headers")


class ConfigError(Exception):
    """A configuration problem the user can fix; its message is one actionable line."""


@dataclass(frozen=True)
class DialectConfig:
    """How a provider speaks one dialect: where, with which auth style, which models."""

    base_url: str
    auth: str
    # capability -> model id; "default" applies where a capability names none (except
    # NAMED_ONLY ones), and an empty string switches a capability off (its cases skip).
    models: dict[str, str] = field(default_factory=dict)
    # Sent with every request of the dialect (a vendor's routing header, say). A value
    # "$NAME" is read from the environment variable NAME and treated as a secret.
    headers: dict[str, str] = field(default_factory=dict)

    def header_values(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """The headers as sent: "$NAME" values read from the environment."""
        environ = os.environ if environ is None else environ
        return {
            name: environ.get(value[1:], "") if value.startswith("$") else value
            for name, value in self.headers.items()
        }

    def secret_header_values(self) -> list[str]:
        """The values read from the environment: redacted like the key."""
        sent = self.header_values()
        return [sent[name] for name, value in self.headers.items() if value.startswith("$")]

    def model_for(self, capability: str) -> str | None:
        if capability in NAMED_ONLY:
            return self.models.get(capability) or None
        model = self.models.get(capability, self.models.get("default"))
        return model or None


@dataclass(frozen=True)
class ProviderConfig:
    """One provider to test, with the dialects it offers. Holds the key's variable name,
    never the key."""

    name: str
    dialects: dict[str, DialectConfig]
    api_key_env: str | None = None
    concurrency: int = 4
    timeout_s: float = 60.0
    max_tokens_total: int | None = None
    # Where fixtures/images is published for the provider to fetch (URL image cases).
    image_base_url: str | None = None
    # What the provider charges per million tokens (``input``, ``output``): for the
    # report's estimated cost of the run. Empty when the config gives no prices.
    prices: dict[str, float] = field(default_factory=dict)
    # The parameter OpenAI probes bound their cost with: max_completion_tokens for a
    # provider whose models refuse max_tokens (the official o-series do).
    token_param: str = "max_tokens"
    # The provider's limits for the key, per minute: requests, and tokens (prompt and
    # cap, counted when sent). The whole run keeps under them; None is no limit.
    rpm: int | None = None
    tpm: int | None = None

    def dialect(self, name: str) -> DialectConfig | None:
        return self.dialects.get(name)

    def api_key(self) -> str | None:
        """The key from its environment variable (checked to be set at load time), without
        the line end `echo $KEY > file` leaves: no header can carry it, and an error
        quoting the header would spell the key with an escaped newline."""
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        return key.strip() if key is not None else None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> ProviderConfig:
        data = json.loads(text)
        data["dialects"] = {name: DialectConfig(**d) for name, d in data["dialects"].items()}
        return cls(**data)


def single(
    name: str,
    base_url: str,
    *,
    dialect: str = "openai",
    models: dict[str, str] | None = None,
    **values: Any,
) -> ProviderConfig:
    """A provider offering one dialect, its auth style the dialect's own."""
    spoken = DialectConfig(base_url=base_url, auth=DEFAULT_AUTH[dialect], models=models or {})
    return ProviderConfig(name=name, dialects={dialect: spoken}, **values)


@dataclass(frozen=True)
class Overrides:
    """Values given as CLI flags; None means not given. ``dialect`` is the dialect the
    flags describe (and, with a config file, the only one run)."""

    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    concurrency: int | None = None
    timeout_s: float | None = None
    max_tokens_total: int | None = None
    image_base_url: str | None = None
    dialect: str | None = None
    auth: str | None = None


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
    if overrides.dialect is not None and overrides.dialect not in DIALECTS:
        raise ConfigError(
            f"--dialect {overrides.dialect}: not a dialect; choose from {', '.join(DIALECTS)}"
        )
    if overrides.auth is not None and overrides.auth not in AUTH_STYLES:
        raise ConfigError(f"--auth {overrides.auth}: choose from {', '.join(AUTH_STYLES)}")
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
        provider = ProviderConfig(name=_name_from_url(overrides.base_url or ""), dialects={})
    provider = apply_overrides(provider, overrides)
    validate(provider, "command line" if config_path is None else str(config_path), environ)
    return provider


def apply_overrides(provider: ProviderConfig, o: Overrides) -> ProviderConfig:
    """The provider with every value given as a flag replacing the file's. Flags about a
    dialect (base URL, model, auth) apply to ``o.dialect``, else to the provider's only
    dialect, else to openai; naming a dialect runs that one alone."""
    changes: dict[str, Any] = {}
    dialects = dict(provider.dialects)
    if o.auth and o.dialect is None and len(dialects) > 1:
        raise ConfigError(
            f"--auth: provider {provider.name} offers several dialects; "
            "say which with --dialect (e.g. --dialect anthropic --auth bearer)"
        )
    name = o.dialect or (next(iter(dialects)) if len(dialects) == 1 else "openai")
    if o.dialect is not None or o.base_url is not None or o.model or o.auth:
        current = dialects.get(name)
        if current is None:
            if o.base_url is None:
                raise ConfigError(
                    f"provider {provider.name} offers no {name} dialect; give its --base-url"
                )
            current = DialectConfig(base_url=o.base_url, auth=DEFAULT_AUTH[name])
        current = replace(
            current,
            base_url=o.base_url if o.base_url is not None else current.base_url,
            auth=o.auth or current.auth,
            models={**current.models, "default": o.model} if o.model else current.models,
        )
        dialects = {name: current} if o.dialect is not None else {**dialects, name: current}
        changes["dialects"] = dialects
    for key in ("api_key_env", "concurrency", "timeout_s", "max_tokens_total", "image_base_url"):
        value = getattr(o, key)
        if value is not None:
            changes[key] = value
    return replace(provider, **changes)


_KINDS: dict[str, type | tuple[type, ...]] = {
    "base_url": str,
    "api_key_env": str,
    "dialects": (list, dict),
    "models": dict,
    "concurrency": int,
    "timeout_s": (int, float),
    "max_tokens_total": int,
    "image_base_url": str,
    "auth": str,
    "headers": dict,
    "prices": dict,
    "token_param": str,
    "rpm": int,
    "tpm": int,
}
PRICE_KEYS = ("input", "output")
TOKEN_PARAMS = ("max_tokens", "max_completion_tokens")


def _check_types(table: dict[str, Any], where: str) -> None:
    for key, kind in _KINDS.items():
        value = table.get(key)
        # bool is an int to Python, yet `concurrency = true` is a mistake.
        if key in table and (isinstance(value, bool) or not isinstance(value, kind)):
            raise ConfigError(f"{where}: {key} has the wrong type ({type(value).__name__})")


def _dialect_from_table(
    name: str, table: Any, where: str, defaults: dict[str, Any]
) -> DialectConfig:
    if name not in DIALECTS:
        raise ConfigError(
            f"{where}: dialect {name!r} is not supported; supported: {', '.join(DIALECTS)}"
        )
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: dialects.{name} must be a table")
    unknown = sorted(set(table) - set(_DIALECT_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: dialects.{name}: unknown key {unknown[0]!r}; known keys: {', '.join(_DIALECT_KEYS)}"
        )
    _check_types(table, f"{where}: dialects.{name}")
    values = {**defaults, **table}
    if "base_url" not in values:
        raise ConfigError(f"{where}: dialects.{name}.base_url is missing")
    models = values.get("models", {})
    for capability, model in models.items():
        if capability != "default" and capability not in DIALECT_CAPABILITIES[name]:
            raise ConfigError(
                f"{where}: models.{capability} is not a capability of {name}; "
                f"use default or one of {', '.join(DIALECT_CAPABILITIES[name])}"
            )
        if not isinstance(model, str):
            raise ConfigError(f"{where}: models.{capability} must be a string")
    for header, value in values.get("headers", {}).items():
        if not isinstance(value, str):
            raise ConfigError(f"{where}: headers.{header} must be a string")
    auth = values.get("auth", DEFAULT_AUTH[name])
    if auth not in AUTH_STYLES:
        raise ConfigError(
            f"{where}: dialects.{name}.auth is {auth!r}; choose from {', '.join(AUTH_STYLES)}"
        )
    return DialectConfig(
        base_url=values["base_url"],
        auth=auth,
        models=dict(models),
        headers=dict(values.get("headers", {})),
    )


def _provider_from_table(name: str, table: Any, where: str) -> ProviderConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    known = {"base_url", "models", *ProviderConfig.__dataclass_fields__} - {"name"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(known))}"
        )
    _check_types(table, where)
    # The short form: one base_url and models for every dialect listed (openai by default).
    shared = {k: table[k] for k in ("base_url", "models") if k in table}
    spoken = table.get("dialects", ["openai"])
    if isinstance(spoken, list):
        if "base_url" not in table:
            raise ConfigError(f"{where}: base_url is missing")
        if len(spoken) > 1 and "anthropic" in spoken:
            # OpenAI base URLs end in /v1 and Anthropic ones do not: one URL cannot serve both.
            raise ConfigError(
                f"{where}: one base_url for several dialects; give each its own under "
                f"[providers.{name}.dialects.<dialect>] (Anthropic's has no /v1)"
            )
        tables: dict[str, Any] = {str(d): {} for d in spoken}
    else:
        tables = spoken
    if not tables:
        raise ConfigError(f"{where}: no dialect offered; list one under dialects")
    dialects = {d: _dialect_from_table(d, t, where, shared) for d, t in tables.items()}
    values = {k: v for k, v in table.items() if k not in ("base_url", "models", "dialects")}
    if "timeout_s" in values:
        values["timeout_s"] = float(values["timeout_s"])
    if "prices" in values:
        values["prices"] = _prices(values["prices"], where)
    return ProviderConfig(name=name, dialects=dialects, **values)


def _prices(table: dict[str, Any], where: str) -> dict[str, float]:
    unknown = sorted(set(table) - set(PRICE_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: prices.{unknown[0]} is not a price; give input and output "
            "(per million tokens)"
        )
    prices = {}
    for key, value in table.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (math.isfinite(value) and value >= 0)
        ):
            raise ConfigError(
                f"{where}: prices.{key} must be a number of currency units per million tokens"
            )
        prices[key] = float(value)
    return prices


def validate(provider: ProviderConfig, where: str, environ: Mapping[str, str]) -> None:
    """Raise a ConfigError naming the first problem with a resolved provider."""
    if not _NAME.match(provider.name):
        raise ConfigError(
            f"{where}: provider name {provider.name!r} may use only A-Z a-z 0-9 _ . + -"
        )
    if not provider.dialects:
        raise ConfigError(f"{where}: no dialect offered")
    for name, spoken in provider.dialects.items():
        if name not in DIALECTS:
            raise ConfigError(
                f"{where}: dialect {name!r} is not supported; supported: {', '.join(DIALECTS)}"
            )
        check_base_url(spoken.base_url, name)
        if not spoken.model_for("text"):
            raise ConfigError(
                f"{where}: no model given for {name}; set models.default or pass --model"
            )
        for header, value in spoken.headers.items():
            if value.startswith("$") and not environ.get(value[1:]):
                raise ConfigError(
                    f"environment variable {value[1:]} is not set (it should hold the "
                    f"{header} header of {provider.name}'s {name} dialect)"
                )
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
    if provider.token_param not in TOKEN_PARAMS:
        raise ConfigError(
            f"{where}: token_param is {provider.token_param!r}; choose from {', '.join(TOKEN_PARAMS)}"
        )
    if provider.max_tokens_total is not None and provider.max_tokens_total < 1:
        raise ConfigError(f"{where}: max_tokens_total must be at least 1")
    for key in ("rpm", "tpm"):
        if getattr(provider, key) is not None and getattr(provider, key) < 1:
            raise ConfigError(f"{where}: {key} must be at least 1 (per minute), or left out")
    if provider.image_base_url is not None:
        parts = urlsplit(provider.image_base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"{where}: image_base_url {provider.image_base_url!r} is not an http(s) URL "
                "(expected where fixtures/images is published, e.g. https://host/fixtures/images/)"
            )


def check_base_url(url: str, dialect: str = "openai") -> None:
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
    if dialect == "anthropic" and path.endswith("/v1"):
        # Anthropic's SDKs and Claude Code append /v1/messages to the base URL themselves.
        raise ConfigError(
            f"base URL {url!r} ends in /v1; Anthropic clients take the URL without it "
            f"(ANTHROPIC_BASE_URL={url.rstrip('/')[:-3]!r}) and append /v1/messages"
        )
    # An Anthropic base URL has no /v1: the endpoint is cut back to the host's path.
    suffixes = [f"/v1{s}" for s in _ENDPOINT_SUFFIXES] if dialect == "anthropic" else []
    for suffix in [*suffixes, *_ENDPOINT_SUFFIXES]:
        if path.endswith(suffix):
            base = url.rstrip("/")[: -len(suffix)]
            raise ConfigError(
                f"base URL {url!r} is an endpoint, not a base URL; use {base!r} "
                f"(the suite appends {suffix} itself, like the official SDKs)"
            )


def _name_from_url(url: str) -> str:
    host = urlsplit(url).hostname or "provider"
    return re.sub(r"[^A-Za-z0-9_.-]", "-", host)
