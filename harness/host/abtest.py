"""The statistics of an A/B speed comparison: a ratio B/A with a confidence interval, a verdict, and a
sequential plan whose false alarms stay at their stated level however many looks it takes.

Host side: the standard library only (no numpy/scipy): the t and beta quantiles are computed here.

The data are pairs: each repetition runs A and B once, each in a fresh process, in a random order
(harness.host.compare), and yields d = ln(B) - ln(A) of a per-process figure (the median of its batch means).
Pairing neighbours in time removes the machine's slow drift; logs make the ratio symmetric.

- Interval: a t-interval on the mean of d, exponentiated: the ratio of geometric means B/A.
- Sequential looks: at most K looks, at fixed numbers of pairs (default 5, 8, 12). Each look tests
  "no change" at its own level alpha_k, the increments of a Lan-DeMets spending function for the total
  alpha; by the union bound the chance of any false alarm over all looks is at most alpha, whatever the
  dependence between looks (conservative: the exact group-sequential boundary would be wider open).
  O'Brien-Fleming spends little early and keeps most for the last look (noisy timings); Pocock-type
  spending gives the early looks more (quiet timings: decide at the first look).
- Verdicts at a look, in this order:
  same: the two one-sided tests (TOST) at level beta_k (the same spending of `alpha_same`) put the
        interval inside the equivalence margin (+-5%: 1/1.05 .. 1.05);
  slower / faster: the (1 - alpha_k) interval excludes 1;
  otherwise another look; after the last: undecided, with the interval.
"""

from __future__ import annotations

import functools
import math
import random
import statistics
from dataclasses import asdict, dataclass, field
from statistics import NormalDist
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

SLOWER, FASTER, SAME, UNDECIDED = "slower", "faster", "same", "undecided"


# --------------------------------------------------------------------------------------------------------
# Distributions (stdlib only)


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularized incomplete beta function (modified Lentz)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-14:
            break
    return h


def beta_cdf(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def _invert(cdf: Callable[[float], float], p: float, lo: float, hi: float) -> float:
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if cdf(mid) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def beta_ppf(p: float, a: float, b: float) -> float:
    return _invert(lambda x: beta_cdf(x, a, b), p, 0.0, 1.0)


def t_cdf(t: float, df: float) -> float:
    tail = 0.5 * beta_cdf(df / (df + t * t), df / 2.0, 0.5)
    return 1.0 - tail if t > 0 else tail


@functools.lru_cache(maxsize=4096)
def t_ppf(p: float, df: float) -> float:
    """The p-quantile of Student's t with df degrees of freedom."""
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_ppf(1.0 - p, df)
    hi = 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    return _invert(lambda t: t_cdf(t, df), p, 0.0, hi)


def clopper_pearson_upper(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided upper confidence bound of a binomial rate with k events in n trials."""
    if n <= 0:
        return 1.0
    if k >= n:
        return 1.0
    return beta_ppf(confidence, k + 1, n - k)


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> Tuple[float, float]:
    """Two-sided exact interval of a binomial rate."""
    tail = (1.0 - confidence) / 2.0
    lower = 0.0 if k == 0 else beta_ppf(tail, k, n - k + 1)
    upper = 1.0 if k == n else beta_ppf(1.0 - tail, k + 1, n - k)
    return lower, upper


# --------------------------------------------------------------------------------------------------------
# Intervals and the sequential plan


@dataclass(frozen=True)
class Interval:
    ratio: float
    low: float
    high: float
    level: float  # the confidence level, e.g. 0.995
    n: int

    def to_dict(self) -> Dict[str, float]:
        return asdict(self)


def log_ratio_interval(diffs: Sequence[float], level: float) -> Interval:
    """t-interval on the mean of the paired log differences, as a ratio B/A (geometric means)."""
    n = len(diffs)
    if n < 2:
        raise ValueError("an interval needs at least two pairs")
    mean = statistics.fmean(diffs)
    half = t_ppf(1.0 - (1.0 - level) / 2.0, n - 1) * statistics.stdev(diffs) / math.sqrt(n)
    return Interval(math.exp(mean), math.exp(mean - half), math.exp(mean + half), level, n)


def pocock_spent(alpha: float, fraction: float) -> float:
    """Lan-DeMets Pocock-type spending: alpha ln(1 + (e - 1) t), more of it early than O'Brien-Fleming."""
    return alpha * math.log1p((math.e - 1.0) * min(max(fraction, 0.0), 1.0))


def obrien_fleming_spent(alpha: float, fraction: float) -> float:
    """Lan-DeMets O'Brien-Fleming spending: the alpha spent by `fraction` of the information."""
    if fraction <= 0:
        return 0.0
    z = NormalDist().inv_cdf(1.0 - alpha / 2.0)
    return min(alpha, 2.0 - 2.0 * NormalDist().cdf(z / math.sqrt(min(fraction, 1.0))))


SPENDING = {"obrien-fleming": obrien_fleming_spent, "pocock": pocock_spent}


@dataclass(frozen=True)
class Plan:
    """When to look and at what levels. `looks`: the numbers of pairs at each look, increasing."""

    # Defaults from the campaign of docs/verdicts.md: per-process figures within ~3% of each other, so the
    # first look at 5 pairs with Pocock-type spending decides a 10% step; 12 pairs is the cap (~15 minutes).
    looks: Tuple[int, ...] = (5, 8, 12)
    alpha: float = 0.01  # false alarms (slower/faster where nothing changed), per comparison, over all looks
    alpha_same: float = 0.05  # calling "same" where the change exceeds the margin
    margin: float = 0.05  # equivalence margin, relative: same means within 1/1.05 .. 1.05
    spending: str = "pocock"  # or "obrien-fleming": less alpha early, more for the last look (noisy timings)

    def __post_init__(self):
        if list(self.looks) != sorted(set(self.looks)) or self.looks[0] < 3:
            raise ValueError(f"looks must increase from at least 3 pairs: {self.looks}")
        if self.spending not in SPENDING:
            raise ValueError(f"spending must be one of {', '.join(SPENDING)}: {self.spending!r}")

    def spent(self, total: float, k: int) -> float:
        """The level of look k (0-based): the increment of the spending function."""
        last, spent = self.looks[-1], SPENDING[self.spending]
        return spent(total, self.looks[k] / last) - (spent(total, self.looks[k - 1] / last) if k else 0.0)

    def alpha_at(self, k: int) -> float:
        return self.spent(self.alpha, k)

    def alpha_same_at(self, k: int) -> float:
        return self.spent(self.alpha_same, k)


@dataclass
class Decision:
    verdict: str
    look: int  # 0-based look at which it was decided (the last look for undecided)
    interval: Interval  # at the level of the change test of that look
    same_interval: Interval  # the TOST interval (1 - 2 beta_k)
    final: bool  # no further look: decided, or the cap reached

    def to_dict(self) -> Dict[str, Any]:
        return {"verdict": self.verdict, "look": self.look, "pairs": self.interval.n, "final": self.final,
                "ratio": self.interval.ratio, "interval": self.interval.to_dict(),
                "same_interval": self.same_interval.to_dict()}


def judge(diffs: Sequence[float], plan: Plan, k: int) -> Decision:
    """The verdict at look k on the first plan.looks[k] pairs' log differences."""
    data = list(diffs)[: plan.looks[k]]
    change = log_ratio_interval(data, 1.0 - plan.alpha_at(k))
    same = log_ratio_interval(data, 1.0 - 2.0 * plan.alpha_same_at(k))
    last = k == len(plan.looks) - 1
    if 1.0 / (1.0 + plan.margin) < same.low and same.high < 1.0 + plan.margin:
        return Decision(SAME, k, change, same, True)
    if change.low > 1.0:
        return Decision(SLOWER, k, change, same, True)
    if change.high < 1.0:
        return Decision(FASTER, k, change, same, True)
    return Decision(UNDECIDED, k, change, same, last)


def sequential(diffs: Sequence[float], plan: Plan) -> Decision:
    """Run the looks over a stream of log differences already at hand; stops at the first final one.
    With fewer pairs than the next look needs, the last possible decision is returned (not final)."""
    decision = None
    for k, n in enumerate(plan.looks):
        if len(diffs) < n:
            break
        decision = judge(diffs, plan, k)
        if decision.final:
            return decision
    if decision is None:
        raise ValueError(f"the first look needs {plan.looks[0]} pairs; {len(diffs)} given")
    return decision


def log_diff(a: float, b: float) -> float:
    return math.log(b) - math.log(a)


# A pair's figure -> the alternated batches (or sampling calls) it is the median of
ALTERNATED = {"median_s": "batch_medians_s", "sample.sample_s": "sample.sample_s_calls"}


def pair_log_ratio(a: Dict[str, Any], b: Dict[str, Any], metric: str, alternated: bool = True) -> Optional[float]:
    """ln(B/A) of one pair's `metric` (None where either side lacks it).

    Where the two processes alternated their batches (or sampling calls: harness.host.compare.run_pair),
    each of B's sits next to one of A's in time, and the pair's difference is the median over them of
    ln(B_i / A_i). This machine's speed jumps between levels (28 and 50 us a call, for a second or two at a
    time, 2026-11-27): two batches side by side see the same level, so their ratio is steady, and the
    median drops the few that straddle a jump. The ratio of the two sides' own medians mixes the levels in
    whatever proportions each side happened to meet (12 A/A pairs on 2026-11-27: -0.15 to +0.15)."""
    key = ALTERNATED.get(metric)
    xs, ys = (figure(a, key), figure(b, key)) if key and alternated else (None, None)
    if isinstance(xs, list) and isinstance(ys, list) and xs and len(xs) == len(ys) and all(v > 0 for v in xs + ys):
        return statistics.median(log_diff(x, y) for x, y in zip(xs, ys))
    va, vb = figure(a, metric), figure(b, metric)
    if all(isinstance(v, (int, float)) and v > 0 for v in (va, vb)):
        return log_diff(va, vb)
    return None


@dataclass
class MetricSummary:
    """A secondary metric: its interval at the final number of pairs, with the last look's levels."""

    metric: str
    decision: Dict[str, Any]
    a_median: float
    b_median: float

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def summarize(metric: str, pairs: Sequence[Tuple[float, float]], plan: Plan,
              diffs: Optional[Sequence[float]] = None) -> MetricSummary:
    """The verdict of a metric over all its pairs at the strictest level the plan spends on one look, from
    each pair's ln(B/A) (`diffs`; by default that of the two figures)."""
    diffs = [log_diff(a, b) for a, b in pairs] if diffs is None else list(diffs)
    k = len(plan.looks) - 1
    single = Plan(looks=(len(diffs),), alpha=plan.alpha_at(k), alpha_same=plan.alpha_same_at(k), margin=plan.margin,
                  spending=plan.spending)
    decision = judge(diffs, single, 0).to_dict() if len(diffs) >= 3 else {"verdict": UNDECIDED, "pairs": len(diffs)}
    return MetricSummary(metric, decision, statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs))


# --------------------------------------------------------------------------------------------------------
# Replaying a campaign's record stream (harness.host.campaign)


@dataclass
class Replayed:
    arm: str
    decisions: List[Dict[str, Any]] = field(default_factory=list)

    def counts(self) -> Dict[str, int]:
        out = {SLOWER: 0, FASTER: 0, SAME: 0, UNDECIDED: 0}
        for d in self.decisions:
            out[d["verdict"]] += 1
        return out


def figure(reply: Dict[str, Any], key: str) -> Any:
    """A probe reply's figure; nested keys joined by "." (sample.sample_s)."""
    value: Any = reply
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def arm_pairs(records: Sequence[Dict[str, Any]], arm: str, base: str = "base", metric: str = "median_s",
              alternated: bool = True, shift: float = 0.0) -> List[Tuple[Tuple[int, int], float, float]]:
    """((stream, round), ln(arm / base) of the figure, seconds the pair took), per round where both are ok.
    `shift` makes B that fraction slower in every pair (ln(1 + shift) added): an exact slowdown carried by
    the A/A arm's own noise, where an injected one is only about its nominal size.
    A stream is one campaign file (`stream` in its records; 0 where absent): rounds are numbered per stream.
    A record of a pair holds its own base figures, from alternated batches (streams from 2026-11-27 on:
    pair_log_ratio, or with alternated=False the ratio of the two medians); an older record's process is
    paired with its round's `base` record, run one after the other, and the pair took both processes' time."""
    rounds: Dict[Tuple[int, int], Dict[str, Dict[str, Any]]] = {}
    for record in records:
        rounds.setdefault((record.get("stream", 0), record["round"]), {})[record["arm"]] = record
    out = []
    for r in sorted(rounds):
        b = rounds[r].get(arm)
        a = b if b and "base" in b else rounds[r].get(base)
        if not (a and b):
            continue
        first, second = (b["base"], b["reply"]) if a is b else (a["reply"], b["reply"])
        diff = pair_log_ratio(first, second, metric, alternated and a is b)
        if first.get("status") == second.get("status") == "ok" and diff is not None:
            out.append((r, diff + math.log1p(shift), b["wall_s"] if a is b else a["wall_s"] + b["wall_s"]))
    return out


def by_stream(pairs: Sequence[Tuple[Tuple[int, int], float, float]]) -> Dict[int, List[Tuple[Tuple[int, int], float, float]]]:
    """arm_pairs' pairs, each stream's apart and in round order: no comparison or chunk spans two machines."""
    out: Dict[int, List[Tuple[Tuple[int, int], float, float]]] = {}
    for pair in pairs:
        out.setdefault(pair[0][0], []).append(pair)
    return out


def replay(records: Sequence[Dict[str, Any]], arm: str, plan: Plan, base: str = "base",
           metric: str = "median_s", alternated: bool = True, shift: float = 0.0) -> Replayed:
    """Disjoint comparisons over consecutive rounds of each stream, each as the live sequential procedure
    would run: pairs are taken until a final decision (or the cap), and the next comparison starts after
    them. No comparison spans two streams (two machines)."""
    out = Replayed(arm)
    for pairs in by_stream(arm_pairs(records, arm, base, metric, alternated, shift)).values():
        start = 0
        while start + plan.looks[0] <= len(pairs):
            chunk = pairs[start:start + plan.looks[-1]]
            decision = sequential([d for _, d, _ in chunk], plan)
            used = decision.interval.n
            if not decision.final:  # the stream ended before this comparison could
                break
            out.decisions.append(dict(decision.to_dict(), minutes=sum(w for _, _, w in chunk[:used]) / 60.0,
                                      stream=chunk[0][0][0], rounds=[chunk[0][0][1], chunk[used - 1][0][1]]))
            start += used
    return out


def exclusions(records: Sequence[Dict[str, Any]], arm: str, n: int, levels: Sequence[float], base: str = "base",
               metric: str = "median_s", alternated: bool = True) -> Tuple[int, Dict[float, int]]:
    """The calibration of one look, fixed at n pairs: the stream's disjoint chunks of n consecutive pairs (no
    chunk spans two streams), and for each level p how many chunks' (1 - p) interval excludes B/A = 1. On
    the A/A arm a calibrated t-interval excludes it in a fraction p of the chunks: at p = 10% or 5% a few
    dozen chunks show whether the tails of ln B/A are as the t-interval assumes, where a 1% rate would need
    hundreds. Returns (chunks, {p: chunks excluding 1})."""
    streams = [[d for _, d, _ in pairs] for pairs in by_stream(arm_pairs(records, arm, base, metric, alternated)).values()]
    chunks = [diffs[i:i + n] for diffs in streams for i in range(0, len(diffs) - n + 1, n)]
    excluded = {p: 0 for p in levels}
    for chunk in chunks:
        for p in levels:
            interval = log_ratio_interval(chunk, 1.0 - p)
            excluded[p] += not (interval.low <= 1.0 <= interval.high)
    return len(chunks), excluded


def resample(records: Sequence[Dict[str, Any]], arm: str, plan: Plan, comparisons: int, seed: int = 0,
             base: str = "base", metric: str = "median_s", alternated: bool = True, shift: float = 0.0) -> Replayed:
    """Comparisons built by drawing pairs with replacement from every round of the stream: many more than
    the stream holds disjointly, at the price of treating its rounds as independent and identically
    distributed (drift over the campaign is mixed in, not followed)."""
    pairs = arm_pairs(records, arm, base, metric, alternated, shift)
    if not pairs:
        return Replayed(arm)
    rng = random.Random(seed)
    out = Replayed(arm)
    for _ in range(comparisons):
        chunk = [rng.choice(pairs) for _ in range(plan.looks[-1])]
        decision = sequential([d for _, d, _ in chunk], plan)
        used = decision.interval.n
        out.decisions.append(dict(decision.to_dict(), minutes=sum(w for _, _, w in chunk[:used]) / 60.0))
    return out
