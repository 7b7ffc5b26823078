"""`python -m chatconform` that a Ctrl-C interrupts, for the tests that send one."""

from __future__ import annotations

import sys

# Interruptible even where the tests run as a background job: such a job starts with
# SIGINT ignored, and Python then never raises KeyboardInterrupt.
INTERRUPTIBLE = [
    sys.executable,
    "-c",
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('chatconform', run_name='__main__', alter_sys=True)",
]
