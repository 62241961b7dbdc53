"""The A/B statistics: stdlib quantiles, interval coverage, verdict rules, and sequential looks that keep
their false-alarm level (harness.host.abtest)."""

from __future__ import annotations

import json
import math
import random

import pytest

from harness.host import abtest
from harness.host.abtest import FASTER, SAME, SLOWER, UNDECIDED, Plan

# reference values from scipy.stats (t.ppf, beta.ppf)
T_QUANTILES = [(0.995, 2, 9.924843200918287), (0.995, 5, 4.032142983555228), (0.975, 17, 2.1098155778331806),
               (0.9, 1, 3.077683537175253)]


@pytest.mark.parametrize("p, df, expected", T_QUANTILES)
def test_t_quantiles_match_scipy(p, df, expected):
    assert abtest.t_ppf(p, df) == pytest.approx(expected, rel=1e-9)
    assert abtest.t_ppf(1 - p, df) == pytest.approx(-expected, rel=1e-9)


def test_clopper_pearson_matches_scipy():
    assert abtest.clopper_pearson_upper(0, 300) == pytest.approx(0.009936081944457708, rel=1e-8)
    low, high = abtest.clopper_pearson(3, 300)
    assert (low, high) == (pytest.approx(0.0020670072350923163, rel=1e-7), pytest.approx(0.028944511255692605, rel=1e-7))


def synthetic_diffs(rng, n, ratio=1.0, sd=0.05):
    """Log differences of pairs of log-normal process figures whose true ratio is `ratio`."""
    return [math.log(ratio) + rng.gauss(0, sd) - rng.gauss(0, sd) for _ in range(n)]


@pytest.mark.parametrize("n, level", [(6, 0.9), (12, 0.99)])
def test_interval_covers_the_true_ratio_at_its_level(n, level):
    rng = random.Random(11)
    trials, covered = 2000, 0
    for _ in range(trials):
        iv = abtest.log_ratio_interval(synthetic_diffs(rng, n, ratio=1.1), level)
        covered += iv.low <= 1.1 <= iv.high
    sd = math.sqrt(level * (1 - level) / trials)
    assert abs(covered / trials - level) < 4 * sd


def test_spending_adds_up_to_alpha_and_grows():
    plan = Plan(looks=(6, 10, 14, 18), alpha=0.01, spending="obrien-fleming")
    levels = [plan.alpha_at(k) for k in range(4)]
    assert sum(levels) == pytest.approx(0.01)
    assert levels == sorted(levels)  # O'Brien-Fleming: little early, most at the end
    pocock = Plan(looks=(6, 10, 14, 18), alpha=0.01, spending="pocock")
    early = [pocock.alpha_at(k) for k in range(4)]
    assert sum(early) == pytest.approx(0.01) and early[0] > levels[0] * 100


def test_plan_rejects_bad_looks():
    with pytest.raises(ValueError):
        Plan(looks=(10, 6))
    with pytest.raises(ValueError):
        Plan(looks=(2, 6))


@pytest.mark.parametrize("ratio, sd, verdict", [
    (1.0, 0.01, SAME), (1.2, 0.01, SLOWER), (0.8, 0.01, FASTER), (1.0, 0.5, UNDECIDED), (1.03, 0.005, SAME),
])
def test_verdict_rules(ratio, sd, verdict):
    rng = random.Random(5)
    decision = abtest.sequential(synthetic_diffs(rng, 18, ratio, sd), Plan(looks=(6, 10, 14, 18)))
    assert decision.verdict == verdict
    assert decision.final


def test_undecided_is_final_only_at_the_last_look():
    rng = random.Random(3)
    diffs = synthetic_diffs(rng, 10, 1.0, 0.5)
    assert not abtest.sequential(diffs, Plan(looks=(6, 10, 14))).final
    assert abtest.sequential(diffs[:10], Plan(looks=(6, 10))).final


def false_alarms(plan, trials, rng, sd=0.05, naive=False):
    count = 0
    for _ in range(trials):
        diffs = synthetic_diffs(rng, plan.looks[-1], 1.0, sd)
        if naive:  # every look at the full alpha: what the spending prevents
            count += any(not (iv.low <= 1 <= iv.high) for iv in
                         (abtest.log_ratio_interval(diffs[:n], 1 - plan.alpha) for n in plan.looks))
        else:
            count += abtest.sequential(diffs, plan).verdict in (SLOWER, FASTER)
    return count / trials


@pytest.mark.parametrize("spending", ["obrien-fleming", "pocock"])
def test_sequential_looks_keep_the_false_alarm_rate(spending):
    plan = Plan(looks=(6, 10, 14, 18), alpha=0.05, margin=0.0001, spending=spending)  # no "same" exit
    spent = false_alarms(plan, 2000, random.Random(1))
    naive = false_alarms(plan, 2000, random.Random(1), naive=True)
    assert spent <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 2000)
    assert naive > spent  # looking four times at the full level inflates it


def test_ten_percent_slowdown_found_with_the_default_plan_at_the_measured_noise():
    rng = random.Random(2)  # per-process sd 0.02 (d: 0.028, as the campaign measured)
    trials = 500
    runs = [abtest.sequential(synthetic_diffs(rng, 12, 1.1, 0.02), Plan()) for _ in range(trials)]
    assert sum(d.verdict == SLOWER for d in runs) / trials >= 0.9
    assert sum(d.interval.n == 5 for d in runs) / trials >= 0.8  # most decided at the first look


def test_same_for_no_change_at_the_measured_noise():
    rng = random.Random(6)
    runs = [abtest.sequential(synthetic_diffs(rng, 12, 1.0, 0.02), Plan()) for _ in range(500)]
    assert sum(d.verdict == SAME for d in runs) / 500 >= 0.95


def test_summarize_uses_the_last_looks_level():
    pairs = [(1.0, 1.5 + 0.01 * i) for i in range(8)]
    summary = abtest.summarize("compile_s", pairs, Plan())
    assert summary.decision["verdict"] == SLOWER
    assert summary.decision["interval"]["level"] == pytest.approx(1 - Plan().alpha_at(len(Plan().looks) - 1))


def stream(rounds, ratio, rng, sd=0.03, arm="inject-0.1"):
    records = []
    for r in range(rounds):
        base = math.exp(rng.gauss(0, sd))
        for name, value in (("base", base), (arm, base * ratio * math.exp(rng.gauss(0, sd)))):
            records.append({"round": r, "arm": name, "wall_s": 20.0, "reply": {"status": "ok", "median_s": value}})
    return records


def test_replay_makes_disjoint_comparisons_in_round_order():
    replayed = abtest.replay(stream(60, 1.1, random.Random(4)), "inject-0.1", Plan())
    assert replayed.decisions and all(d["verdict"] == SLOWER for d in replayed.decisions)
    spans = [d["rounds"] for d in replayed.decisions]
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:]))
    assert replayed.decisions[0]["minutes"] == pytest.approx(replayed.decisions[0]["pairs"] * 40 / 60)


def test_exclusions_of_a_null_stream_come_at_their_levels_and_a_real_change_is_excluded_everywhere():
    """abtest.exclusions, the A/A calibration table: with no change, a t-interval at level 1 - p excludes
    B/A = 1 in about a fraction p of the disjoint chunks (2000 chunks: p = 10% +- 2%); with a 20% change, in
    every chunk; chunks never span two streams."""
    null = stream(10000, 1.0, random.Random(8), arm="aa")
    chunks, excluded = abtest.exclusions(null, "aa", 5, (0.10, 0.01))
    assert chunks == 2000 and 0.08 < excluded[0.10] / chunks < 0.12 and excluded[0.01] / chunks < 0.02
    changed = stream(50, 1.2, random.Random(9), arm="aa")
    assert abtest.exclusions(changed, "aa", 5, (0.10,)) == (10, {0.10: 10})
    two = stream(7, 1.0, random.Random(10), arm="aa") + [dict(r, stream=1) for r in stream(7, 1.0, random.Random(11), arm="aa")]
    assert abtest.exclusions(two, "aa", 5, (0.10,))[0] == 2  # 7 + 7 pairs: one chunk each, not two from 14


def test_replay_keeps_each_stream_apart():
    """Two campaign files (two machines) both number their rounds from 0: neither overwrites the other, and
    no comparison takes pairs from both."""
    one, two = stream(10, 1.1, random.Random(5)), stream(10, 1.1, random.Random(6))
    records = one + [dict(r, stream=1) for r in two]
    assert len(abtest.arm_pairs(records, "inject-0.1")) == 20
    replayed = abtest.replay(records, "inject-0.1", Plan())
    assert {d["stream"] for d in replayed.decisions} == {0, 1}
    assert all(d["rounds"][1] - d["rounds"][0] + 1 == d["pairs"] for d in replayed.decisions)


def test_a_stream_of_pairs_holds_each_arms_base_and_judges_any_figure():
    """Streams from 2026-11-27 on: each arm's record holds the base process's figures beside its own, taken
    from alternated batches of one pair, and the pair's wall time once."""
    rng = random.Random(7)
    records = []
    for r in range(12):
        for arm, ratio in (("aa", 1.0), ("inject-0.2", 1.2)):
            base = math.exp(rng.gauss(0, 0.02))
            records.append({"round": r, "arm": arm, "wall_s": 30.0,
                            "base": {"status": "ok", "median_s": 1e-5, "sample": {"sample_s": base}},
                            "reply": {"status": "ok", "median_s": 1e-5, "sample": {"sample_s": base * ratio}}})
    pairs = abtest.arm_pairs(records, "inject-0.2", metric="sample.sample_s")
    assert len(pairs) == 12 and all(d == pytest.approx(math.log(1.2)) and wall == 30.0 for _, d, wall in pairs)
    assert all(d["verdict"] == SLOWER for d in abtest.replay(records, "inject-0.2", Plan(), metric="sample.sample_s").decisions)
    assert all(d["verdict"] == SAME for d in abtest.replay(records, "aa", Plan(), metric="sample.sample_s").decisions)
    assert abtest.arm_pairs(records, "aa", metric="no.such") == []


def test_a_pair_of_alternated_batches_is_judged_batch_by_batch():
    """The machine jumps between two speeds: both sides' batches follow it, side by side. A's batches met the
    slow level 6 times in 10, B's 4: their medians differ by 40%, their batches not at all."""
    levels = [28e-6, 50e-6, 50e-6, 28e-6, 50e-6, 50e-6, 28e-6, 50e-6, 28e-6, 50e-6]
    a = {"median_s": 50e-6, "batch_medians_s": levels}
    b = {"median_s": 28e-6 * 1.1, "batch_medians_s": [v * 1.1 for v in levels]}
    assert abtest.pair_log_ratio(a, b, "median_s") == pytest.approx(math.log(1.1))
    assert abtest.pair_log_ratio(a, b, "median_s", alternated=False) == pytest.approx(math.log(28 * 1.1 / 50))
    assert abtest.pair_log_ratio({"compile_s": 2.0}, {"compile_s": 3.0}, "compile_s") == pytest.approx(math.log(1.5))
    assert abtest.pair_log_ratio({"median_s": 1e-5}, {"status": "error"}, "median_s") is None


def test_resample_counts_verdicts():
    resampled = abtest.resample(stream(20, 1.0, random.Random(4)), "inject-0.1", Plan(), 50, seed=1)
    counts = resampled.counts()
    assert sum(counts.values()) == 50 and counts[SLOWER] + counts[FASTER] <= 2


def test_campaign_analyses_several_streams_as_the_detector_workflow_does(tmp_path, capsys):
    """.github/workflows/detector-campaign.yml's tally: one file per job, read together."""
    from harness.host import campaign

    streams = [stream(12, 1.1, random.Random(10 + i)) for i in range(2)]
    for i, records in enumerate(streams):
        (tmp_path / f"stream-{i}.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert campaign.main([str(tmp_path / "stream-0.jsonl"), str(tmp_path / "stream-1.jsonl"), "--analyse",
                          "--resample", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 stream(s), 48 records")
    [row] = [line for line in out.splitlines() if line.startswith("| inject-0.1 | disjoint")]
    apart = sum(len(abtest.replay(records, "inject-0.1", Plan()).decisions) for records in streams)
    assert int(row.split("|")[3]) == apart >= 2  # each stream's comparisons, none across the two


def test_a_shifted_aa_arm_is_an_exact_slowdown_with_the_aa_noise(tmp_path, capsys):
    """--shift 0.2: the A/A pairs with B exactly 20% slower; judged as an arm of its own ("aa+20%"), whose
    "slower" is power, where the A/A arm's own row still counts false alarms."""
    from harness.host import campaign

    records = stream(40, 1.0, random.Random(12), arm="aa")
    plain, shifted = abtest.arm_pairs(records, "aa"), abtest.arm_pairs(records, "aa", shift=0.2)
    assert [d + math.log(1.2) for _, d, _ in plain] == pytest.approx([d for _, d, _ in shifted])
    assert all(d["verdict"] == SLOWER for d in abtest.replay(records, "aa", Plan(), shift=0.2).decisions)
    (tmp_path / "aa.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert campaign.main([str(tmp_path / "aa.jsonl"), "--analyse", "--resample", "0", "--shift", "0.2"]) == 0
    rows = {line.split("|")[1].strip(): line.split("|") for line in capsys.readouterr().out.splitlines()
            if "| disjoint |" in line}
    assert rows["aa"][4].strip() == "0" and rows["aa"][8].strip().startswith("0 (upper")
    assert int(rows["aa+20%"][4]) == int(rows["aa+20%"][3]) > 0  # every comparison "slower"
