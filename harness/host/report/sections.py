"""The report's sections (overview, regressions, matrix, charts, history, what changed, SBC, scaling, GPU),
built once as blocks for the Markdown and HTML renderers."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Optional, Sequence

from harness.common.statuses import PASSED
from harness.host.report.comparison import (
    NO_EVIDENCE,
    SPEED_KINDS,
    Comparison,
    SpeedEvidence,
    environment_changes,
    histories,
    newer_partial_runs,
    row_comparisons,
    speed_up,
)
from harness.host.report.loading import Run, as_dict, ess_per_second, finite
from harness.host.report.rendering import (
    Block,
    Bullets,
    Cell,
    Figure,
    Heading,
    Para,
    Table,
    bar_chart,
    fmt_rate,
    fmt_seconds,
    sparkline,
    squash,
    status_css,
    status_trail,
    text_sparkline,
)
from harness.host.report.timeline import timeline_section


def document(runs: list[Run], skipped: Sequence[tuple[Path, str]], charts: bool, generated: str,
             sweeps: Sequence[dict] = (), evidence: SpeedEvidence = NO_EVIDENCE) -> list[Block]:
    comparisons = row_comparisons(runs, evidence)
    blocks: list[Block] = [
        Heading(1, "PyMC sampler matrix"),
        Para(f"Generated {generated} from {len(runs)} run(s), {len(skipped)} file(s) skipped; "
             f"{len(evidence.comparisons)} A/B comparison(s), change points over "
             f"{len(evidence.change_points)} series."),
    ]
    if skipped:
        blocks += [Heading(2, "Skipped files"), Bullets([f"{path}: {why}" for path, why in skipped])]
    blocks += overview_section(runs, comparisons)
    blocks += regressions_section(comparisons)
    blocks += matrix_section(comparisons)
    if charts:
        blocks += charts_section(comparisons)
    blocks += history_section(runs)
    blocks += timeline_section(runs, evidence)
    blocks += what_changed_section(comparisons)
    latest = [comparison.latest for comparison in comparisons]
    blocks += sbc_section(latest) + scaling_section(latest) + gpu_section(latest) + crossover_section(sweeps)
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


def regressions_section(comparisons: list[Comparison]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Regressions"), Para(
        "Each row's latest run against its run before it (same tier): a cell that passed and now does not, "
        "a slowdown that `nox -s compare` confirmed with interleaved repetitions (B/A with its interval, and "
        "the release it names), and a known failure that now passes. A speed change point at the latest "
        "run (`nox -s compare -- --changepoints`) is listed with the command that confirms it; two runs' "
        "timings alone flag nothing (they differ by up to 44% on unchanged code).")]
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
            rows.append([Cell(run.row), Cell(model), Cell(backend), Cell(run.machine_of(cell)),
                         Cell(f"{peak:.0f} MB" if peak is not None else "-"), Cell(copies),
                         Cell(fmt_seconds(finite(as_dict(cell.get("timings")).get("compile_s"))))])
    if not rows:
        return []
    return [Heading(2, "GPU cells"),
            Para("The card each cell ran on (a run resumed over several GPU slots may span several), the "
                 "device memory peak of the cell's process, the model's data copied in and a draws-sized "
                 "array copied out (timed apart from sampling), and compile time."),
            Table(["row", "model", "backend", "device", "GPU memory peak", "host-device copies", "compile"], rows)]


def crossover_section(sweeps: Sequence[dict]) -> list[Block]:
    """Where should the model run: per gradient path and formulation, the size from which the GPU's gradient
    beats the same path on the CPU, and the CPU's fastest point (harness.worker.sweep)."""
    blocks: list[Block] = []
    for sweep in sweeps:
        rows = [[Cell(c["path"]), Cell(c["variant"]), Cell(crossover_text(c, "vs_same_path")), Cell(crossover_text(c, "vs_best_cpu"))]
                for c in sweep.get("crossovers") or []]
        if not rows:
            continue
        versions = ", ".join(f"{k} {v}" for k, v in as_dict(sweep.get("versions")).items() if v)
        blocks += [Heading(2, f"GPU or CPU: gradient sweep of {sweep.get('started', '?')}"),
                   Para(f"{sweep.get('machine', '')}; {versions}. One log density + gradient of the radon-style "
                        "GLM per size, formulation and gradient path; the GPU wins from the size shown, at every "
                        f"larger size measured ({sweep['path']})."),
                   Table(["gradient path", "formulation", "GPU beats the same path on the CPU from",
                          "GPU beats the CPU's fastest point from"], rows)]
    return blocks


def crossover_text(crossover: dict, key: str) -> str:
    size = crossover.get(key)
    if isinstance(size, (int, float)):
        return f"{size:,.0f} observations"
    return str(crossover.get(f"{key}_note") or "no crossover measured")


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


def what_changed_section(comparisons: list[Comparison]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "What changed"), Para(
        "For each row, the latest run against the one before it: what differs in its environment, next to "
        "every cell whose status changed or whose speed changed (a confirmed change or a change point).")]
    compared = [comparison for comparison in comparisons if comparison.previous]
    if not compared:
        blocks.append(Para("No row has two runs of one tier to compare."))
    for comparison in compared:
        latest, previous = comparison.latest, comparison.previous
        environment = environment_changes(previous, latest)
        blocks.append(Heading(3, f"{latest.row}: {previous.started} -> {latest.started}"))
        blocks.append(Para("Changed: " + "; ".join(environment) if environment
                           else "Nothing in the environment changed."))
        changed = [f for f in comparison.changes if f.before != f.after or f.kind in SPEED_KINDS]
        if not changed:
            blocks.append(Para("No cell changed status, and no speed change was found."))
            continue
        rows = [[Cell(f.model), Cell(f.backend), Cell(f.what, css=status_css(f.after)),
                 Cell("\n".join(environment) or "nothing")] for f in changed]
        blocks.append(Table(["model", "backend", "change", "what differs"], rows))
    return blocks
