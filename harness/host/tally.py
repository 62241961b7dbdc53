"""Count cell statuses over many results files: false-alarm rates and the mutant catch table.

    python -m harness.host.tally results/false-alarms     # per (model, backend): runs, failed, rate
    python -m harness.host.tally results/mutants         # the same table: for mutants 'failed' means caught
    python -m harness.host.tally results/untuned --by model   # one line per model (or --by backend)

Only cells that sampled count (passed, failed or did-not-mix); everything else is listed apart. The rate is
of `failed` (a wrong posterior) among them, with its exact 95% upper bound (Clopper-Pearson); did-not-mix is
counted apart. `one-stage failed` counts the cells the verdict before the two-stage one would have failed on
the same draws: the first run, at the tier's draws, failed when it missed the mixing gate (`mixing`: there
was no did-not-mix, and no longer run) or when any of its z-tests (every one, heavy tail or not) exceeded
the Bonferroni limit at 0.5% family-wise (`z`). `one-stage z, screen` isolates the z-tests: the same single
test on the run the two-stage verdict screened (the first that mixed). Both need the runs' `max_abs_z`
(measurement version 4 on); cells without it are not counted in those columns.
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path
from statistics import NormalDist
from typing import Any, Dict, List, Optional, Tuple

from harness.common.statuses import DID_NOT_MIX, FAILED, SAMPLED

ONE_STAGE_ALPHA = 0.005  # the single z-test's family-wise level before the two-stage verdict
MIXING, Z, PASSES = "mixing", "z", "passes"  # what the one-stage verdict says of a cell's first run


def one_stage_z_fails(run: Optional[Dict[str, Any]]) -> Optional[bool]:
    """Would the single z-test (every test, Bonferroni at 0.5% family-wise) fail this run? None where the
    run recorded no z-tests."""
    if not run or run.get("max_abs_z") is None or not run.get("z_tests"):
        return None
    return run["max_abs_z"] > NormalDist().inv_cdf(1 - ONE_STAGE_ALPHA / (2 * run["z_tests"]))


def one_stage(cell: Dict[str, Any]) -> Optional[str]:
    """What the one-stage verdict would have said of this cell's first run: failed on the mixing gate
    (MIXING), failed on a z-test (Z), or PASSES; None where the runs cannot say."""
    first = (cell.get("runs") or [{}])[0]
    if first.get("problems"):  # missed the mixing gate: `failed` before did-not-mix existed
        return MIXING
    fails = one_stage_z_fails(first)
    return None if fails is None else Z if fails else PASSES


def one_stage_z_at_screen(cell: Dict[str, Any]) -> Optional[bool]:
    """Would the one-stage z-test have failed the screen run, the first run that mixed (the same draws the
    two-stage verdict screened)? None where no run was z-tested or recorded its |z|."""
    return one_stage_z_fails(next((run for run in cell.get("runs") or [] if "z_problems" in run), None))


def tally(paths: List[Path]) -> Tuple[Dict[Tuple[str, str], Counter], Counter]:
    per_cell: Dict[Tuple[str, str], Counter] = defaultdict(Counter)
    other: Counter = Counter()
    for path in paths:
        for cell in json.loads(path.read_text()).get("cells", []):
            if cell["status"] in SAMPLED:
                counts = per_cell[(cell["model"], cell["backend"])]
                counts[cell["status"]] += 1
                before = one_stage(cell)
                if before is not None:
                    counts["one-stage " + before] += 1
                at_screen = one_stage_z_at_screen(cell)
                if at_screen is not None:
                    counts["screened"] += 1
                    counts["one-stage z at screen"] += at_screen
            else:
                other[cell["status"]] += 1
    return per_cell, other


def upper_bound(failures: int, runs: int, confidence: float = 0.95) -> float:
    """The exact (Clopper-Pearson) upper limit of a binomial rate at `confidence` (two-sided): the p at which
    seeing `failures` or fewer in `runs` has probability (1 - confidence) / 2. Bisection on the binomial
    CDF, so the host needs no scipy."""
    if failures >= runs:
        return 1.0
    tail = (1 - confidence) / 2

    def cdf(p: float) -> float:
        return sum(math.comb(runs, k) * p**k * (1 - p) ** (runs - k) for k in range(failures + 1))

    low, high = failures / runs, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if cdf(mid) > tail else (low, mid)
    return high


def grouped(per_cell: Dict[Tuple[str, str], Counter], by: str) -> Dict[Tuple[str, str], Counter]:
    """The counts summed per model or per backend (`by`), or as they are (per cell)."""
    if by == "cell":
        return per_cell
    out: Dict[Tuple[str, str], Counter] = defaultdict(Counter)
    for (model, backend), counts in per_cell.items():
        out[(model, "(all)") if by == "model" else ("(all)", backend)].update(counts)
    return out


def main(argv: List[str]) -> int:
    by = "cell"
    if "--by" in argv:
        at = argv.index("--by")
        by = argv[at + 1] if at + 1 < len(argv) else ""
        argv = argv[:at] + argv[at + 2:]
        if by not in ("cell", "model", "backend"):
            print("python -m harness.host.tally: --by takes cell, model or backend", file=sys.stderr)
            return 2
    files = sorted(p for arg in argv for p in (Path(arg).rglob("*.json") if Path(arg).is_dir() else [Path(arg)])
                   if not p.name.endswith(".benchmark.json"))
    per_cell, other = tally(files)
    per_cell = grouped(per_cell, by)
    print(f"{len(files)} results files")
    print(f"{'model':<36} {'backend':<20} {'runs':>5} {'failed':>7} {'rate':>6} {'95% up':>7} {'did-not-mix':>12} "
          f"{'one-stage, first run':>24} {'one-stage z, screen':>20}")
    totals: Counter = Counter()
    rows = sorted(per_cell.items()) + ([(("all", ""), None)] if per_cell else [])
    for (model, backend), counts in rows:
        counts = totals if counts is None else counts
        if model != "all":
            totals.update(counts)
        n = sum(counts[s] for s in SAMPLED)
        failed = counts[FAILED]
        judged = sum(counts["one-stage " + k] for k in (MIXING, Z, PASSES))
        failed_before = counts["one-stage " + MIXING] + counts["one-stage " + Z]
        before = (f"{failed_before}/{judged} ({counts['one-stage ' + MIXING]} mixing, {counts['one-stage ' + Z]} z)"
                  if judged else "-")
        at_screen = f"{counts['one-stage z at screen']}/{counts['screened']}" if counts["screened"] else "-"
        print(f"{model:<36} {backend:<20} {n:>5} {failed:>7} {failed / n:>6.1%} {upper_bound(failed, n):>7.1%} "
              f"{counts[DID_NOT_MIX]:>12} {before:>24} {at_screen:>20}")
    if other:
        print("not sampled: " + ", ".join(f"{n} {s}" for s, n in other.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
