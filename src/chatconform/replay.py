"""Replay: a client that answers a case's requests from a run's wire archive, sending nothing.

`chatconform rejudge` runs the suites again with it: every case sends the requests the
installed version builds, and each gets the answer recorded for the same request (method,
URL and body) in that case, in order. A request the recorded case did not send may have
been sent by another case of the run (a model's calibration is asked by whichever case
needs it first, on whichever worker); its recorded answer serves. A request no case sent
gets an exchange without a response, which makes the case inconclusive: the archive holds
no evidence for it, and no verdict is made up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from chatconform.archive import Archive, exchange_from_record, request_key
from chatconform.client import Cut, Limits, request_body
from chatconform.exchange import Exchange, RecordedRequest
from chatconform.redaction import Redactor

NOT_ARCHIVED = (
    "not in the wire archive: the recorded run did not send this request "
    "(the suite changed since), so it cannot be judged offline"
)


class ReplayClient:
    """One dialect's base URL over an archive; ``for_case`` gives a case its answers."""

    def __init__(
        self,
        archive: Archive,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        redactor: Redactor | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.archive = archive
        self.base_url = base_url.rstrip("/")
        self.limits = limits or Limits()
        self._headers = dict(headers or {})
        self._redactor = redactor or Redactor()
        # Every recorded answer by request, whichever case sent it: the first one recorded.
        self._any_case: dict[str, dict[str, Any]] = {}
        for entries in archive.cases.values():
            for entry in entries:
                self._any_case.setdefault(entry["request"]["key"], entry)

    def for_case(self, case_id: str) -> ReplayCaseClient:
        return ReplayCaseClient(self, list(self.archive.cases.get(case_id, [])))

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"


class ReplayCaseClient:
    """The recording client's ``request`` for one case, answered from the archive."""

    offline: ClassVar[bool] = True

    def __init__(self, replay: ReplayClient, recorded: list[dict[str, Any]]) -> None:
        self._replay = replay
        self._pending = recorded
        self.base_url = replay.base_url
        self.limits = replay.limits

    def url(self, path: str) -> str:
        return self._replay.url(path)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        cut: Cut | None = None,
    ) -> Exchange:
        """The recorded answer to this request; ``headers`` and ``cut`` change nothing,
        since the answer is what the provider sent then."""
        content = request_body(json, content)
        redactor = self._replay._redactor
        url = redactor.text(self.url(path))
        body = redactor.bytes(content or b"")
        key = request_key(method, url, body)
        for n, entry in enumerate(self._pending):
            if entry["request"]["key"] == key:
                del self._pending[n]
                return exchange_from_record(entry)
        elsewhere = self._replay._any_case.get(key)
        if elsewhere is not None:
            return exchange_from_record(elsewhere)
        sent = {**self._replay._headers, **(headers or {})}
        return Exchange(
            request=RecordedRequest(
                method=method,
                url=url,
                headers=redactor.headers({k: v for k, v in sent.items() if v is not None}),
                body=body,
            ),
            streamed=stream,
            error=NOT_ARCHIVED,
        )
