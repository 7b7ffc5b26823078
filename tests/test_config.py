"""Provider configuration: the TOML file, flags over it, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatconform.config import (
    ConfigError,
    Overrides,
    ProviderConfig,
    check_base_url,
    load_file,
    resolve,
    single,
)

GOOD = """
[providers.acme]
base_url = "https://api.acme.example/v1"
api_key_env = "ACME_KEY"
dialects = ["openai"]
concurrency = 8
timeout_s = 30
max_tokens_total = 5000

[providers.acme.models]
default = "gpt-4o-mini"
vision = "gpt-4o"
tools = ""
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "chatconform.toml"
    path.write_text(text)
    return path


def test_a_provider_loads_with_every_field(tmp_path: Path) -> None:
    provider = load_file(write(tmp_path, GOOD))["acme"]
    assert provider.dialects["openai"].base_url == "https://api.acme.example/v1"
    assert provider.concurrency == 8 and provider.timeout_s == 30.0
    assert provider.dialects["openai"].model_for("text") == "gpt-4o-mini"
    assert provider.dialects["openai"].model_for("vision") == "gpt-4o"
    assert provider.dialects["openai"].model_for("tools") is None, (
        "an empty model switches a capability off"
    )


def test_flags_override_the_file(tmp_path: Path) -> None:
    provider = resolve(
        config_path=write(tmp_path, GOOD),
        provider_name=None,
        overrides=Overrides(model="other", concurrency=2),
        environ={"ACME_KEY": "k"},
    )
    assert provider is not None
    assert (
        provider.dialects["openai"].model_for("text") == "other"
        and provider.dialects["openai"].model_for("vision") == "gpt-4o"
    )
    assert provider.concurrency == 2


def test_json_round_trip_keeps_everything_but_secrets() -> None:
    provider = single("p", "http://h/v1", api_key_env="K", models={"default": "m"})
    assert ProviderConfig.from_json(provider.to_json()) == provider
    assert "secret" not in provider.to_json()


def test_nothing_configured_means_the_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve(config_path=None, provider_name=None, overrides=Overrides(), environ={}) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[providers.a\nbase_url = 1", "not valid TOML"),
        ("[other]\nx = 1", "no [providers.<name>] table"),
        ('[providers.a]\napi_key_env = "K"', "base_url is missing"),
        ('[providers.a]\nbase_url = "http://h/v1"\ncolour = "red"', "unknown key 'colour'"),
        (
            '[providers.a]\nbase_url = "http://h/v1"\nconcurrency = "4"',
            "concurrency has the wrong type",
        ),
        (
            '[providers.a]\nbase_url = "http://h/v1"\nconcurrency = true',
            "concurrency has the wrong type",
        ),
        (
            '[providers.a]\nbase_url = "http://h/v1"\nmodels = { speech = "x" }',
            "models.speech is not a capability",
        ),
        (
            '[providers.a]\nbase_url = "http://h/v1"\nprices = { input = 1, cached = 2 }',
            "prices.cached is not a price",
        ),
        (
            '[providers.a]\nbase_url = "http://h/v1"\nprices = { output = -1 }',
            "prices.output must be a number",
        ),
        (
            '[providers.a]\nbase_url = "http://h/v1"\nprices = { output = nan }',
            "prices.output must be a number",
        ),
        ('[providers.a]\nbase_url = "http://h/v1"\nprices = 3', "prices has the wrong type"),
    ],
)
def test_a_bad_file_gets_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")) as error:
        load_file(write(tmp_path, text))
    assert "\n" not in str(error.value)


def test_toml_errors_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="line 3"):
        load_file(write(tmp_path, '[providers.a]\nbase_url = "http://h/v1"\nmodels = {\n'))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml not found"):
        load_file(tmp_path / "nope.toml")


def test_unknown_provider_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="known providers: acme"):
        resolve(
            config_path=write(tmp_path, GOOD),
            provider_name="zeta",
            overrides=Overrides(),
            environ={},
        )


def test_several_providers_need_a_choice(tmp_path: Path) -> None:
    text = GOOD + '\n[providers.beta]\nbase_url = "https://b.example/v1"\n'
    with pytest.raises(
        ConfigError, match=r"several providers \(acme, beta\); choose one with --provider"
    ):
        resolve(
            config_path=write(tmp_path, text), provider_name=None, overrides=Overrides(), environ={}
        )


def test_an_unset_key_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment variable ACME_KEY is not set"):
        resolve(
            config_path=write(tmp_path, GOOD), provider_name=None, overrides=Overrides(), environ={}
        )


def test_flags_alone_need_model_and_key_variable() -> None:
    with pytest.raises(ConfigError, match="no model given"):
        resolve(
            config_path=None,
            provider_name=None,
            overrides=Overrides(base_url="http://h/v1", api_key_env="K"),
            environ={"K": "k"},
        )
    with pytest.raises(ConfigError, match="no key variable"):
        resolve(
            config_path=None,
            provider_name=None,
            overrides=Overrides(base_url="http://h/v1", model="m"),
            environ={},
        )


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("https://api.x.example/v1/chat/completions", "use 'https://api.x.example/v1'"),
        ("https://api.x.example/v1/models/", "use 'https://api.x.example/v1'"),
        ("api.x.example/v1", "not an http(s) URL"),
    ],
)
def test_an_endpoint_pasted_as_base_url_gets_a_hint(url: str, hint: str) -> None:
    with pytest.raises(ConfigError, match=hint.replace("(", r"\(").replace(")", r"\)")):
        check_base_url(url)


def test_a_base_url_is_accepted() -> None:
    check_base_url("https://api.x.example/v1")
    check_base_url("http://127.0.0.1:8000/v1/")


def test_the_shipped_example_config_loads() -> None:
    example = Path(__file__).parents[1] / "providers.example.toml"
    providers = load_file(example)
    assert providers["acme"].api_key_env == "ACME_API_KEY"
    assert providers["acme"].dialects["openai"].model_for("vision") == "gpt-4o"
    assert providers["acme"].prices == {"input": 0.15, "output": 0.60}
    relay = providers["relay"].dialects
    assert relay["anthropic"].base_url == "https://relay.example"
    assert relay["anthropic"].model_for("thinking") == "claude-sonnet-4-5"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://alice:s3cret@h.example/v1", "contains credentials"),
        ("https://h.example/v1?api-version=2024", "query string or fragment"),
        ("https://h.example/v1#x", "query string or fragment"),
        ("http://[::1/v1", "not a valid URL"),
        ("http://h.example:99999/v1", "not a valid URL"),
        ("http://h.example:abc/v1", "not a valid URL"),
        ("https://h.example/v1\n", "white space"),
    ],
)
def test_a_base_url_the_sdks_would_mangle_is_refused(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        check_base_url(url)
    assert "s3cret" not in str(error.value)


def test_a_config_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "chatconform.toml"
    path.write_bytes(b'[providers.a]\nbase_url = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_file(path)


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf")])
def test_timeouts_must_be_positive_and_finite(tmp_path: Path, timeout: float) -> None:
    with pytest.raises(ConfigError, match="timeout_s must be a positive number"):
        resolve(
            config_path=write(tmp_path, GOOD),
            provider_name=None,
            overrides=Overrides(timeout_s=timeout),
            environ={"ACME_KEY": "k"},
        )


def test_rate_limits_load_and_default_to_none(tmp_path: Path) -> None:
    limited = GOOD.replace("timeout_s = 30", "timeout_s = 30\nrpm = 60\ntpm = 90000")
    loaded = load_file(write(tmp_path, limited))["acme"]
    assert (loaded.rpm, loaded.tpm) == (60, 90000)
    provider = load_file(write(tmp_path, GOOD))["acme"]
    assert (provider.rpm, provider.tpm) == (None, None)
    assert ProviderConfig.from_json(provider.to_json()) == provider


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("rpm = 0", "rpm must be at least 1"),
        ("tpm = -5", "tpm must be at least 1"),
        ('rpm = "60"', "rpm has the wrong type"),
        ("tpm = 1.5", "tpm has the wrong type"),
    ],
)
def test_rate_limits_must_be_positive_integers(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve(
            config_path=write(tmp_path, GOOD.replace("timeout_s = 30", f"timeout_s = 30\n{line}")),
            provider_name=None,
            overrides=Overrides(),
            environ={"ACME_KEY": "k"},
        )


TWO_DIALECTS = """
[providers.relay]
api_key_env = "RELAY_KEY"

[providers.relay.dialects.openai]
base_url = "https://relay.example/v1"
models = { default = "gpt-4o-mini" }

[providers.relay.dialects.anthropic]
base_url = "https://relay.example"
auth = "bearer"
models = { default = "claude-sonnet-4-5", thinking = "claude-sonnet-4-5" }
headers = { "x-relay-group" = "claude" }
"""


def test_each_dialect_has_its_own_base_url_auth_models_and_headers(tmp_path: Path) -> None:
    provider = load_file(write(tmp_path, TWO_DIALECTS))["relay"]
    openai, anthropic = provider.dialects["openai"], provider.dialects["anthropic"]
    assert (openai.base_url, openai.auth) == ("https://relay.example/v1", "bearer")
    assert (anthropic.base_url, anthropic.auth) == ("https://relay.example", "bearer")
    assert anthropic.headers == {"x-relay-group": "claude"}
    assert anthropic.model_for("thinking") == "claude-sonnet-4-5"
    assert openai.model_for("thinking") is None, "default is no thinking model"


def test_anthropic_auth_defaults_to_x_api_key(tmp_path: Path) -> None:
    text = TWO_DIALECTS.replace('auth = "bearer"\n', "")
    assert load_file(write(tmp_path, text))["relay"].dialects["anthropic"].auth == "x-api-key"


def test_dialect_flag_runs_that_dialect_alone(tmp_path: Path) -> None:
    provider = resolve(
        config_path=write(tmp_path, TWO_DIALECTS),
        provider_name=None,
        overrides=Overrides(dialect="anthropic", auth="x-api-key", model="claude-x"),
        environ={"RELAY_KEY": "k"},
    )
    assert provider is not None and list(provider.dialects) == ["anthropic"]
    spoken = provider.dialects["anthropic"]
    assert (spoken.auth, spoken.model_for("text")) == ("x-api-key", "claude-x")


def test_flags_alone_describe_an_anthropic_provider() -> None:
    provider = resolve(
        config_path=None,
        provider_name=None,
        overrides=Overrides(
            dialect="anthropic", base_url="http://127.0.0.1:9", model="m", api_key_env="K"
        ),
        environ={"K": "k"},
    )
    assert provider is not None
    assert provider.dialects["anthropic"].base_url == "http://127.0.0.1:9"
    assert provider.dialects["anthropic"].auth == "x-api-key"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            '[providers.r.dialects.gemini]\nbase_url = "https://h"',
            "dialect 'gemini' is not supported",
        ),
        ('[providers.r.dialects.anthropic]\nmodels = { default = "m" }', "base_url is missing"),
        (
            '[providers.r.dialects.anthropic]\nbase_url = "https://h"\nauth = "basic"',
            "auth is 'basic'",
        ),
        (
            '[providers.r.dialects.anthropic]\nbase_url = "https://h"\ncolour = "red"',
            "unknown key 'colour'",
        ),
        (
            '[providers.r.dialects.openai]\nbase_url = "https://h/v1"\nmodels = { thinking = "m" }',
            "models.thinking is not a capability of openai",
        ),
    ],
)
def test_a_bad_dialect_table_gets_one_clear_line(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        load_file(write(tmp_path, f'[providers.r]\napi_key_env = "K"\n{table}\n'))
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("https://h.example/v1", "'https://h.example'"),
        ("https://h.example/v1/messages", "'https://h.example'"),
        ("https://h.example/messages", "'https://h.example'"),
    ],
)
def test_an_anthropic_base_url_with_v1_gets_a_hint(url: str, hint: str) -> None:
    with pytest.raises(ConfigError, match=hint):
        check_base_url(url, "anthropic")


def test_a_header_value_can_come_from_the_environment(tmp_path: Path) -> None:
    text = TWO_DIALECTS.replace('"x-relay-group" = "claude"', '"x-relay-token" = "$RELAY_TOKEN"')
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match="RELAY_TOKEN is not set"):
        resolve(
            config_path=path, provider_name=None, overrides=Overrides(), environ={"RELAY_KEY": "k"}
        )
    provider = resolve(
        config_path=path,
        provider_name=None,
        overrides=Overrides(),
        environ={"RELAY_KEY": "k", "RELAY_TOKEN": "tok-secret"},
    )
    assert provider is not None
    spoken = provider.dialects["anthropic"]
    assert spoken.header_values({"RELAY_TOKEN": "tok-secret"}) == {"x-relay-token": "tok-secret"}
    assert "tok-secret" not in provider.to_json()


def test_auth_without_dialect_is_ambiguous_for_a_provider_of_several(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="say which with --dialect"):
        resolve(
            config_path=write(tmp_path, TWO_DIALECTS),
            provider_name=None,
            overrides=Overrides(auth="bearer"),
            environ={"RELAY_KEY": "k"},
        )


def test_one_base_url_for_both_dialects_points_at_the_table_form(tmp_path: Path) -> None:
    text = '[providers.r]\nbase_url = "https://h/v1"\napi_key_env = "K"\ndialects = ["openai", "anthropic"]\n'
    with pytest.raises(ConfigError, match=r"\[providers.r.dialects.<dialect>\]"):
        load_file(write(tmp_path, text))


def test_token_param_loads_defaults_and_survives_the_round_trip(tmp_path: Path) -> None:
    switched = GOOD.replace(
        "timeout_s = 30", 'timeout_s = 30\ntoken_param = "max_completion_tokens"'
    )
    provider = resolve(
        config_path=write(tmp_path, switched),
        provider_name=None,
        overrides=Overrides(),
        environ={"ACME_KEY": "k"},
    )
    assert provider is not None and provider.token_param == "max_completion_tokens"
    assert ProviderConfig.from_json(provider.to_json()) == provider
    assert load_file(write(tmp_path, GOOD))["acme"].token_param == "max_tokens"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('token_param = "max_output_tokens"', "token_param is 'max_output_tokens'; choose from"),
        ("token_param = 5", "token_param has the wrong type"),
    ],
)
def test_a_bad_token_param_gets_one_line(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        resolve(
            config_path=write(tmp_path, GOOD.replace("timeout_s = 30", f"timeout_s = 30\n{line}")),
            provider_name=None,
            overrides=Overrides(),
            environ={"ACME_KEY": "k"},
        )
    assert "\n" not in str(error.value)


def test_the_key_loses_the_line_end_a_key_file_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    """`echo $KEY > file` leaves a newline no header can carry; an error quoting the
    header would spell the key with it escaped, which redaction would not match."""
    monkeypatch.setenv("CC_TEST_KEY", "sk-secretvalue123\n")
    provider = ProviderConfig(name="p", dialects={}, api_key_env="CC_TEST_KEY")
    assert provider.api_key() == "sk-secretvalue123"
