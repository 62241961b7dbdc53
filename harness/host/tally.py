"""Count cell statuses over many results files: false-alarm rates and the mutant catch table.

    python -m harness.host.tally results/false-alarms     # per (model, backend): runs, failed, rate
    python -m harness.host.tally results/mutants         # the same table: for mutants 'failed' means caught

Only cells that sampled count (passed or failed); everything else is listed apart.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

from harness.common.statuses import SAMPLED


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


def main(argv: List[str]) -> int:
    files = sorted(p for arg in argv for p in (Path(arg).rglob("*.json") if Path(arg).is_dir() else [Path(arg)])
                   if not p.name.endswith(".benchmark.json"))
    per_cell, other = tally(files)
    print(f"{len(files)} results files")
    print(f"{'model':<36} {'backend':<20} {'runs':>5} {'failed':>7} {'rate':>6}")
    runs = fails = 0
    for (model, backend), counts in sorted(per_cell.items()):
        n = counts["passed"] + counts["failed"]
        runs, fails = runs + n, fails + counts["failed"]
        print(f"{model:<36} {backend:<20} {n:>5} {counts['failed']:>7} {counts['failed'] / n:>6.1%}")
    if runs:
        print(f"{'all':<36} {'':<20} {runs:>5} {fails:>7} {fails / runs:>6.1%}")
    if other:
        print("not sampled: " + ", ".join(f"{n} {s}" for s, n in other.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
