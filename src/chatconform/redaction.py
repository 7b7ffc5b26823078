"""Secret redaction, applied once at the recording client for everything downstream."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

REDACTED = "[REDACTED]"
OTHER_CREDENTIAL = "[REDACTED: not the configured key]"

# Headers that carry credentials whatever their value; redacted even when the
# value is not a configured secret (the wrong-key probe, a proxy's own token).
SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "api-key", "proxy-authorization", "cookie", "set-cookie"}
)


class Redactor:
    """Replaces configured secret values, and credential headers, with ``[REDACTED]``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is replaced whole.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, REDACTED)
        return value

    def bytes(self, value: bytes) -> bytes:
        for secret in self._secrets:
            value = value.replace(secret.encode(), REDACTED.encode())
        return value

    def cut_bytes(self, value: bytes) -> bytes:
        """``bytes`` for a body cut short: a secret's beginning left at the cut goes too."""
        value = self.bytes(value)
        for secret in self._secrets:
            raw = secret.encode()
            for size in range(len(raw) - 1, 3, -1):
                if value.endswith(raw[:size]):
                    return value[:-size] + REDACTED.encode()
        return value

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Secrets replaced in every value; credential headers never kept as sent."""
        redacted = {}
        for name, value in headers.items():
            clean = self.text(value)
            if name.lower() in SECRET_HEADERS and REDACTED not in clean:
                clean = OTHER_CREDENTIAL
            redacted[name] = clean
        return redacted
