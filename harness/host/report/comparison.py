"""Comparing runs of a row: status and speed findings, which runs to compare, histories, what changed in the
environment, and speed-ups against the row's baseline backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from harness.common.statuses import KNOWN_FAILURE, PASSED
from harness.host.report.loading import ENVIRONMENT_KEYS, Run, ess_per_second, sample_seconds
from harness.host.report.rendering import fmt_rate, fmt_seconds, shorten

# A slowdown must exceed the run-to-run noise of the timings, or every run flags something. Two quick runs
# of the radon cells on unchanged code (2-core shared machine, docs/verdicts.md) differed by 3-44% in warm
# sample_s (median 18%) and ESS/s (median 22%), pymc-c's two-process chains the worst; numpyro's harness
# saw ~2% run and ~20% compile noise on shared runners. 50% sits above all of it; re-measure on your runners.
SLOWDOWN_THRESHOLD = 0.50

# What comparing two runs finds in a cell. Regressions fail --fail-on-regression; FLAGGED ones are printed.
STATUS_REGRESSION, SLOWDOWN, KNOWN_FAILURE_PASSES = "status regression", "slowdown", "known failure passes"
STATUS_CHANGE, SPEEDUP = "status change", "speed-up"
REGRESSIONS = (STATUS_REGRESSION, SLOWDOWN)
FLAGGED = (STATUS_REGRESSION, SLOWDOWN, KNOWN_FAILURE_PASSES)


def speed_up(run: Run, cell: dict[str, Any]) -> Optional[float]:
    """The cell's ESS/s over the row's baseline backend's on the same model; only when both passed, since the
    ESS of a wrong posterior measures nothing."""
    default = run.cells.get((cell["model"], run.baseline))
    if default is None or cell["status"] != PASSED or default["status"] != PASSED:
        return None
    mine, theirs = ess_per_second(cell), ess_per_second(default)
    return mine / theirs if mine is not None and theirs else None


@dataclass(frozen=True)
class Finding:
    """One thing that changed in one cell between two runs of a row."""

    row: str
    model: str
    backend: str
    kind: str
    what: str
    before: Optional[str]  # the cell's status in the baseline (None: not there)
    after: str

    @property
    def is_regression(self) -> bool:
        return self.kind in REGRESSIONS

    def line(self) -> str:
        return f"{self.row} {self.model} {self.backend}: {self.what}"


def compare(baseline: Run, candidate: Run, threshold: float = SLOWDOWN_THRESHOLD) -> list[Finding]:
    """What the candidate run flags against the baseline: regressions, and known failures that pass."""
    return [finding for finding in cell_changes(baseline, candidate, threshold) if finding.kind in FLAGGED]


def cell_changes(baseline: Run, candidate: Run, threshold: float = SLOWDOWN_THRESHOLD) -> list[Finding]:
    """Every change of status, and every change of speed beyond the threshold, from baseline to candidate.
    A cell new in the candidate is checked only for a known failure that passes; timings are compared only
    within one tier."""
    if baseline.row != candidate.row:
        raise ValueError(f"baseline is row {baseline.row!r} but candidate is row {candidate.row!r}; "
                         "compare two runs of the same row")
    findings = []
    for key, after in candidate.cells.items():
        before = baseline.cells.get(key)
        findings.append(status_finding(candidate.row, before, after))
        if before is not None and baseline.tier == candidate.tier:
            findings.append(speed_finding(candidate.row, before, after, threshold))
    return [finding for finding in findings if finding is not None]


def status_finding(row: str, before: Optional[dict], after: dict) -> Optional[Finding]:
    was, now = (before or {}).get("status"), after["status"]

    def finding(kind: str, what: str) -> Finding:
        return Finding(row, after["model"], after["backend"], kind, what, was, now)

    if was == PASSED and now != PASSED:
        reason = f": {shorten(after['reason'])}" if after.get("reason") else ""
        return finding(STATUS_REGRESSION, f"passed -> {now}{reason}")
    if now == PASSED and (was == KNOWN_FAILURE or after.get("known_failure")):
        return finding(KNOWN_FAILURE_PASSES, "known failure now passes: remove its entry from matrix.toml")
    if was is not None and was != now:
        return finding(STATUS_CHANGE, f"{was} -> {now}")
    return None


def speed_finding(row: str, before: dict, after: dict, threshold: float) -> Optional[Finding]:
    if before["status"] != PASSED or after["status"] != PASSED:
        return None
    time_change = relative_change(sample_seconds(before), sample_seconds(after))
    rate_change = relative_change(ess_per_second(before), ess_per_second(after))
    if (time_change or 0) > threshold or (rate_change or 0) < -threshold:
        kind, word = SLOWDOWN, "slower"
    elif (time_change or 0) < -threshold or (rate_change or 0) > threshold:
        kind, word = SPEEDUP, "faster"
    else:
        return None
    details = [f"{name} {fmt(old)} -> {fmt(new)} ({change:+.0%})" for name, fmt, old, new, change in (
        ("sample_s", fmt_seconds, sample_seconds(before), sample_seconds(after), time_change),
        ("ESS/s", fmt_rate, ess_per_second(before), ess_per_second(after), rate_change),
    ) if change is not None]
    return Finding(row, after["model"], after["backend"], kind, f"{word}: {', '.join(details)}", PASSED, PASSED)


def relative_change(before: Optional[float], after: Optional[float]) -> Optional[float]:
    return after / before - 1 if before and after is not None else None


def latest_runs(runs: list[Run]) -> list[Run]:
    """The run each row is reported by: its latest complete run, else its latest partial one (a session
    still running, or an interrupted one, would otherwise hide the row's last full matrix)."""
    chosen: dict[str, Run] = {}
    for run in runs:  # sorted by row and start
        if run.row not in chosen or run.complete or not chosen[run.row].complete:
            chosen[run.row] = run
    return list(chosen.values())


def newer_partial_runs(runs: list[Run], latest: Run) -> list[Run]:
    return [run for run in runs if run.row == latest.row and run.started > latest.started]


def previous_run(runs: list[Run], run: Run) -> Optional[Run]:
    """The row's run before this one, in the same tier (timings of two tiers do not compare)."""
    earlier = [other for other in runs if other.row == run.row and other.tier == run.tier
               and other.started < run.started]
    return earlier[-1] if earlier else None


def histories(runs: list[Run]) -> dict[tuple[str, str], list[Run]]:
    """The runs of each (row, tier), oldest first."""
    series: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        series.setdefault((run.row, run.tier), []).append(run)
    return series


def environment_changes(before: Run, after: Run) -> list[str]:
    """The packages and machine facts that differ between two runs, as "name old -> new"."""
    changes = []
    for name in sorted(set(before.packages) | set(after.packages)):
        old, new = before.packages.get(name, "(none)"), after.packages.get(name, "(none)")
        if old != new:
            changes.append(f"{name} {old} -> {new}")
    for key in ENVIRONMENT_KEYS:
        old, new = before.environment.get(key), after.environment.get(key)
        if old != new:
            changes.append(f"{key} {old} -> {new}")
    return changes


@dataclass
class Comparison:
    latest: Run
    previous: Optional[Run]
    changes: list[Finding] = field(default_factory=list)

    @property
    def flagged(self) -> list[Finding]:
        return [finding for finding in self.changes if finding.kind in FLAGGED]


def row_comparisons(runs: list[Run], threshold: float) -> list[Comparison]:
    """Each row's latest run against the row's run before it."""
    comparisons = []
    for latest in latest_runs(runs):
        previous = previous_run(runs, latest)
        changes = cell_changes(previous, latest, threshold) if previous else []
        comparisons.append(Comparison(latest, previous, changes))
    return comparisons
