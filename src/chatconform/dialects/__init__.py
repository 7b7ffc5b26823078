"""Dialects: the wire protocols a provider may speak, one package each.

A dialect package holds what is specific to its protocol: how neutral fixtures
become its requests, how an exchange reads as a neutral reply, its checks and its
rules (``rules.toml``). What every dialect shares lives beside this package.
"""

from __future__ import annotations

from pathlib import Path

DIALECTS_DIR = Path(__file__).parent
# Dialect ids, as config files, case ids and rule ids spell them.
NAMES = ("openai", "anthropic")
