"""The conformance suites, one module per capability per dialect."""
