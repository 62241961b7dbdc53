"""Count cell statuses over many results files: false-alarm rates and the mutant catch table.

    python -m harness.host.tally results/false-alarms     # per (model, backend): runs, failed, rate
    python -m harness.host.tally results/mutants         # the same table: for mutants 'failed' means caught

Only cells that sampled count (passed, failed or did-not-mix); everything else is listed apart. The rate is
of `failed` (a wrong posterior) among them, with its exact 95% upper bound (Clopper-Pearson); did-not-mix is
counted apart. `one-stage` counts the cells the verdict before the two-stage one would have failed on the
same draws: the first run, at the tier's draws, failed when it missed the mixing gate (there was no
did-not-mix) or when any of its z-tests (every one, heavy tail or not) exceeded the Bonferroni limit at 0.5%
family-wise. It needs the runs' `max_abs_z` (measurement version 4 on); cells without it are not counted in
that column.
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
ONE_STAGE, ONE_STAGE_KNOWN = "one-stage failed", "one-stage judged"


def one_stage_failed(cell: Dict[str, Any]) -> Optional[bool]:
    """Would the one-stage verdict have failed this cell's first run? None where the runs cannot say."""
    first = (cell.get("runs") or [{}])[0]
    if first.get("problems"):  # missed the mixing gate: `failed` before did-not-mix existed
        return True
    if first.get("max_abs_z") is None or not first.get("z_tests"):
        return None
    return first["max_abs_z"] > NormalDist().inv_cdf(1 - ONE_STAGE_ALPHA / (2 * first["z_tests"]))


def tally(paths: List[Path]) -> Tuple[Dict[Tuple[str, str], Counter], Counter]:
    per_cell: Dict[Tuple[str, str], Counter] = defaultdict(Counter)
    other: Counter = Counter()
    for path in paths:
        for cell in json.loads(path.read_text()).get("cells", []):
            if cell["status"] in SAMPLED:
                counts = per_cell[(cell["model"], cell["backend"])]
                counts[cell["status"]] += 1
                before = one_stage_failed(cell)
                if before is not None:
                    counts[ONE_STAGE_KNOWN] += 1
                    counts[ONE_STAGE] += before
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


def main(argv: List[str]) -> int:
    files = sorted(p for arg in argv for p in (Path(arg).rglob("*.json") if Path(arg).is_dir() else [Path(arg)])
                   if not p.name.endswith(".benchmark.json"))
    per_cell, other = tally(files)
    print(f"{len(files)} results files")
    print(f"{'model':<36} {'backend':<20} {'runs':>5} {'failed':>7} {'rate':>6} {'95% up':>7} {'did-not-mix':>12} "
          f"{'one-stage':>10}")
    totals: Counter = Counter()
    rows = sorted(per_cell.items()) + ([(("all", ""), None)] if per_cell else [])
    for (model, backend), counts in rows:
        counts = totals if counts is None else counts
        if model != "all":
            totals.update(counts)
        n = sum(counts[s] for s in SAMPLED)
        failed = counts[FAILED]
        judged = counts[ONE_STAGE_KNOWN]
        before = f"{counts[ONE_STAGE]}/{judged}" if judged else "-"
        print(f"{model:<36} {backend:<20} {n:>5} {failed:>7} {failed / n:>6.1%} {upper_bound(failed, n):>7.1%} "
              f"{counts[DID_NOT_MIX]:>12} {before:>10}")
    if other:
        print("not sampled: " + ", ".join(f"{n} {s}" for s, n in other.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
