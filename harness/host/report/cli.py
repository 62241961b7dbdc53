"""The command line: write the report over results files, or compare two runs of a row; the exit status."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from harness.host.report.comparison import NO_EVIDENCE, Finding, SpeedEvidence, compare, row_comparisons
from harness.host.report.loading import Loaded, Run, load, read_run
from harness.host.report.rendering import render_html, render_markdown, utc_now
from harness.host.report.sections import document

DEFAULT_OUT = Path("reports")
COMPARE_RESULTS = Path("results") / "compare"  # where nox -s compare writes its JSON


def write_report(runs: list[Run], out_dir: Path | str, run_id: str, skipped: Sequence[tuple[Path, str]] = (),
                 sweeps: Sequence[dict] = (), evidence: SpeedEvidence = NO_EVIDENCE) -> tuple[Path, Path]:
    """Write <out_dir>/<run_id>/report.md and report.html; return their paths."""
    folder = Path(out_dir) / run_id
    folder.mkdir(parents=True, exist_ok=True)
    md_path, html_path = folder / "report.md", folder / "report.html"
    generated = utc_now()
    md_path.write_text(render_markdown(document(runs, skipped, False, generated, sweeps, evidence)), encoding="utf-8")
    html_path.write_text(render_html(document(runs, skipped, True, generated, sweeps, evidence)), encoding="utf-8")
    return md_path, html_path


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    usage = sys.modules[__package__].__doc__  # the package docstring
    parser = argparse.ArgumentParser(prog="python -m harness.host.report", description=usage.split("\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="results files or folders (default: results/)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="reports folder (default: reports)")
    parser.add_argument("--run-id", default=None, help="report folder name (default: UTC timestamp)")
    parser.add_argument("--baseline", type=Path, help="compare this run ...")
    parser.add_argument("--candidate", type=Path, help="... with this run of the same row; writes no report")
    parser.add_argument("--evidence", type=Path, action="append", default=[],
                        help="with --baseline/--candidate: nox -s compare results or change points to read speed "
                             "changes from (default: results/compare/)")
    parser.add_argument("--fail-on-regression", action="store_true", help="exit 1 when a cell regressed")
    args = parser.parse_args(argv)
    if (args.baseline is None) != (args.candidate is None):
        parser.error("--baseline and --candidate go together")
    if args.baseline and args.paths:
        parser.error("give either results paths or --baseline/--candidate, not both")
    return args


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    if args.baseline:
        return compare_two(args.baseline, args.candidate, evidence_of(load(args.evidence or [COMPARE_RESULTS])),
                           args.fail_on_regression)
    loaded = load(args.paths)
    runs, evidence = loaded.runs, evidence_of(loaded)
    for path, why in loaded.skipped:
        print(f"skipped {path}: {why}")
    for run in runs:
        if not run.complete:
            print(f"partial {run.path}: complete is not true (interrupted or still running); "
                  f"its {len(run.cells)} cell(s) are reported")
    findings = [finding for comparison in row_comparisons(runs, evidence) for finding in comparison.flagged]
    for finding in findings:
        print(finding.line())
    for path in write_report(runs, args.out, args.run_id or utc_now("%Y%m%dT%H%M%SZ"), loaded.skipped,
                             loaded.sweeps, evidence):
        print(path)
    return exit_status(findings, args.fail_on_regression)


def evidence_of(loaded: Loaded) -> SpeedEvidence:
    return SpeedEvidence(tuple(loaded.comparisons), tuple(loaded.change_points))


def compare_two(baseline_path: Path, candidate_path: Path, evidence: SpeedEvidence, fail_on_regression: bool) -> int:
    runs = []
    for path in (baseline_path, candidate_path):
        run, why = read_run(path) if path.is_file() else (None, "no such file")
        if run is None:
            print(f"error: {path}: {why}", file=sys.stderr)
            return 2
        runs.append(run)
    baseline, candidate = runs
    try:
        findings = compare(baseline, candidate, evidence)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for finding in findings:
        print(finding.line())
    if not findings:
        print(f"{candidate.row}: nothing flagged ({baseline.path} -> {candidate.path}; speed changes are read from "
              f"{len(evidence.comparisons)} comparison(s) and {len(evidence.change_points)} change-point series)")
    return exit_status(findings, fail_on_regression)


def exit_status(findings: list[Finding], fail_on_regression: bool) -> int:
    return 1 if fail_on_regression and any(finding.is_regression for finding in findings) else 0
