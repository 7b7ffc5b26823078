"""The reference provider: a spec-faithful local OpenAI-compatible API with a fault catalog."""

from __future__ import annotations

from chatconform.reference.app import create_app
from chatconform.reference.faults import FAULTS, Fault, check_fault_names
from chatconform.reference.server import ReferenceServer

__all__ = ["FAULTS", "Fault", "ReferenceServer", "check_fault_names", "create_app"]
