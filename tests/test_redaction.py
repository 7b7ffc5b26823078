"""Tests of secret redaction (chatconform.redaction)."""

from __future__ import annotations

import pytest

from chatconform.redaction import OTHER_CREDENTIAL, REDACTED, SECRET_HEADERS, Redactor

KEY = "sk-live-abcdef123456"


def test_text_and_bytes_replace_every_occurrence() -> None:
    redactor = Redactor([KEY])
    assert redactor.text(f"{KEY} and {KEY}") == f"{REDACTED} and {REDACTED}"
    assert redactor.bytes(f"key={KEY};".encode()) == f"key={REDACTED};".encode()


def test_secret_containing_another_is_replaced_whole() -> None:
    redactor = Redactor(["abcd", "abcdefgh"])
    assert redactor.text("x abcdefgh y abcd") == f"x {REDACTED} y {REDACTED}"


@pytest.mark.parametrize("secret", ["", "abc"])
def test_empty_and_very_short_secrets_are_not_redacted(secret: str) -> None:
    # Redacting "abc" would shred every recorded body; keys are never that short.
    assert Redactor([secret]).text("abc abc") == "abc abc"


def test_no_secrets_leaves_text_unchanged() -> None:
    assert Redactor().text("Bearer anything") == "Bearer anything"


def test_headers_replace_the_secret_and_keep_the_scheme() -> None:
    redacted = Redactor([KEY]).headers({"Authorization": f"Bearer {KEY}", "X-Other": KEY})
    assert redacted == {"Authorization": f"Bearer {REDACTED}", "X-Other": REDACTED}


@pytest.mark.parametrize("name", [*sorted(SECRET_HEADERS), "X-Api-Key", "AUTHORIZATION"])
def test_credential_header_with_another_value_is_never_kept(name: str) -> None:
    assert Redactor([KEY]).headers({name: "sk-someone-else"}) == {name: OTHER_CREDENTIAL}


def test_credential_headers_redacted_without_any_configured_secret() -> None:
    assert Redactor().headers({"x-api-key": "sk-x", "accept": "*/*"}) == {
        "x-api-key": OTHER_CREDENTIAL,
        "accept": "*/*",
    }


def test_cut_bytes_also_removes_a_secret_beginning_left_at_the_cut() -> None:
    redactor = Redactor([KEY])
    assert redactor.cut_bytes(b"key=" + KEY[:10].encode()) == b"key=" + REDACTED.encode()
    assert redactor.cut_bytes(f"{KEY} x".encode()) == f"{REDACTED} x".encode()
    # Fewer than four characters of a key are not a leak worth mangling evidence for.
    assert redactor.cut_bytes(b"say sk-") == b"say sk-"
