"""Fixtures for the reference provider tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from reference_helpers import Api


@pytest.fixture
def api() -> Api:
    return Api()


@pytest.fixture
def make_api() -> Callable[..., Api]:
    return Api
