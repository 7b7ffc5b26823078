"""The preflight: one cheap authenticated request per dialect, asked as the suite starts.

A dead host, a wrong base URL, a refused key or a server that does not speak the dialect
must cost one line, not a run of confident verdicts. The dialects are asked at once, and
while the suite runs: against a remote provider an answer takes seconds, and a run that
passes its preflight (most do) should not wait for it. When an answer shows the provider
cannot be tested as configured, the run's breaker is tripped with the reason, so no new
request is sent (those already sent are answered or time out); the command then drops
the run and says why in one line.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Callable

import httpx

from chatconform.client import provider_headers, tls_context
from chatconform.config import DialectConfig, ProviderConfig
from chatconform.results import public_url

# The preflight's own bound on each phase of a request (connect, read...).
TIMEOUT_S = 10.0
# And on the whole of it: a dialect asks twice at most, each within its phases' bounds.
DEADLINE_S = 4 * TIMEOUT_S


class PreflightError(Exception):
    """Why the provider cannot be tested as configured, in one actionable line."""


class Preflight:
    """Each dialect asked in a thread of its own, from ``start``; ``wait`` for the verdict.

    ``on_problem`` is called with the reason as soon as an answer shows one (the run's
    breaker trips). The threads are daemons: an interrupted run does not wait for a
    provider that does not answer.
    """

    def __init__(self, provider: ProviderConfig, on_problem: Callable[[str], None]) -> None:
        self.provider = provider
        self._on_problem = on_problem
        self._problems: dict[str, str] = {}
        self._crashes: list[Exception] = []
        self._threads = {
            name: threading.Thread(
                target=self._ask,
                args=(name, spoken),
                name=f"chatconform-preflight-{name}",
                daemon=True,
            )
            for name, spoken in provider.dialects.items()
        }
        self._deadline = 0.0

    def start(self) -> Preflight:
        self._deadline = time.monotonic() + DEADLINE_S
        for thread in self._threads.values():
            thread.start()
        return self

    def wait(self) -> str | None:
        """The problem the answers show (the first dialect's, as when asked in turn), or
        None; a failure of the preflight itself (not the provider's) is raised here."""
        for name, thread in self._threads.items():
            thread.join(max(0.0, self._deadline - time.monotonic()))
            if thread.is_alive():
                base = public_url(self.provider.dialects[name].base_url)
                self._problems.setdefault(
                    name, f"cannot reach {base}: no answer within {DEADLINE_S:g} s"
                )
        if self._crashes:
            raise self._crashes[0]
        for name in self._threads:
            if name in self._problems:
                return self._problems[name]
        return None

    def _ask(self, name: str, spoken: DialectConfig) -> None:
        try:
            _ask_dialect(self.provider, name, spoken)
            return
        except PreflightError as exc:
            self._problems[name] = str(exc)
        except Exception as exc:  # raised by wait, on the main thread, where it is seen
            self._crashes.append(exc)
            return
        # The breaker's file gone or full: the run sends on, and is dropped all the same.
        with contextlib.suppress(OSError):
            self._on_problem(f"the preflight failed: {self._problems[name]}")


def _ask_dialect(provider: ProviderConfig, name: str, spoken: DialectConfig) -> None:
    headers = provider_headers(provider, name)
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
        verify = tls_context()
    except (OSError, ssl.SSLError) as exc:
        raise PreflightError(
            f"cannot load the TLS trust store (SSL_CERT_FILE, SSL_CERT_DIR): {exc}"
        ) from None
    try:
        response = httpx.request(
            method, url, json=body, headers=headers, timeout=TIMEOUT_S, verify=verify
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
