"""Where the project's data lives: schemas, suites, fixtures (beside src/ in the repo)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = ROOT / "schemas"
SUITES_DIR = ROOT / "suites"
FIXTURES_DIR = ROOT / "fixtures"
