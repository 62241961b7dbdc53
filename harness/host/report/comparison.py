"""Comparing runs of a row: status and speed findings, which runs to compare, histories, what changed in the
environment, and speed-ups against the row's baseline backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from harness.common.statuses import KNOWN_FAILURE, PASSED
from harness.host.compare import PRIMARY, confirm_args
from harness.host.report.loading import ENVIRONMENT_KEYS, Run, ess_per_second
from harness.host.report.rendering import shorten

# What comparing two runs finds in a cell. Regressions fail --fail-on-regression; FLAGGED ones are printed.
# There is no slowdown threshold: two runs on unchanged code differed by 3-44% in sample_s on a shared 2-core
# machine (docs/verdicts.md), so the difference of two runs is evidence of nothing. A speed change is a
# CANDIDATE where the change-point detector found a step at the run (nox -s compare -- --changepoints), and
# a SLOWDOWN (or SPEEDUP) only where `nox -s compare` confirmed it with interleaved repetitions.
STATUS_REGRESSION, SLOWDOWN, KNOWN_FAILURE_PASSES = "status regression", "slowdown", "known failure passes"
STATUS_CHANGE, SPEEDUP, CANDIDATE = "status change", "speed-up", "speed change point"
# A failure that `nox -s compare` ran again at fresh seeds, all of which passed: the suite's seed drew a
# chance failure (at most 1% of correct cells), not a break. Shown, never a regression.
CHANCE_FAILURE = "chance failure"
REGRESSIONS = (STATUS_REGRESSION, SLOWDOWN)
FLAGGED = (STATUS_REGRESSION, SLOWDOWN, KNOWN_FAILURE_PASSES, CANDIDATE, CHANCE_FAILURE)
SPEED_KINDS = (SLOWDOWN, SPEEDUP, CANDIDATE)


@dataclass(frozen=True)
class SpeedEvidence:
    """What says a cell's speed or status changed: `nox -s compare` results (interleaved A/B, confirmed or
    not; a status checked at fresh seeds) and the change points of `nox -s compare -- --changepoints`, as
    their JSON files hold them."""

    comparisons: tuple = ()
    change_points: tuple = ()  # one entry per series: {"key": [row, tier, model, backend, metric], "change_points": [...]}


NO_EVIDENCE = SpeedEvidence()


def run_labels(run: Run) -> set:
    """The names a run goes by in a comparison (a results file's stem) or a series (its as-of date, else its
    start)."""
    return {run.path.stem, run.started} | ({run.as_of} if run.as_of else set())


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


def compare(baseline: Run, candidate: Run, evidence: SpeedEvidence = NO_EVIDENCE) -> list[Finding]:
    """What the candidate run flags against the baseline: regressions, candidates and known failures that pass."""
    return [finding for finding in cell_changes(baseline, candidate, evidence) if finding.kind in FLAGGED]


def cell_changes(baseline: Run, candidate: Run, evidence: SpeedEvidence = NO_EVIDENCE) -> list[Finding]:
    """Every change of status from baseline to candidate, and every speed change the evidence shows at the
    candidate. A cell new in the candidate is checked only for a known failure that passes."""
    if baseline.row != candidate.row:
        raise ValueError(f"baseline is row {baseline.row!r} but candidate is row {candidate.row!r}; "
                         "compare two runs of the same row")
    findings = []
    for key, after in candidate.cells.items():
        before = baseline.cells.get(key)
        findings.append(status_finding(candidate.row, before, after, checked_by(candidate, after, evidence, "status")))
        findings.append(speed_finding(candidate, after, evidence))
    return [finding for finding in findings if finding is not None]


def checked_by(run: Run, cell: dict, evidence: SpeedEvidence, part: str) -> Optional[dict]:
    """The newest `nox -s compare` result for this cell whose candidate is this run and that judged `part`
    ("status"; "speed": only where it reached a decision), else None."""
    labels = run_labels(run)
    found = [c for c in evidence.comparisons
             if (c.get("row"), c.get("model"), c.get("backend")) == (run.row, cell["model"], cell["backend"])
             and (c.get("candidate") or {}).get("label") in labels
             and (c.get(part) if part == "status" else (c.get(part) or {}).get("decision"))]
    return max(found, key=lambda c: str(c.get("finished") or c.get("started"))) if found else None


def chance_failure(checked: Optional[dict], side: str = "B") -> Optional[str]:
    """What a comparison says of one side's failure (B: its candidate) when fresh seeds all passed, else None."""
    return (((checked or {}).get("status") or {}).get(side) or {}).get("chance_failure")


def status_finding(row: str, before: Optional[dict], after: dict, checked: Optional[dict] = None) -> Optional[Finding]:
    """`checked`: a `nox -s compare` of this cell against this run (checked_by), whose fresh seeds may have
    shown the failure to be the suite's seed's chance."""
    was, now = (before or {}).get("status"), after["status"]

    def finding(kind: str, what: str) -> Finding:
        return Finding(row, after["model"], after["backend"], kind, what, was, now)

    chance = chance_failure(checked)
    if was == PASSED and now != PASSED and chance:
        return finding(CHANCE_FAILURE, f"passed -> {now}, a chance failure: {shorten(chance)}")
    if was == PASSED and now != PASSED:
        reason = f": {shorten(after['reason'])}" if after.get("reason") else ""
        return finding(STATUS_REGRESSION, f"passed -> {now}{reason}")
    if now == PASSED and (was == KNOWN_FAILURE or after.get("known_failure")):
        return finding(KNOWN_FAILURE_PASSES, "known failure now passes: remove its entry from matrix.toml")
    if was is not None and was != now:
        return finding(STATUS_CHANGE, f"{was} -> {now}")
    return None


def speed_finding(run: Run, cell: dict, evidence: SpeedEvidence) -> Optional[Finding]:
    """A confirmed change (the newest `nox -s compare` of this cell whose candidate is this run), else a
    change point at this run, else nothing."""
    model, backend, labels = cell["model"], cell["backend"], run_labels(run)

    def finding(kind: str, what: str) -> Finding:
        return Finding(run.row, model, backend, kind, what, cell["status"], cell["status"])

    result = checked_by(run, cell, evidence, "speed")
    if result:
        decision = result["speed"]["decision"]
        kind = {"slower": SLOWDOWN, "faster": SPEEDUP}.get(decision.get("verdict"))
        if kind is None:
            return None  # "same", or "undecided" at its cap: no regression, and its change point is answered
        iv = decision.get("interval") or {}
        what = (f"{result['speed'].get('judged', PRIMARY)} {decision['verdict']}, confirmed: "
                f"B/A {iv.get('ratio', float('nan')):.3f} "
                f"[{iv.get('low', float('nan')):.3f}, {iv.get('high', float('nan')):.3f}] against "
                f"{result['baseline']['label']}")
        attribution = (result.get("attribution") or {}).get("lines") or []
        return finding(kind, what + (f"; {attribution[-1]}" if attribution else ""))
    for series in evidence.change_points:
        row, tier, s_model, s_backend, metric = (list(series.get("key") or []) + [None] * 5)[:5]
        if (row, tier, s_model, s_backend) != (run.row, run.tier, model, backend):
            continue
        for point in series.get("change_points") or []:
            if point.get("after") in labels:
                args = confirm_args(row, str(point.get("before_source") or point.get("before")),
                                    str(point.get("after_source") or point.get("after")), model, backend, metric,
                                    point.get("after_value"))
                return finding(CANDIDATE, f"{metric} {point['step']:+.0%} at this run (change point, not confirmed): "
                                          f"nox -s compare -- {' '.join(args)}")
    return None


def latest_runs(runs: list[Run]) -> list[Run]:
    """The run each row and tier is reported by: its latest complete run, else its latest partial one (a
    session still running, or an interrupted one, would otherwise hide the row's last full matrix). The
    nightly's control (quick) and the row's timeline points (timeline tier, latest by date) each have one."""
    chosen: dict[tuple[str, str], Run] = {}
    for run in runs:  # sorted by row and when (load_results: as-of date, else start)
        key = (run.row, run.tier)
        if key not in chosen or run.complete or not chosen[key].complete:
            chosen[key] = run
    return list(chosen.values())


def newer_partial_runs(runs: list[Run], latest: Run) -> list[Run]:
    return [run for run in runs if run.row == latest.row and run.tier == latest.tier and run.when > latest.when]


def previous_run(runs: list[Run], run: Run) -> Optional[Run]:
    """The row's run before this one, in the same tier (timings of two tiers do not compare)."""
    earlier = [other for other in runs if other.row == run.row and other.tier == run.tier and other.when < run.when]
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


def row_comparisons(runs: list[Run], evidence: SpeedEvidence = NO_EVIDENCE) -> list[Comparison]:
    """Each row's latest run against the row's run before it."""
    comparisons = []
    for latest in latest_runs(runs):
        previous = previous_run(runs, latest)
        changes = cell_changes(previous, latest, evidence) if previous else []
        comparisons.append(Comparison(latest, previous, changes))
    return comparisons
