"""The preflight: one cheap authenticated request per dialect, asked as the suite starts.

A dead host, a wrong base URL, a refused key or a server that does not speak the dialect
must cost one line, not a run of confident verdicts. The dialects are asked at once, and
while the suite runs: against a remote provider an answer takes seconds, and a run that
passes its preflight (most do) should not wait for it. When the answer shows the provider
cannot be tested as configured, the run's breaker is tripped with the reason, so nothing
more is sent and the cases in flight end at once; the command then drops the run and
says why in one line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from chatconform.client import tls_context
from chatconform.config import DialectConfig, ProviderConfig
from chatconform.results import public_url

# The preflight's own bound on each request: a host that does not answer is not tested.
TIMEOUT_S = 10.0


class PreflightError(Exception):
    """Why the provider cannot be tested as configured, in one actionable line."""


class Preflight:
    """The preflight asked in a thread for a with-block; ``problem`` once it has answered.

    ``on_problem`` is called with the reason as soon as the answer shows one (the run's
    breaker trips). Leaving the block waits for the answer, unless an exception leaves it;
    a failure of the preflight itself (not the provider's) is raised there.
    """

    def __init__(self, provider: ProviderConfig, on_problem: Callable[[str], None]) -> None:
        self.provider = provider
        self.problem: str | None = None
        self._on_problem = on_problem
        self._crash: Exception | None = None
        # A daemon: an interrupted run does not wait for a provider that does not answer.
        self._thread = threading.Thread(target=self._ask, name="chatconform-preflight", daemon=True)

    def __enter__(self) -> Preflight:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is None:
            self._thread.join()
            if self._crash is not None:
                raise self._crash

    def _ask(self) -> None:
        try:
            check(self.provider)
        except PreflightError as exc:
            self.problem = str(exc)
            self._on_problem(f"the preflight failed: {exc}")
        except Exception as exc:  # raised on the main thread, where it is seen
            self._crash = exc


def check(provider: ProviderConfig) -> None:
    """Ask every dialect at once; the first dialect's problem as a PreflightError."""
    dialects = list(provider.dialects.items())
    with ThreadPoolExecutor(len(dialects) or 1) as pool:
        asked = [pool.submit(_ask_dialect, provider, name, spoken) for name, spoken in dialects]
    # The first dialect's problem is the one reported, as when they were asked in turn.
    for answer in asked:
        answer.result()


def _ask_dialect(provider: ProviderConfig, name: str, spoken: DialectConfig) -> None:
    from chatconform.plugin import DIALECT_HEADERS, auth_headers

    headers = {
        **DIALECT_HEADERS.get(name, {}),
        **spoken.header_values(),
        **auth_headers(spoken.auth, provider.api_key()),
    }
    if name == "anthropic":
        # count_tokens costs nothing, but relays often lack it: then a one-token message.
        base = f"{spoken.base_url.rstrip('/')}/v1/messages"
        ping = {
            "model": spoken.model_for("text"),
            "messages": [{"role": "user", "content": "ping"}],
        }
        tries = [
            ("POST", f"{base}/count_tokens", ping),
            ("POST", base, {**ping, "max_tokens": 1}),
        ]
    else:
        tries = [("GET", f"{spoken.base_url.rstrip('/')}/models", None)]
    for n, request in enumerate(tries, 1):
        if _ask_one(provider, name, spoken, *request, headers, last=n == len(tries)):
            break


def _ask_one(
    provider: ProviderConfig,
    dialect: str,
    spoken: DialectConfig,
    method: str,
    url: str,
    body: dict | None,
    headers: dict[str, str],
    *,
    last: bool,
) -> bool:
    """Whether the request shows the dialect is served; a PreflightError when it cannot be
    used; False when this endpoint is missing and another may tell (not ``last``)."""
    shown = public_url(url)
    try:
        response = httpx.request(
            method, url, json=body, headers=headers, timeout=TIMEOUT_S, verify=tls_context()
        )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        reason = str(exc) or type(exc).__name__
        raise PreflightError(f"cannot reach {shown}: {reason}") from None
    status = response.status_code
    # A relay may lock down or lack count_tokens and still answer messages: ask that too.
    if dialect == "anthropic" and not last and status in (401, 403, 404, 405, 501):
        return False
    if status in (401, 403):
        other = "bearer" if spoken.auth == "x-api-key" else "x-api-key"
        hint = (
            f"; check the variable, or try --dialect anthropic --auth {other}"
            if dialect == "anthropic"
            else ""
        )
        raise PreflightError(
            f"{shown} refused the key in ${provider.api_key_env} sent as {spoken.auth} "
            f"(HTTP {status}){hint or '; check the variable'}"
        )
    if 300 <= status < 400:
        target = public_url(response.headers.get("location", "")) or "elsewhere"
        raise PreflightError(
            f"{shown} redirects (HTTP {status}) to {target}; use the base URL it redirects to"
        )
    if dialect == "openai" and status == 404 and not spoken.base_url.rstrip("/").endswith("/v1"):
        raise PreflightError(
            f"{shown} is not found (HTTP 404); OpenAI-compatible base URLs usually end in /v1: "
            f"try {spoken.base_url.rstrip('/')}/v1"
        )
    if dialect == "anthropic" and (
        status in (404, 405, 501) or (200 <= status < 300 and not _json_object(response))
    ):
        raise PreflightError(
            f"{shown} answered HTTP {status}"
            + ("" if status >= 300 else " without a JSON object")
            + ": the server does not speak Anthropic's Messages API at this base URL "
            "(give the URL without /v1, as ANTHROPIC_BASE_URL)"
        )
    return True


def _json_object(response: httpx.Response) -> bool:
    try:
        return isinstance(response.json(), dict)
    except ValueError:
        return False
