"""Reports over results files: the compatibility matrix, ESS/s charts, each cell's history, what changed
between a row's last two runs, and regressions.

    python -m harness.host.report [FILES or FOLDERS ...] [--out reports] [--run-id ID] [--fail-on-regression]
        reads every results file (default: results/**/*.json), writes <out>/<run-id>/report.md and
        report.html (static: no scripts, no external files) and prints both paths. Each row's latest run
        is compared with the row's run before it (same tier). `nox -s compare` results and change points
        among the files are the evidence of speed changes.

    python -m harness.host.report --baseline A.json --candidate B.json [--evidence FILE/FOLDER] [--fail-on-regression]
        compares two runs of one row and prints one line per finding; writes no report.

A cell regressed when it passed and now does not, or when `nox -s compare` confirmed it slower at this
run (interleaved A/B repetitions, an interval, a level: docs/verdicts.md). Two runs' timings alone flag
nothing: on unchanged code they differ by up to 44% on a shared 2-core machine. A change point that the
change-point detector found at the run (`nox -s compare -- --changepoints`) is flagged as a candidate with
the command that confirms it, and a known failure that now passes is reported ("remove its entry"); neither
is a regression. With --fail-on-regression the exit status is 1 when a cell regressed; usage errors exit 2.
"""

from __future__ import annotations

from harness.host.report.cli import main, write_report
from harness.host.report.comparison import (
    CANDIDATE,
    CHANCE_FAILURE,
    KNOWN_FAILURE_PASSES,
    SLOWDOWN,
    SPEEDUP,
    STATUS_REGRESSION,
    Finding,
    SpeedEvidence,
    compare,
    speed_up,
)
from harness.host.report.loading import Run, ess_per_second, load_results

__all__ = [
    "CANDIDATE",
    "CHANCE_FAILURE",
    "KNOWN_FAILURE_PASSES",
    "SLOWDOWN",
    "SPEEDUP",
    "STATUS_REGRESSION",
    "Finding",
    "SpeedEvidence",
    "Run",
    "compare",
    "ess_per_second",
    "load_results",
    "main",
    "speed_up",
    "write_report",
]
