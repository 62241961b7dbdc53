"""A record stream for measuring the A/B detector: false alarms (A/A) and power (injected slowdowns).

    python -m harness.host.campaign OUT.jsonl --python ENV/bin/python [--model conjugate] [--backend pymc-c]
        [--rounds N | --minutes T] [--inject 0.05 0.1 0.2 0.5] [--batches 20] [--batch-s 0.1]
    python -m harness.host.campaign OUT.jsonl [MORE.jsonl ...] --analyse [--looks 5 8 12] [--resample 2000]

Each round starts, in a random order, one fresh timing probe (harness.worker.timing) per arm: `base` and
`aa` (both without injection: the A/A pair) and one per injected slowdown (`inject-0.1`: each gradient
evaluation made 10% more expensive). Every probe's reply is appended to OUT.jsonl as one line with its
round, arm and start time, so a later session extends the campaign by running the same command again
(rounds continue from the last one in the file). `harness.host.abtest.replay` turns the stream into
comparisons: consecutive rounds, disjoint, as if each comparison had run live one after the other. Several
files (streams run on several machines: .github/workflows/detector-campaign.yml) are analysed together, each
file its own stream: no comparison mixes two machines' rounds.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from harness.host import abtest
from harness.host.compare import probe_command, run_probe

BASE, AA = "base", "aa"


def arms(injections: Sequence[float]) -> Dict[str, float]:
    return {BASE: 0.0, AA: 0.0, **{f"inject-{f:g}": float(f) for f in injections}}


def last_round(path: Path) -> int:
    if not path.exists():
        return -1
    rounds = [json.loads(line)["round"] for line in path.read_text().splitlines() if line.strip()]
    return max(rounds, default=-1)


def run(out: Path, probe: Callable[[float], Dict[str, Any]], injections: Sequence[float], rounds: Optional[int],
        minutes: Optional[float], rng: random.Random, log: Callable[[str], None] = print) -> int:
    """Append rounds to `out` until `rounds` are done or `minutes` have passed; returns rounds done."""
    plan = arms(injections)
    start, done, first = time.monotonic(), 0, last_round(out) + 1
    while (rounds is None or done < rounds) and (minutes is None or time.monotonic() - start < 60 * minutes):
        order = list(plan)
        rng.shuffle(order)
        with out.open("a") as fh:
            for arm in order:
                began = time.time()
                reply = probe(plan[arm])
                fh.write(json.dumps({"round": first + done, "arm": arm, "inject": plan[arm], "started": began,
                                     "wall_s": time.time() - began, "reply": reply}) + "\n")
                fh.flush()
        done += 1
        log(f"campaign: round {first + done - 1} done ({time.monotonic() - start:.0f} s)")
    return done


def table(records: Sequence[Dict[str, Any]], plan: abtest.Plan, resamples: int, seed: int = 0) -> List[str]:
    """Markdown rows: per arm, the live-equivalent (disjoint, replayed) comparisons and the resampled ones,
    with the rate of "slower" (false alarms for the A/A arm, power otherwise), its exact 95% interval
    (Clopper-Pearson; one-sided upper bound where none was seen), and minutes per comparison."""
    arm_names = sorted({r["arm"] for r in records if r["arm"] != BASE}, key=lambda a: (a != AA, a))
    lines = ["| arm | kind | comparisons | slower | faster | same | undecided | P(slower) [95% CI] | "
             "pairs (median) | minutes (median) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for arm in arm_names:
        for kind, result in (("disjoint", abtest.replay(records, arm, plan)),
                             ("resampled", abtest.resample(records, arm, plan, resamples, seed) if resamples else None)):
            if result is None or not result.decisions:
                continue
            c, n = result.counts(), len(result.decisions)
            k = c[abtest.SLOWER] + (c[abtest.FASTER] if arm == AA else 0)
            low, high = abtest.clopper_pearson(k, n)
            bound = f"{k / n:.1%} [{low:.1%}, {high:.1%}]" if k else f"0 (upper {abtest.clopper_pearson_upper(0, n):.1%})"
            pairs = sorted(d["pairs"] for d in result.decisions)[n // 2]
            minutes = sorted(d["minutes"] for d in result.decisions)[n // 2]
            lines.append(f"| {arm} | {kind} | {n} | {c[abtest.SLOWER]} | {c[abtest.FASTER]} | {c[abtest.SAME]} | "
                         f"{c[abtest.UNDECIDED]} | {bound} | {pairs} | {minutes:.1f} |")
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.host.campaign", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="+", help="the stream to extend; with --analyse, every stream to read")
    parser.add_argument("--python", help="the environment's interpreter")
    parser.add_argument("--analyse", action="store_true", help="print the table of the stream instead")
    parser.add_argument("--looks", type=int, nargs="+", default=list(abtest.Plan().looks))
    parser.add_argument("--resample", type=int, default=2000, help="resampled comparisons per arm (0: none)")
    parser.add_argument("--spending", default=abtest.Plan().spending, choices=sorted(abtest.SPENDING))
    parser.add_argument("--model", default="conjugate")
    parser.add_argument("--backend", default="pymc-c")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--minutes", type=float)
    parser.add_argument("--inject", type=float, nargs="*", default=[0.05, 0.1, 0.2, 0.5])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-s", type=float, default=0.1)
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)
    if args.analyse:
        records = [dict(json.loads(line), stream=index) for index, path in enumerate(args.out)
                   for line in path.read_text().splitlines() if line.strip()]
        print(f"{len(args.out)} stream(s), {len(records)} processes")
        print("\n".join(table(records, abtest.Plan(looks=tuple(args.looks), spending=args.spending), args.resample)))
        return 0
    if not args.python:
        parser.error("--python is required to run rounds")
    if len(args.out) != 1:
        parser.error("rounds extend one stream: give one OUT.jsonl")
    args.out = args.out[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def probe(inject: float) -> Dict[str, Any]:
        spec = {"model": args.model, "backend": args.backend, "batches": args.batches, "batch_s": args.batch_s,
                "inject": inject}
        return run_probe(probe_command(args.python, spec), device="cpu")

    run(args.out, probe, args.inject, args.rounds, args.minutes, random.Random(args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
