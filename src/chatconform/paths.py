"""Where the project's data lives: schemas, suites, fixtures.

In a clone they sit beside src/; an installed wheel carries them inside the package, under
``chatconform/data`` (pyproject's force-include), so `chatconform run` works from any
directory.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGED = Path(__file__).resolve().parent / "data"
ROOT = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).resolve().parents[2]
SCHEMAS_DIR = ROOT / "schemas"
SUITES_DIR = ROOT / "suites"
FIXTURES_DIR = ROOT / "fixtures"
