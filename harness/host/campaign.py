"""A record stream for measuring the A/B detector: false alarms (A/A) and power (injected slowdowns).

    python -m harness.host.campaign OUT.jsonl --python ENV/bin/python [--model conjugate] [--backend pymc-c]
        [--rounds N | --minutes T] [--inject 0.05 0.1 0.2 0.5] [--batches 10] [--batch-s 0.1] [--sample-calls K]
    python -m harness.host.campaign OUT.jsonl [MORE.jsonl ...] --analyse [--metric sample_s] [--looks 5 8 12]
        [--shift 0.1]

Each round is one pair as a comparison runs it (harness.host.compare.run_pair): two fresh timing processes
of the same environment, started together, the `base` process as A and the other as B. For each arm, in a
random order, the two alternate `--batches` batches (and, with `--sample-calls`, warm sampling calls), B's
made slower by the arm's injection: `aa` none (the A/A pair), `inject-0.1` each gradient evaluation 10%
more expensive (harness.worker.timing). Every arm's pair of figures is appended to OUT.jsonl as one line
(round, arm, base, reply, and the seconds a live comparison's pair would take: the pair's start plus the
arm's own batches), so a later session extends the campaign by running the same command again (rounds
continue from the last one in the file). `harness.host.abtest.replay` turns the stream into comparisons:
consecutive rounds, disjoint, as if each comparison had run live one after the other. Several files (streams
run on several machines: .github/workflows/detector-campaign.yml) are analysed together, each file its own
stream: no comparison mixes two machines' rounds. Streams recorded before 2026-11-27 hold one process per
arm and round, run one after another (each arm's `reply` paired with the round's `base` record).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from harness.host import abtest
from harness.host.compare import (
    LOOKS,
    METRICS,
    A,
    B,
    ProbeFailed,
    close_all,
    figures,
    interleave,
    probe_command,
    start_pair,
)

BASE, AA = "base", "aa"


def arms(injections: Sequence[float]) -> Dict[str, float]:
    return {BASE: 0.0, AA: 0.0, **{f"inject-{f:g}": float(f) for f in injections}}


def last_round(path: Path) -> int:
    if not path.exists():
        return -1
    rounds = [json.loads(line)["round"] for line in path.read_text().splitlines() if line.strip()]
    return max(rounds, default=-1)


def run(out: Path, pair: Callable[[Dict[str, float]], Dict[str, Dict[str, Any]]], injections: Sequence[float],
        rounds: Optional[int], minutes: Optional[float], rng: random.Random, log: Callable[[str], None] = print) -> int:
    """Append rounds to `out` until `rounds` are done or `minutes` have passed; returns rounds done.
    `pair(plan)` runs one round's pair over the arms in the plan's order: {arm: {"base", "reply", "wall_s"}}."""
    plan = arms(injections)
    start, done, first = time.monotonic(), 0, last_round(out) + 1
    while (rounds is None or done < rounds) and (minutes is None or time.monotonic() - start < 60 * minutes):
        order = [arm for arm in plan if arm != BASE]
        rng.shuffle(order)
        began = time.time()
        measured = pair({arm: plan[arm] for arm in order})
        with out.open("a") as fh:
            for arm in order:
                fh.write(json.dumps(dict({"round": first + done, "arm": arm, "inject": plan[arm], "started": began},
                                         **measured[arm])) + "\n")
        done += 1
        elapsed = time.monotonic() - start
        left = f", about {(minutes * 60 - elapsed) / 60:.0f} min left" if minutes else \
            f", about {elapsed / done * (rounds - done) / 60:.0f} min left" if rounds else ""
        log(f"campaign: round {first + done - 1} done ({elapsed / done:.0f} s a round{left})")
    return done


def pair_round(commands: Dict[str, List[str]], injects: Dict[str, float], batches: int, sample_calls: int,
               rng: random.Random, device: str = "cpu") -> Dict[str, Dict[str, Any]]:
    """One round: the pair of processes, then each arm's alternated batches (B with the arm's injection).
    An arm whose requests fail is recorded with the failing reply; the rest of the round goes on."""
    started = time.monotonic()
    order = rng.choice([(A, B), (B, A)])
    try:
        probes, ready = start_pair(commands, order, device)
    except ProbeFailed as failed:
        return {arm: {"base": failed.reply, "reply": failed.reply, "wall_s": time.monotonic() - started} for arm in injects}
    setup_s = time.monotonic() - started
    out: Dict[str, Dict[str, Any]] = {}
    try:
        for arm, inject in injects.items():
            began = time.monotonic()
            request = {A: 0.0, B: inject}
            try:
                timed = interleave(probes, order, batches, lambda side: {"op": "batch", "inject": request[side]})
                sampled = interleave(probes, order, sample_calls, lambda side: {"op": "sample", "inject": request[side]}) \
                    if sample_calls else {A: [], B: []}
            except ProbeFailed as failed:
                out[arm] = {"base": failed.reply, "reply": failed.reply, "wall_s": time.monotonic() - began}
                continue
            wall_s = setup_s + time.monotonic() - began  # what a live comparison's pair of this arm takes
            out[arm] = {"base": figures(ready[A], timed[A], sampled[A], 0.0, wall_s),
                        "reply": figures(ready[B], timed[B], sampled[B], inject, wall_s), "wall_s": wall_s}
    finally:
        close_all(probes.values())
    return out


def table(records: Sequence[Dict[str, Any]], plan: abtest.Plan, resamples: int, seed: int = 0,
          metric: str = "median_s", alternated: bool = True, shifts: Sequence[float] = ()) -> List[str]:
    """Markdown rows: per arm, the live-equivalent (disjoint, replayed) comparisons and the resampled ones,
    with the rate of "slower" (false alarms for the A/A arm, power otherwise), its exact 95% interval
    (Clopper-Pearson; one-sided upper bound where none was seen), and minutes per comparison. Each of
    `shifts` adds the A/A arm's pairs with B made exactly that fraction slower (`aa+10%`): the power at a
    slowdown of that size, with the machine's own noise, where the busy-wait's size is only nominal."""
    arm_names = sorted({r["arm"] for r in records if r["arm"] != BASE}, key=lambda a: (a != AA, a))
    rows = [(arm, arm, 0.0) for arm in arm_names] + [(f"{AA}+{s:.0%}", AA, s) for s in shifts if AA in arm_names]
    lines = ["| arm | pairs | B/A of a pair: median, sd of ln |", "|---|---|---|"]
    for arm in arm_names:
        diffs = [d for _, d, _ in abtest.arm_pairs(records, arm, metric=metric, alternated=alternated)]
        if len(diffs) >= 2:
            lines.append(f"| {arm} | {len(diffs)} | {math.exp(statistics.median(diffs)):.3f}, {statistics.stdev(diffs):.3f} |")
    lines += ["", "| arm | kind | comparisons | slower | faster | same | undecided | P(slower) [95% CI] | "
              "pairs (median) | minutes (median) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for label, arm, shift in rows:
        for kind, result in (("disjoint", abtest.replay(records, arm, plan, metric=metric, alternated=alternated,
                                                        shift=shift)),
                             ("resampled", abtest.resample(records, arm, plan, resamples, seed, metric=metric,
                                                           alternated=alternated, shift=shift) if resamples else None)):
            if result is None or not result.decisions:
                continue
            c, n = result.counts(), len(result.decisions)
            k = c[abtest.SLOWER] + (c[abtest.FASTER] if label == AA else 0)
            low, high = abtest.clopper_pearson(k, n)
            bound = f"{k / n:.1%} [{low:.1%}, {high:.1%}]" if k else f"0 (upper {abtest.clopper_pearson_upper(0, n):.1%})"
            pairs = sorted(d["pairs"] for d in result.decisions)[n // 2]
            minutes = sorted(d["minutes"] for d in result.decisions)[n // 2]
            lines.append(f"| {label} | {kind} | {n} | {c[abtest.SLOWER]} | {c[abtest.FASTER]} | {c[abtest.SAME]} | "
                         f"{c[abtest.UNDECIDED]} | {bound} | {pairs} | {minutes:.1f} |")
    return lines + calibration(records, plan, metric, alternated)


def calibration(records: Sequence[Dict[str, Any]], plan: abtest.Plan, metric: str, alternated: bool,
                levels: Sequence[float] = (0.10, 0.05, 0.01)) -> List[str]:
    """Markdown rows: the A/A arm's disjoint chunks of each look's size, and how many of their intervals
    exclude B/A = 1 at each level, with an exact 95% interval on the rate (abtest.exclusions)."""
    if not any(r["arm"] == AA for r in records):
        return []
    lines = ["", "| A/A chunks of | chunks | " + " | ".join(f"interval at {1 - p:.0%} excludes 1" for p in levels) + " |",
             "|---|---|" + "---|" * len(levels)]
    for n in plan.looks:
        chunks, excluded = abtest.exclusions(records, AA, n, levels, metric=metric, alternated=alternated)
        if chunks:
            cells = []
            for p in levels:
                low, high = abtest.clopper_pearson(excluded[p], chunks)
                cells.append(f"{excluded[p]} ({excluded[p] / chunks:.1%} [{low:.1%}, {high:.1%}]; expected {p:.0%})")
            lines.append(f"| {n} pairs | {chunks} | " + " | ".join(cells) + " |")
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.host.campaign", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="+", help="the stream to extend; with --analyse, every stream to read")
    parser.add_argument("--python", help="the environment's interpreter")
    parser.add_argument("--analyse", action="store_true", help="print the table of the stream instead")
    parser.add_argument("--looks", type=int, nargs="+", help="pairs at each look (default: the metric's, as compare judges it)")
    parser.add_argument("--resample", type=int, default=2000, help="resampled comparisons per arm (0: none)")
    parser.add_argument("--spending", default=abtest.Plan().spending, choices=sorted(abtest.SPENDING))
    parser.add_argument("--model", default="conjugate")
    parser.add_argument("--backend", default="pymc-c")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--minutes", type=float)
    parser.add_argument("--inject", type=float, nargs="*", default=[0.05, 0.1, 0.2, 0.5])
    parser.add_argument("--batches", type=int, default=10, help="batches per side and arm, alternated")
    parser.add_argument("--batch-s", type=float, default=0.1)
    parser.add_argument("--sample-calls", type=int, default=0,
                        help="warm sampling calls per side and arm, alternated (sample_s; pymc's own NUTS)")
    parser.add_argument("--metric", default="seconds_per_grad_eval", choices=sorted(METRICS),
                        help="the figure --analyse judges")
    parser.add_argument("--shift", type=float, nargs="*", default=[], metavar="FRACTION",
                        help="also judge the A/A pairs with B made exactly this much slower (0.1: 10%%)")
    parser.add_argument("--medians", action="store_true",
                        help="judge a pair by the ratio of its two sides' medians, not by its alternated batches")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)
    if args.analyse:
        records = [dict(json.loads(line), stream=index) for index, path in enumerate(args.out)
                   for line in path.read_text().splitlines() if line.strip()]
        print(f"{len(args.out)} stream(s), {len(records)} records; {args.metric}"
              + (" (the ratio of medians)" if args.medians else ""))
        looks = tuple(args.looks or LOOKS.get(args.metric, abtest.Plan().looks))
        print("\n".join(table(records, abtest.Plan(looks=looks, spending=args.spending), args.resample,
                              metric=METRICS[args.metric], alternated=not args.medians, shifts=args.shift)))
        return 0
    if not args.python:
        parser.error("--python is required to run rounds")
    if len(args.out) != 1:
        parser.error("rounds extend one stream: give one OUT.jsonl")
    args.out = args.out[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    spec = {"model": args.model, "backend": args.backend, "batch_s": args.batch_s}
    if args.sample_calls:
        spec["sample"] = {"chains": 2, "tune": 500, "draws": 500, "seed": 1}
    commands = {side: probe_command(args.python, spec) for side in (A, B)}
    rng = random.Random(args.seed)
    try:
        run(args.out, lambda injects: pair_round(commands, injects, args.batches, args.sample_calls, rng),
            args.inject, args.rounds, args.minutes, rng)
    except KeyboardInterrupt:  # a round is written whole when it ends, so only the one cut off is lost
        print(f"campaign: stopped; {args.out} keeps its {last_round(args.out) + 1} rounds: "
              "the same command with another --seed extends it")
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
