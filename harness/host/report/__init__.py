"""Reports over results files: the compatibility matrix, ESS/s charts, each cell's history, what changed
between a row's last two runs, and regressions.

    python -m harness.host.report [FILES or FOLDERS ...] [--out reports] [--run-id ID] [--threshold 0.3]
                             [--fail-on-regression]
        reads every results file (default: results/**/*.json), writes <out>/<run-id>/report.md and
        report.html (static: no scripts, no external files) and prints both paths. Each row's latest run
        is compared with the row's run before it (same tier).

    python -m harness.host.report --baseline A.json --candidate B.json [--threshold 0.3] [--fail-on-regression]
        compares two runs of one row and prints one line per finding; writes no report.

A cell regressed when it passed and now does not, or when it passed in both runs and got slower by more
than the threshold (sample_s grew, or ESS/s fell, by more than that fraction). A known failure that now
passes is reported too ("remove its entry"), but it is no regression. With --fail-on-regression the exit
status is 1 when a cell regressed; usage errors exit with 2.
"""

from __future__ import annotations

from harness.host.report.cli import main, write_report
from harness.host.report.comparison import (
    KNOWN_FAILURE_PASSES,
    SLOWDOWN,
    STATUS_REGRESSION,
    Finding,
    compare,
    speed_up,
)
from harness.host.report.loading import Run, ess_per_second, load_results

__all__ = [
    "KNOWN_FAILURE_PASSES",
    "SLOWDOWN",
    "STATUS_REGRESSION",
    "Finding",
    "Run",
    "compare",
    "ess_per_second",
    "load_results",
    "main",
    "speed_up",
    "write_report",
]
