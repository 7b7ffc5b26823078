"""Wires the harness into the suites; the harness itself is the chatconform.plugin module."""

import os

# The plugin is an entry point; with PYTEST_DISABLE_PLUGIN_AUTOLOAD set it is
# not loaded automatically, yet the suites still need it.
pytest_plugins = ["chatconform.plugin"] if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD") else []

collect_ignore = ["bench", "fixtures", "reports", "schemas"]
