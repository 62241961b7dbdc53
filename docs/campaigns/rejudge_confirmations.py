"""Judge recorded confirmations again under the current rule (harness.worker.verdict.confirmation_problems).

    python docs/campaigns/rejudge_confirmations.py RESULTS_DIR [RESULTS_DIR ...]

A campaign that ran before the confirmation retested the screen's failed tests still holds everything the
current rule needs: which tests the screen failed (its `z_failed`, or the names in its `z_problems`) and
the confirmation run's z-score for every scalar (the cell's `params` are its last run's). The draws do
not change with the rule, only the judgement, so this gives exactly the verdict the current code would
have reached. Prints one line per confirmed cell and the counts of `failed` before and after.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from harness.worker.verdict import ALPHA_CONFIRM, z_critical  # noqa: E402

KEYS = {"mean": "z_mean", "sd": "z_sd"}


def flagged(screen: dict) -> list:
    """The (scalar, key) pairs the screen failed: recorded since the retest, else read from its words."""
    if "z_failed" in screen:
        return [tuple(pair) for pair in screen["z_failed"]]
    pairs = []
    for line in screen["z_problems"]:
        what, body = line.split(" off the truth: ", 1)
        pairs += [(name, KEYS[what]) for name in re.findall(r"(\S+) \(z=", body.rsplit(" (|z| limit", 1)[0])]
    return pairs


def failures(params: dict, tests: list) -> list:
    limit = z_critical(len(tests), ALPHA_CONFIRM / 2)
    return [(name, key, params[name][key]) for name, key in tests
            if key not in params[name].get("untested", {}) and not abs(params[name][key]) <= limit]


def rejudge(cell: dict) -> str | None:
    """The cell's status under the current confirmation rule; None where no confirmation ran."""
    judged = [run for run in cell.get("runs") or [] if "z_problems" in run]
    if len(judged) < 2 or not judged[0]["z_problems"] or cell["status"] not in ("passed", "failed"):
        return None
    params = cell["params"]
    every = [(name, key) for name, stats in params.items() for key in ("z_mean", "z_sd") if key in stats]
    retest = [test for test in every if test in set(flagged(judged[0]))]
    return "failed" if failures(params, retest) or failures(params, every) else "passed"


def main(dirs: list) -> None:
    before = after = confirmed = 0
    for path in sorted(p for d in dirs for p in Path(d).rglob("*.json")):
        for cell in json.loads(path.read_text()).get("cells", []):
            now = rejudge(cell)
            if now is None:
                continue
            confirmed += 1
            before += cell["status"] == "failed"
            after += now == "failed"
            print(f"{path.name}  {cell['model']:<32} {cell['backend']:<20} {cell['status']:<7} -> {now}")
    print(f"{confirmed} confirmations; failed: {before} as recorded, {after} under the current rule")


if __name__ == "__main__":
    main(sys.argv[1:])
