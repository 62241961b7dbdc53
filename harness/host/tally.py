"""Count cell statuses over many results files: false-alarm rates and the mutant catch table.

    python -m harness.host.tally results/false-alarms     # per (model, backend): runs, failed, rate
    python -m harness.host.tally results/mutants         # the same table: for mutants 'failed' means caught

Only cells that sampled count (passed, failed or did-not-mix); everything else is listed apart. The rate is
of `failed` (a wrong posterior) among them, with its exact 95% upper bound (Clopper-Pearson); did-not-mix is
counted apart.
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

from harness.common.statuses import DID_NOT_MIX, FAILED, SAMPLED


def tally(paths: List[Path]) -> Tuple[Dict[Tuple[str, str], Counter], Counter]:
    per_cell: Dict[Tuple[str, str], Counter] = defaultdict(Counter)
    other: Counter = Counter()
    for path in paths:
        for cell in json.loads(path.read_text()).get("cells", []):
            if cell["status"] in SAMPLED:
                per_cell[(cell["model"], cell["backend"])][cell["status"]] += 1
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
    print(f"{'model':<36} {'backend':<20} {'runs':>5} {'failed':>7} {'rate':>6} {'95% up':>7} {'did-not-mix':>12}")
    totals: Counter = Counter()
    rows = sorted(per_cell.items()) + ([(("all", ""), None)] if per_cell else [])
    for (model, backend), counts in rows:
        counts = totals if counts is None else counts
        if model != "all":
            totals.update(counts)
        n = sum(counts[s] for s in SAMPLED)
        failed = counts[FAILED]
        print(f"{model:<36} {backend:<20} {n:>5} {failed:>7} {failed / n:>6.1%} {upper_bound(failed, n):>7.1%} "
              f"{counts[DID_NOT_MIX]:>12}")
    if other:
        print("not sampled: " + ", ".join(f"{n} {s}" for s, n in other.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
