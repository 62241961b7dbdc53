"""The harness, laid out by where its code runs.

- `common/`: what both sides share: statuses, matrix.toml and the run plan, backend registry, device
  checks, the variables cells run with. Imports on Python 3.8 with the standard library alone.
- `host/`: runs inside nox on the machine's Python (>= 3.11): installing rows and locks, reports,
  bisection, tallies. Imports only the standard library and what nox brings (packaging).
- `worker/`: runs inside each row's environment, on the row's Python (3.8 included): evaluating cells in
  worker processes, samplers, diagnostics and verdicts, speed figures, results files.
"""
