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

import argparse
import html
import json
import math
import sys
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from harness.common.schema import SCHEMA
from harness.common.statuses import BROKEN, KNOWN_FAILURE, PASSED, SKIPPED

# A slowdown must exceed the run-to-run noise of the timings, or every run flags something. Two quick runs
# of the radon cells on unchanged code (2-core shared machine, docs/verdicts.md) differed by 3-44% in warm
# sample_s (median 18%) and ESS/s (median 22%), pymc-c's two-process chains the worst; numpyro's harness
# saw ~2% run and ~20% compile noise on shared runners. 50% sits above all of it; re-measure on your runners.
SLOWDOWN_THRESHOLD = 0.50

DEFAULT_RESULTS = Path("results")
DEFAULT_OUT = Path("reports")

# What comparing two runs finds in a cell. Regressions fail --fail-on-regression; FLAGGED ones are printed.
STATUS_REGRESSION, SLOWDOWN, KNOWN_FAILURE_PASSES = "status regression", "slowdown", "known failure passes"
STATUS_CHANGE, SPEEDUP = "status change", "speed-up"
REGRESSIONS = (STATUS_REGRESSION, SLOWDOWN)
FLAGGED = (STATUS_REGRESSION, SLOWDOWN, KNOWN_FAILURE_PASSES)

# Fingerprint entries besides packages that explain a change in speed.
ENVIRONMENT_KEYS = ("python", "cpu", "platform", "floatX", "compile_mode", "devices", "gpu_driver")


# ---------------------------------------------------------------------------------------------- loading


@dataclass
class Run:
    """One results file: one session run of one row."""

    path: Path
    row: str
    tier: str
    started: str
    complete: bool
    packages: dict[str, str]
    environment: dict[str, Any]
    cells: dict[tuple[str, str], dict[str, Any]]  # (model, backend) -> cell, in the file's order
    baseline: Optional[str] = None  # the row's baseline backend, as the results file records it
    scaling: list[dict[str, Any]] = field(default_factory=list)  # the scaling sweep, one entry per backend

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(model for model, _ in self.cells))

    @property
    def backends(self) -> list[str]:
        return list(dict.fromkeys(backend for _, backend in self.cells))


def load_results(paths: Iterable[Path | str] = ()) -> tuple[list[Run], list[tuple[Path, str]]]:
    """Every usable run among the files and folders given (default: results/), sorted by row and start,
    and (path, why) for every file that is not usable."""
    runs, skipped = [], []
    for path in results_files(paths or [DEFAULT_RESULTS], skipped):
        run, why = read_run(path)
        if run is None:
            skipped.append((path, why))
        else:
            runs.append(run)
    runs.sort(key=lambda run: (run.row, run.started, str(run.path)))
    return runs, skipped


def results_files(paths: Iterable[Path | str], skipped: list[tuple[Path, str]]) -> list[Path]:
    found: dict[Path, None] = {}
    for path in map(Path, paths):
        if path.is_dir():
            # pytest-benchmark's JSON lies beside each results file; it is not a run
            found.update(dict.fromkeys(p for p in sorted(path.rglob("*.json")) if not p.name.endswith(".benchmark.json")))
        elif path.is_file():
            found[path] = None
        else:
            skipped.append((path, "no such file or folder"))
    return list(found)


def read_run(path: Path) -> tuple[Optional[Run], str]:
    """The run in the file, or None and why it cannot be used."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"unreadable ({exc})"
    except ValueError as exc:
        return None, f"invalid JSON ({exc})"
    why = schema_problem(data)
    if why:
        return None, why
    fingerprint = as_dict(data.get("fingerprint"))
    return Run(
        path=path,
        row=str(data["row"]),
        tier=str(data.get("tier") or "?"),
        started=str(data["started"]),
        complete=data.get("complete") is True,
        packages={str(k): str(v) for k, v in as_dict(fingerprint.get("packages")).items()},
        environment={key: fingerprint[key] for key in ENVIRONMENT_KEYS if key in fingerprint},
        cells={(str(cell["model"]), str(cell["backend"])): cell for cell in data["cells"]},
        baseline=data.get("baseline"),
        scaling=[entry for entry in data.get("scaling") or [] if isinstance(entry, dict)],
    ), ""


def schema_problem(data: Any) -> str:
    """Why the parsed file is not a results file the report can read ("" when it is)."""
    if not isinstance(data, dict):
        return "not a JSON object"
    if "schema" not in data:
        return "no 'schema' key"
    if data["schema"] != SCHEMA:
        return f"schema is {data['schema']!r}, expected {SCHEMA!r}"
    missing = [key for key in ("row", "started", "cells") if key not in data]
    if missing:
        return f"missing key(s): {', '.join(missing)}"
    if not isinstance(data["cells"], list):
        return "'cells' is not a list"
    for i, cell in enumerate(data["cells"]):
        lacking = [key for key in ("model", "backend", "status") if key not in as_dict(cell)]
        if lacking:
            return f"cell {i} lacks {', '.join(lacking)}"
    return ""


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


# ------------------------------------------------------------------------------------------ cell numbers


def finite(value: Any) -> Optional[float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def sample_seconds(cell: dict[str, Any]) -> Optional[float]:
    seconds = finite(as_dict(cell.get("timings")).get("sample_s"))
    return seconds if seconds and seconds > 0 else None


def ess_per_second(cell: dict[str, Any]) -> Optional[float]:
    """The cell's ESS/s. Files written before cells carried `ess_per_s` get it the way harness.worker.evaluation
    computes it: the smallest bulk ESS over the checked parameters per second of sampling."""
    if "ess_per_s" in cell:
        return finite(cell["ess_per_s"])
    ess = [finite(as_dict(p).get("ess_bulk")) for p in as_dict(cell.get("params")).values()]
    seconds = sample_seconds(cell)
    if not ess or None in ess or seconds is None:
        return None
    return min(ess) / seconds


def speed_up(run: Run, cell: dict[str, Any]) -> Optional[float]:
    """The cell's ESS/s over the row's baseline backend's on the same model; only when both passed, since the
    ESS of a wrong posterior measures nothing."""
    default = run.cells.get((cell["model"], run.baseline))
    if default is None or cell["status"] != PASSED or default["status"] != PASSED:
        return None
    mine, theirs = ess_per_second(cell), ess_per_second(default)
    return mine / theirs if mine is not None and theirs else None


# --------------------------------------------------------------------------------------------- comparing


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


# ------------------------------------------------------------------------------------ document structure
# Sections are built once as blocks and rendered to Markdown and to HTML.


@dataclass
class Cell:
    text: str  # lines separated by "\n"
    note: str = ""  # Markdown: footnote; HTML: hover title
    css: str = ""
    svg: str = ""  # HTML only
    sparkline: str = ""  # Markdown only, in place of the svg


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Para:
    text: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    header: list[str]
    rows: list[list[Cell]]


@dataclass
class Figure:
    svg: str


Block = Heading | Para | Bullets | Table | Figure


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


def document(runs: list[Run], skipped: Sequence[tuple[Path, str]], threshold: float, charts: bool,
             generated: str) -> list[Block]:
    comparisons = row_comparisons(runs, threshold)
    blocks: list[Block] = [
        Heading(1, "PyMC sampler matrix"),
        Para(f"Generated {generated} from {len(runs)} run(s), {len(skipped)} file(s) skipped; "
             f"slowdown threshold {threshold:.0%}."),
    ]
    if skipped:
        blocks += [Heading(2, "Skipped files"), Bullets([f"{path}: {why}" for path, why in skipped])]
    blocks += overview_section(runs, comparisons)
    blocks += regressions_section(comparisons, threshold)
    blocks += matrix_section(comparisons)
    if charts:
        blocks += charts_section(comparisons)
    blocks += history_section(runs)
    blocks += what_changed_section(comparisons, threshold)
    latest = [comparison.latest for comparison in comparisons]
    blocks += sbc_section(latest) + scaling_section(latest) + gpu_section(latest)
    return blocks


def overview_section(runs: list[Run], comparisons: list[Comparison]) -> list[Block]:
    rows = []
    for run in (comparison.latest for comparison in comparisons):
        counts = Counter(cell["status"] for cell in run.cells.values())
        rows.append([Cell(run.row), Cell(run.tier), Cell(run.started),
                     Cell("yes" if run.complete else "no: partial run"),
                     Cell(run.packages.get("pymc") or run.packages.get("pymc3") or "-"),
                     Cell(run.baseline or "-"),
                     Cell(", ".join(f"{n} {status}" for status, n in counts.most_common()) or "no cells"),
                     Cell(str(run.path))])
    if not rows:
        return [Heading(2, "Rows"), Para("No results to report.")]
    header = ["row", "tier", "latest run", "complete", "pymc", "default backend", "cells", "file"]
    blocks: list[Block] = [Heading(2, "Rows"), Table(header, rows)]
    partial = [comparison.latest for comparison in comparisons if not comparison.latest.complete]
    if partial:
        blocks.append(Para("Partial runs (complete: false; interrupted, or still running) are reported with "
                           "the cells they recorded: " + ", ".join(str(run.path) for run in partial) + "."))
    newer = [run for comparison in comparisons for run in newer_partial_runs(runs, comparison.latest)]
    if newer:
        blocks.append(Para("Partial runs newer than a row's latest complete run appear only in the history: "
                           + ", ".join(f"{run.path} ({len(run.cells)} cells)" for run in newer) + "."))
    return blocks


def regressions_section(comparisons: list[Comparison], threshold: float) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Regressions"), Para(
        f"Each row's latest run against its run before it (same tier): a cell that passed and now does not, "
        f"a passed cell whose sample_s grew or whose ESS/s fell by more than {threshold:.0%}, and a known "
        f"failure that now passes.")]
    compared = [comparison for comparison in comparisons if comparison.previous]
    flagged = [finding for comparison in compared for finding in comparison.flagged]
    if not compared:
        blocks.append(Para("No row has two runs of one tier to compare."))
    elif not flagged:
        blocks.append(Para("Nothing flagged in " + ", ".join(c.latest.row for c in compared) + "."))
    else:
        blocks.append(Bullets([f"{'REGRESSION ' if f.is_regression else ''}{f.line()}" for f in flagged]))
    return blocks


def matrix_section(comparisons: list[Comparison]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Compatibility matrix"), Para(
        "Latest run of each row. ESS/s: the smallest bulk ESS over the checked parameters per second of "
        "sampling (timings.sample_s). Speed-up: ESS/s over the row's default backend's ESS/s on the same "
        "model, when both passed.")]
    for run in (comparison.latest for comparison in comparisons):
        default = run.baseline
        blocks.append(Heading(3, f"{run.row}: {run.tier} run of {run.started}"
                                 + ("" if run.complete else " (partial)")
                                 + (f"; speed-up against {default}" if default else "")))
        rows = [[Cell(backend)] + [matrix_cell(run, run.cells.get((model, backend))) for model in run.models]
                for backend in run.backends]
        blocks.append(Table(["backend"] + run.models, rows))
    return blocks


def matrix_cell(run: Run, cell: Optional[dict]) -> Cell:
    if cell is None:
        return Cell("-")
    lines = [cell["status"]]
    rate, ratio = ess_per_second(cell), speed_up(run, cell)
    if rate is not None:
        lines.append(f"{fmt_rate(rate)} ESS/s")
    if ratio is not None:
        lines.append(f"{ratio:.2f}x")
    note = f"{cell['status']}: {squash(cell['reason'])}" if cell.get("reason") else ""
    return Cell("\n".join(lines), note=note, css=status_css(cell["status"]))


def sbc_section(runs: list[Run]) -> list[Block]:
    """Simulation-based calibration of the cells that ran it (-- --sbc)."""
    rows = []
    for run in runs:
        for (model, backend), cell in run.cells.items():
            sbc = as_dict(cell.get("sbc"))
            if not sbc:
                continue
            p_values = as_dict(sbc.get("p_values"))
            worst = min(p_values.items(), key=lambda kv: kv[1], default=None)
            verdict = "passed" if sbc.get("passed") else "failed"
            rows.append([Cell(run.row), Cell(model), Cell(backend), Cell(str(sbc.get("sims", "-"))),
                         Cell(verdict, note=squash(sbc.get("reason") or ""), css=status_css(verdict)),
                         Cell(f"{worst[0]}: {worst[1]:.3g}" if worst else "-"),
                         Cell(f"{sbc['p_limit']:.2g}" if finite(sbc.get("p_limit")) is not None else "-")])
    if not rows:
        return []
    return [Heading(2, "Simulation-based calibration"),
            Para("Rank uniformity per checked quantity (chi-square, Bonferroni-corrected to 1% per cell)."),
            Table(["row", "model", "backend", "simulations", "verdict", "smallest p", "p limit"], rows)]


def scaling_section(runs: list[Run]) -> list[Block]:
    """The scaling sweep: sampling time per size, and the fitted growth exponent."""
    rows = []
    for run in runs:
        for entry in run.scaling:
            points = [as_dict(p) for p in entry.get("points") or []]
            sizes = "; ".join(f"{as_dict(p.get('knobs')).get('n_obs', '?')} obs: "
                              + (fmt_seconds(finite(p.get("sample_s"))) if p.get("status") == "sampled" else str(p.get("status")))
                              for p in points)
            exponent = finite(entry.get("exponent_n_obs"))
            rows.append([Cell(run.row), Cell(str(entry.get("backend"))), Cell(sizes or "-"),
                         Cell(f"{exponent:.2f}" if exponent is not None else "-")])
    if not rows:
        return []
    return [Heading(2, "Scaling"),
            Para("Sampling time of the radon-style GLM at growing sizes (one cold call each); exponent b of "
                 "sample_s ~ n_obs^b."),
            Table(["row", "backend", "sample_s per size", "exponent"], rows)]


def gpu_section(runs: list[Run]) -> list[Block]:
    """What GPU cells cost beside sampling: device memory peak, host-device copies, compile time."""
    rows = []
    for run in runs:
        for (model, backend), cell in run.cells.items():
            speed = as_dict(cell.get("speed"))
            transfer = as_dict(speed.get("transfer"))
            peak = finite(cell.get("peak_device_mb"))
            if peak is None and not transfer:
                continue
            copies = (f"{fmt_seconds(finite(transfer.get('host_to_device_s')))} in, "
                      f"{fmt_seconds(finite(transfer.get('device_to_host_s')))} out") if transfer else "-"
            rows.append([Cell(run.row), Cell(model), Cell(backend),
                         Cell(f"{peak:.0f} MB" if peak is not None else "-"), Cell(copies),
                         Cell(fmt_seconds(finite(as_dict(cell.get("timings")).get("compile_s"))))])
    if not rows:
        return []
    return [Heading(2, "GPU cells"),
            Para("Device memory peak of the cell's process, the model's data copied in and a draws-sized "
                 "array copied out (timed apart from sampling), and compile time."),
            Table(["row", "model", "backend", "GPU memory peak", "host-device copies", "compile"], rows)]


def charts_section(comparisons: list[Comparison]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "ESS/s per backend"), Para(
        "Latest run of each row, one chart per model; green bars passed, grey ones did not (their ESS/s "
        "measures no correct posterior); the default backend is marked *.")]
    for run in (comparison.latest for comparison in comparisons):
        blocks.append(Heading(3, run.row))
        charted = False
        for model in run.models:
            bars = [bar(run, cell) for (m, _), cell in run.cells.items() if m == model]
            bars = [b for b in bars if b is not None]
            if bars:
                blocks += [Para(model), Figure(bar_chart(bars))]
                charted = True
        if not charted:
            blocks.append(Para("No cell recorded an ESS/s."))
    return blocks


def bar(run: Run, cell: dict) -> Optional[tuple[str, float, bool, str]]:
    rate = ess_per_second(cell)
    if rate is None:
        return None
    label = cell["backend"] + (" *" if cell["backend"] == run.baseline else "")
    return label, rate, cell["status"] == PASSED, f"{cell['backend']}: {fmt_rate(rate)} ESS/s, {cell['status']}"


def history_section(runs: list[Run]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "History"), Para(
        "ESS/s of each cell over the runs of its row and tier, oldest first; points coloured by status.")]
    series = {key: row_runs for key, row_runs in histories(runs).items() if len(row_runs) > 1}
    if not series:
        blocks.append(Para("No row has more than one run of one tier yet."))
    for (row, tier), row_runs in series.items():
        first, last = row_runs[0].started, row_runs[-1].started
        blocks.append(Heading(3, f"{row} ({tier}): {len(row_runs)} runs, {first} to {last}"))
        keys = list(dict.fromkeys(key for run in row_runs for key in run.cells))
        rows = [[Cell(model), Cell(backend), history_cell(row_runs, (model, backend))] for model, backend in keys]
        blocks.append(Table(["model", "backend", "ESS/s over runs"], rows))
    return blocks


def history_cell(runs: list[Run], key: tuple[str, str]) -> Cell:
    cells = [run.cells.get(key) for run in runs]
    rates = [ess_per_second(cell) if cell else None for cell in cells]
    statuses = [cell["status"] if cell else "not run" for cell in cells]
    known = [fmt_rate(rate) for rate in rates if rate is not None]
    if not known:
        text = "no ESS/s"
    else:
        text = (known[0] if known[0] == known[-1] else f"{known[0]} -> {known[-1]}") + " ESS/s"
    points = [(rate, status, f"{run.started}: {status}, {fmt_rate(rate)} ESS/s")
              for run, rate, status in zip(runs, rates, statuses)]
    return Cell(f"{text}\n{status_trail(statuses)}", svg=sparkline(points), sparkline=text_sparkline(rates))


def what_changed_section(comparisons: list[Comparison], threshold: float) -> list[Block]:
    blocks: list[Block] = [Heading(2, "What changed"), Para(
        f"For each row, the latest run against the one before it: what differs in its environment, next to "
        f"every cell whose status changed or whose speed changed by more than {threshold:.0%}.")]
    compared = [comparison for comparison in comparisons if comparison.previous]
    if not compared:
        blocks.append(Para("No row has two runs of one tier to compare."))
    for comparison in compared:
        latest, previous = comparison.latest, comparison.previous
        environment = environment_changes(previous, latest)
        blocks.append(Heading(3, f"{latest.row}: {previous.started} -> {latest.started}"))
        blocks.append(Para("Changed: " + "; ".join(environment) if environment
                           else "Nothing in the environment changed."))
        changed = [f for f in comparison.changes if f.before != f.after or f.kind in (SLOWDOWN, SPEEDUP)]
        if not changed:
            blocks.append(Para("No cell changed status or speed beyond the threshold."))
            continue
        rows = [[Cell(f.model), Cell(f.backend), Cell(f.what, css=status_css(f.after)),
                 Cell("\n".join(environment) or "nothing")] for f in changed]
        blocks.append(Table(["model", "backend", "change", "what differs"], rows))
    return blocks


# --------------------------------------------------------------------------------------------- rendering


def render_markdown(blocks: list[Block]) -> str:
    footnotes: dict[str, str] = {}  # note -> label, shared by the whole document
    out = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"{'#' * block.level} {block.text}")
        elif isinstance(block, Para):
            out.append(block.text)
        elif isinstance(block, Bullets):
            out.append("\n".join(f"- {item}" for item in block.items))
        elif isinstance(block, Table):
            out.append(markdown_table(block, footnotes))
    return "\n\n".join(out) + "\n"


def markdown_table(table: Table, footnotes: dict[str, str]) -> str:
    new_notes = []

    def cell_text(cell: Cell) -> str:
        text = " · ".join(filter(None, [cell.sparkline] + cell.text.split("\n")))
        if cell.note:
            if cell.note not in footnotes:
                footnotes[cell.note] = str(len(footnotes) + 1)
                new_notes.append(cell.note)
            text += f" [^{footnotes[cell.note]}]"
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(table.header) + " |", "|" + "---|" * len(table.header)]
    lines += ["| " + " | ".join(cell_text(cell) for cell in row) + " |" for row in table.rows]
    if new_notes:
        lines.append("")
        lines += [f"[^{footnotes[note]}]: {note}" for note in new_notes]
    return "\n".join(lines)


def render_html(blocks: list[Block]) -> str:
    body = []
    for block in blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{esc(block.text)}</h{block.level}>")
        elif isinstance(block, Para):
            body.append(f"<p>{esc(block.text)}</p>")
        elif isinstance(block, Bullets):
            body.append("<ul>" + "".join(f"<li>{esc(item)}</li>" for item in block.items) + "</ul>")
        elif isinstance(block, Table):
            body.append(html_table(block))
        elif isinstance(block, Figure):
            body.append(f"<figure>{block.svg}</figure>")
    return HTML_PAGE.format(style=STYLE, body="\n".join(body))


def html_table(table: Table) -> str:
    def td(cell: Cell) -> str:
        attrs = (f' class="{cell.css}"' if cell.css else "") + (f' title="{esc(cell.note)}"' if cell.note else "")
        text = "<br>".join(esc(line) for line in cell.text.split("\n"))
        mark = " <sup>*</sup>" if cell.note else ""
        return f"<td{attrs}>{cell.svg}{text}{mark}</td>"

    head = "".join(f"<th>{esc(name)}</th>" for name in table.header)
    rows = "".join("<tr>" + "".join(td(cell) for cell in row) + "</tr>\n" for row in table.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{rows}</tbody></table>"


HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>PyMC sampler matrix</title>
<style>{style}</style></head>
<body>
{body}
</body></html>
"""

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; }
th { background: #f3f3f3; }
td[title] { cursor: help; }
.passed { background: #d9f2d9; }
.broken { background: #f6cccc; }
.known-failure { background: #fbe3bd; }
.skipped { background: #eeeeee; color: #666; }
figure { margin: 0 0 1em; }
svg text { font: 11px system-ui, sans-serif; fill: #222; }
.bar-passed { fill: #4a9d4a; }
.bar-other { fill: #aaaaaa; }
.spark { fill: none; stroke: #555; stroke-width: 1; }
.dot-passed { fill: #2e8b2e; }
.dot-broken { fill: #c83232; }
.dot-known-failure { fill: #e09a2a; }
.dot-skipped { fill: #999999; }
"""


def status_css(status: str) -> str:
    if status == PASSED or status == KNOWN_FAILURE:
        return status
    if status in BROKEN:
        return "broken"
    return "skipped" if status in SKIPPED else ""


def esc(text: str) -> str:
    return html.escape(str(text), quote=True)


# ----------------------------------------------------------------------------------------------- charts


def bar_chart(bars: list[tuple[str, float, bool, str]]) -> str:
    """Horizontal bars: (label, value, passed, tooltip) each, scaled to the largest value."""
    label_w, bar_w, value_w, step = 170, 380, 90, 20
    top = max(value for _, value, _, _ in bars) or 1.0
    parts = []
    for i, (label, value, passed, tooltip) in enumerate(bars):
        y = 4 + i * step
        width = max(1.0, bar_w * value / top)
        parts.append(
            f'<g><title>{esc(tooltip)}</title>'
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{esc(label)}</text>'
            f'<rect class="{"bar-passed" if passed else "bar-other"}" x="{label_w}" y="{y + 2}" '
            f'width="{width:.1f}" height="{step - 6}"/>'
            f'<text x="{label_w + width + 4:.1f}" y="{y + 13}">{esc(fmt_rate(value))}</text></g>')
    height = 8 + len(bars) * step
    return (f'<svg width="{label_w + bar_w + value_w}" height="{height}" role="img" '
            f'aria-label="ESS/s per backend">{"".join(parts)}</svg>')


def sparkline(points: list[tuple[Optional[float], str, str]]) -> str:
    """ESS/s over runs: (value or None, status, tooltip) each; runs without a value sit on the bottom."""
    width, height, pad = 140, 28, 4
    high = max((value for value, _, _ in points if value is not None), default=0.0) or 1.0
    step = (width - 2 * pad) / max(1, len(points) - 1)

    def y(value: Optional[float]) -> float:  # from zero, so noise of a few percent looks like it
        return height - 2 if value is None else pad + (height - 2 * pad) * (1 - value / high)

    coords = [(pad + i * step, y(value)) for i, (value, _, _) in enumerate(points)]
    line = " ".join(f"{x:.1f},{yy:.1f}" for (x, yy), (value, _, _) in zip(coords, points) if value is not None)
    dots = "".join(
        f'<circle class="dot-{status_css(status) or "skipped"}" cx="{x:.1f}" cy="{yy:.1f}" r="2.5">'
        f'<title>{esc(tooltip)}</title></circle>'
        for (x, yy), (_, status, tooltip) in zip(coords, points))
    return (f'<svg width="{width}" height="{height}" role="img" aria-label="ESS/s over runs">'
            f'<polyline class="spark" points="{line}"/>{dots}</svg><br>')


BLOCKS = "▁▂▃▄▅▆▇█"


def text_sparkline(values: list[Optional[float]]) -> str:
    high = max((value for value in values if value is not None), default=0.0)
    if not high:
        return ""

    def block(value: Optional[float]) -> str:  # from zero, as the svg sparkline
        return "·" if value is None else BLOCKS[round(value / high * (len(BLOCKS) - 1))]

    return "".join(map(block, values))


# ---------------------------------------------------------------------------------------------- formats


def fmt_rate(value: Optional[float]) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 1 else f"{value:.2g}"


def fmt_seconds(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.3g} s"


def status_trail(statuses: list[str]) -> str:
    """"passed x3 -> failed": consecutive runs with the same status counted once."""
    groups: list[list] = []
    for status in statuses:
        if groups and groups[-1][0] == status:
            groups[-1][1] += 1
        else:
            groups.append([status, 1])
    return " -> ".join(status + (f" x{n}" if n > 1 else "") for status, n in groups)


def squash(text: Any) -> str:
    return " ".join(str(text).split())


def shorten(text: Any, width: int = 160) -> str:
    return textwrap.shorten(squash(text), width=width, placeholder=" ...")


def utc_now(fmt: str = "%Y-%m-%dT%H:%M:%SZ") -> str:
    return datetime.now(timezone.utc).strftime(fmt)


# ------------------------------------------------------------------------------------------ entry points


def write_report(runs: list[Run], out_dir: Path | str, run_id: str, skipped: Sequence[tuple[Path, str]] = (),
                 threshold: float = SLOWDOWN_THRESHOLD) -> tuple[Path, Path]:
    """Write <out_dir>/<run_id>/report.md and report.html; return their paths."""
    folder = Path(out_dir) / run_id
    folder.mkdir(parents=True, exist_ok=True)
    md_path, html_path = folder / "report.md", folder / "report.html"
    generated = utc_now()
    md_path.write_text(render_markdown(document(runs, skipped, threshold, False, generated)), encoding="utf-8")
    html_path.write_text(render_html(document(runs, skipped, threshold, True, generated)), encoding="utf-8")
    return md_path, html_path


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m harness.host.report", description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="results files or folders (default: results/)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="reports folder (default: reports)")
    parser.add_argument("--run-id", default=None, help="report folder name (default: UTC timestamp)")
    parser.add_argument("--baseline", type=Path, help="compare this run ...")
    parser.add_argument("--candidate", type=Path, help="... with this run of the same row; writes no report")
    parser.add_argument("--threshold", type=float, default=SLOWDOWN_THRESHOLD,
                        help=f"slowdown ratio that counts as a regression (default: {SLOWDOWN_THRESHOLD})")
    parser.add_argument("--fail-on-regression", action="store_true", help="exit 1 when a cell regressed")
    args = parser.parse_args(argv)
    if (args.baseline is None) != (args.candidate is None):
        parser.error("--baseline and --candidate go together")
    if args.baseline and args.paths:
        parser.error("give either results paths or --baseline/--candidate, not both")
    if args.threshold <= 0:
        parser.error("--threshold must be positive")
    return args


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    if args.baseline:
        return compare_two(args.baseline, args.candidate, args.threshold, args.fail_on_regression)
    runs, skipped = load_results(args.paths)
    for path, why in skipped:
        print(f"skipped {path}: {why}")
    for run in runs:
        if not run.complete:
            print(f"partial {run.path}: complete is not true (interrupted or still running); "
                  f"its {len(run.cells)} cell(s) are reported")
    findings = [finding for comparison in row_comparisons(runs, args.threshold) for finding in comparison.flagged]
    for finding in findings:
        print(finding.line())
    for path in write_report(runs, args.out, args.run_id or utc_now("%Y%m%dT%H%M%SZ"), skipped, args.threshold):
        print(path)
    return exit_status(findings, args.fail_on_regression)


def compare_two(baseline_path: Path, candidate_path: Path, threshold: float, fail_on_regression: bool) -> int:
    runs = []
    for path in (baseline_path, candidate_path):
        run, why = read_run(path) if path.is_file() else (None, "no such file")
        if run is None:
            print(f"error: {path}: {why}", file=sys.stderr)
            return 2
        runs.append(run)
    baseline, candidate = runs
    try:
        findings = compare(baseline, candidate, threshold)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if baseline.tier != candidate.tier:
        print(f"timings not compared: baseline is a {baseline.tier} run, candidate a {candidate.tier} run")
    for finding in findings:
        print(finding.line())
    if not findings:
        print(f"{candidate.row}: nothing flagged ({baseline.path} -> {candidate.path}, threshold {threshold:.0%})")
    return exit_status(findings, fail_on_regression)


def exit_status(findings: list[Finding], fail_on_regression: bool) -> int:
    return 1 if fail_on_regression and any(finding.is_regression for finding in findings) else 0


if __name__ == "__main__":
    sys.exit(main())
