"""The version of the results-file schema (documented in harness.worker.results), shared with the reports."""

SCHEMA = "pymc-matrix-results/1"
