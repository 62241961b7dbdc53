"""The compare session's orchestration with fake probes: interleaving, verdicts, status changes, JSON output,
the sides it accepts, the campaign's record stream and the change points' series (harness.host.compare)."""

from __future__ import annotations

import copy
import json
import math
import random
from itertools import count
from pathlib import Path

import pytest

from harness.host import abtest, campaign, compare
from harness.host.compare import PRIMARY, A, B


def fake_runs(ratio=1.0, sd=0.02, seed=0, calls=None, fail=()):
    """A pair runner whose replies are log-normal noise around 1e-5 s (B: times `ratio`), recording the
    order in which it ran the sides."""
    rng = random.Random(seed)
    calls = [] if calls is None else calls
    index = count()

    def reply(side):
        calls.append(side)
        if next(index) in fail:
            return {"status": "error", "reason": "boom"}
        factor = ratio if side == B else 1.0
        return {"status": "ok", "median_s": 1e-5 * factor * math.exp(rng.gauss(0, sd)),
                "compile_s": 2.0 * math.exp(rng.gauss(0, sd))}

    return (lambda order: {side: reply(side) for side in order}), calls


def test_pairs_come_in_balanced_blocks_of_random_orientation():
    orders = compare.pair_orders(random.Random(1))
    blocks = [(next(orders), next(orders)) for _ in range(50)]
    assert all(first == second[::-1] for first, second in blocks)  # ABBA or BAAB
    assert {first for first, _ in blocks} == {(A, B), (B, A)}


def test_a_side_compared_with_itself_is_same():
    runs, calls = fake_runs(1.0)
    out = compare.compare_speed(runs, abtest.Plan(), random.Random(0), log=lambda _: None)
    assert out["decision"]["verdict"] == abtest.SAME
    assert calls.count(A) == calls.count(B) == out["pairs"]
    json.dumps(out)  # machine-readable as it stands


def test_a_slowdown_is_slower_and_stops_early():
    runs, calls = fake_runs(1.3)
    out = compare.compare_speed(runs, abtest.Plan(), random.Random(0), log=lambda _: None)
    assert out["decision"]["verdict"] == abtest.SLOWER
    assert out["pairs"] == abtest.Plan().looks[0]
    assert out["metrics"]["compile_s"]["decision"]["verdict"] in (abtest.SAME, abtest.UNDECIDED)


def test_noise_without_change_ends_undecided_at_the_cap():
    runs, _ = fake_runs(1.0, sd=0.5, seed=3)
    out = compare.compare_speed(runs, abtest.Plan(looks=(4, 6)), random.Random(0), log=lambda _: None)
    assert out["decision"]["verdict"] == abtest.UNDECIDED and out["pairs"] == 6


def test_judged_by_sample_s_the_sampling_time_drives_the_looks():
    """--judge sample_s: a sampler 20% slower with an unchanged gradient is "slower" (and the gradient
    alone would have said "same"); the output names the metric it judged."""
    rng = random.Random(5)

    def runs(order):
        return {side: {"status": "ok", "median_s": 1e-5 * math.exp(rng.gauss(0, 0.02)),
                       "sample": {"sample_s": (1.2 if side == B else 1.0) * math.exp(rng.gauss(0, 0.05))}}
                for side in order}

    plan = abtest.Plan(looks=compare.LOOKS["sample_s"])
    out = compare.compare_speed(runs, plan, random.Random(0), [PRIMARY, "sample_s"], log=lambda _: None, judged="sample_s")
    assert out["judged"] == "sample_s" and out["decision"]["verdict"] == abtest.SLOWER
    assert out["pairs"] == plan.looks[0] and out["metrics"][PRIMARY]["decision"]["verdict"] != abtest.SLOWER
    lines = compare.render({"row": "r", "model": "m", "backend": "b", "baseline": {"label": "x", "kind": "lock"},
                            "candidate": {"label": "y", "kind": "lock"}, "speed": out})
    assert lines[1].startswith("  sample_s: B/A") and lines[1].endswith("SLOWER")
    assert lines[2].startswith(f"  {PRIMARY}: B/A")


def test_judging_sample_s_samples_and_takes_its_own_looks():
    args = compare.parse_args(["cpu-pymc5", "--baseline", "2026-06-01", "--candidate", "2026-08-01", "--judge", "sample_s"])
    assert args.sample and args.looks == list(compare.LOOKS["sample_s"])
    args = compare.parse_args(["cpu-pymc5", "--baseline", "2026-06-01", "--candidate", "2026-08-01"])
    assert not args.sample and args.looks == list(abtest.Plan().looks)
    assert compare.parse_args(["r", "--baseline", "2026-06-01", "--candidate", "2026-08-01", "--looks", "4", "6"]).looks == [4, 6]


def test_failed_probes_end_the_comparison_as_an_error():
    runs, _ = fake_runs(1.0, fail=range(100))
    out = compare.compare_speed(runs, abtest.Plan(), random.Random(0), log=lambda _: None, max_failures=2)
    assert out["decision"]["verdict"] == "error" and out["failed_pairs"] == 2


@pytest.mark.parametrize("before, after, kind", [
    ("passed", "known-failure", "status regression"), ("passed", "error", "status regression"),
    ("failed", "passed", "fixed"), ("unavailable", "failed", "status change"), ("passed", "passed", None),
])
def test_status_changes(before, after, kind):
    change = compare.status_change({"status": before}, {"status": after, "reason": "TypeError"})
    assert (change or {}).get("kind") == kind


def test_a_failure_at_the_suites_seed_stands_only_if_a_fresh_seed_fails_too():
    failed = {"status": "failed", "reason": "off the truth on two independent seeds: ..."}
    chance = compare.confirmed_status(failed, [{"status": "passed"}, {"status": "passed"}])
    assert chance["status"] == "passed" and chance["reason"] is None
    assert chance["chance_failure"].startswith("failed at the suite's seed only (fresh seeds 1: passed, 2: passed)")
    assert compare.status_change({"status": "passed"}, chance) is None  # no status regression is reported
    for fresh in ([{"status": "passed"}, {"status": "failed"}], [{"status": "did-not-mix"}, {"status": "passed"}]):
        stands = compare.confirmed_status(failed, fresh)
        assert stands["status"] == "failed" and "fresh_seeds" in stands
    assert compare.confirmed_status({"status": "error"}, []) == {"status": "error"}  # not a statistical verdict
    lines = compare.render({"row": "r", "model": "m", "backend": "b", "baseline": {"label": "2025-01-01", "kind": "date"},
                            "candidate": {"label": "2025-02-01", "kind": "date"}, "status_change": None,
                            "status": {"A": {"status": "passed"}, "B": chance}})
    assert lines[1] == "  status: unchanged (passed)" and lines[2].startswith("  status B: a chance failure: failed at")


def test_render_and_write_the_json(tmp_path):
    runs, _ = fake_runs(1.3)
    result = {"row": "cpu-pymc5", "model": "conjugate", "backend": "blackjax",
              "baseline": {"kind": "date", "value": "2026-06-01", "label": "2026-06-01"},
              "candidate": {"kind": "date", "value": "2026-08-01", "label": "2026-08-01"},
              "status": {A: {"status": "passed"}, B: {"status": "known-failure"}},
              "status_change": compare.status_change({"status": "passed"}, {"status": "known-failure", "reason": "x"}),
              "speed": compare.compare_speed(runs, abtest.Plan(), random.Random(0), log=lambda _: None),
              "attribution": {"lines": ["attribution: first bad release: blackjax 1.6.0 (last good 1.5)"]}}
    lines = compare.render(result)
    assert "status regression: passed -> known-failure" in lines[1]
    assert PRIMARY in lines[2] and "SLOWER" in lines[2]
    assert lines[-1].endswith("blackjax 1.6.0 (last good 1.5)")
    path = compare.write_result(result, tmp_path)
    assert json.loads(path.read_text())["status_change"]["after"] == "known-failure"


def test_sides_parse_dates_locks_and_results(tmp_path):
    assert compare.Side.parse("2026-06-01") == compare.Side("date", "2026-06-01")
    lock = tmp_path / "cpu-pymc5.txt"
    lock.write_text("pymc==5.0\n")
    results = tmp_path / "run.json"
    results.write_text(json.dumps({"fingerprint": {"packages": {"pymc": "5.1", "pytest": "9"},
                                                   "install": {"commit": "abc"}}}))
    assert compare.Side.parse(str(lock)).kind == "lock"
    side = compare.Side.parse(str(results))
    assert side.kind == "results" and side.label == "run"
    assert compare.results_pins(results, ["pytest"]) == {"pymc": "5.1"}
    assert compare.harness_version(side) == "commit abc"
    assert compare.harness_version(compare.Side.parse("2026-06-01")) == compare.current_measurement()
    for bad in ("2026-13-01", str(tmp_path / "missing.json")):
        with pytest.raises(ValueError):
            compare.Side.parse(bad)


def test_arguments_default_and_validate(tmp_path):
    args = compare.parse_args(["cpu-pymc5", "--baseline", "2026-06-01", "--candidate", "2026-06-01"])
    assert args.model == "conjugate" and args.backend is None and args.looks == list(abtest.Plan().looks)
    assert args.baseline_side == args.candidate_side


SERVER = """
import json, sys
print("library chatter", file=sys.stderr)
print(json.dumps({"status": "ready", "compile_s": 1.0, "warmup_median_s": 1e-5, "calls_per_batch": 10}), flush=True)
for n, line in enumerate(sys.stdin):
    request = json.loads(line)
    if request.get("inject") == 9:
        sys.exit(3)
    print("not json")
    print(json.dumps({"status": "ok", "median_s": (n + 1) * 1e-5 * (1 + request["inject"]), "mean_s": 2e-5}), flush=True)
"""


def test_a_served_probe_answers_requests_and_a_pair_alternates_its_batches(tmp_path):
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    commands = {A: ["python3", str(script)], B: ["python3", str(script)]}
    pair = compare.run_pair(commands, (B, A), batches=4, injects={B: 0.5})
    assert pair[A]["status"] == pair[B]["status"] == "ok"
    assert pair[A]["batch_medians_s"] == pytest.approx([1e-5, 2e-5, 3e-5, 4e-5])
    assert pair[B]["batch_medians_s"] == pytest.approx([1.5e-5, 3e-5, 4.5e-5, 6e-5])
    assert pair[B]["median_s"] == pytest.approx(3.75e-5) and pair[B]["inject"] == 0.5 and pair[A]["compile_s"] == 1.0
    crashed = compare.run_pair(commands, (A, B), batches=2, injects={B: 9})
    assert crashed[B]["status"] == "crashed" and "library chatter" in crashed[B]["reason"]
    assert crashed[A]["status"] == "error"
    silent = compare.ServedProbe(["python3", "-c", "import time; time.sleep(5)"])
    assert silent.reply(0.5)["status"] == "timeout"
    silent.close()
    assert compare.metric_value({"sample": {"overhead_per_step_s": 2e-6}}, "sample.overhead_per_step_s") == 2e-6
    assert compare.metric_value({"median_s": None}, "median_s") is None


def test_interleaving_alternates_the_sides_abba():
    asked = []

    class Fake:
        def __init__(self, side):
            self.side = side

        def ask(self, request, timeout_s):
            asked.append(self.side)
            return {"status": "ok"}

    compare.interleave({A: Fake(A), B: Fake(B)}, (B, A), 3, lambda side: {"op": "batch"})
    assert asked == [B, A, A, B, B, A]


def test_campaign_appends_rounds_and_continues_them(tmp_path):
    out = tmp_path / "stream.jsonl"
    seen = []

    def pair(injects):
        seen.append(list(injects))
        return {arm: {"base": {"status": "ok", "median_s": 1e-5}, "reply": {"status": "ok", "median_s": 1e-5 * (1 + f)},
                      "wall_s": 10.0} for arm, f in injects.items()}

    rng = random.Random(0)
    assert campaign.run(out, pair, [0.1, 0.5], rounds=2, minutes=None, rng=rng, log=lambda _: None) == 2
    campaign.run(out, pair, [0.1, 0.5], rounds=1, minutes=None, rng=rng, log=lambda _: None)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["round"] for r in records] == [0] * 3 + [1] * 3 + [2] * 3
    assert {r["arm"] for r in records} == {"aa", "inject-0.1", "inject-0.5"}
    assert sorted(seen[0]) == ["aa", "inject-0.1", "inject-0.5"]
    assert len(abtest.arm_pairs(records, "inject-0.5")) == 3


def test_a_campaign_stopped_by_hand_says_what_it_kept(tmp_path, monkeypatch, capsys):
    """Ctrl-C ends a long campaign with one line, not a traceback; the finished rounds stay in the stream."""
    out = tmp_path / "stream.jsonl"
    out.write_text("".join(json.dumps({"round": r, "arm": "aa"}) + "\n" for r in range(3)))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(campaign, "run", interrupted)
    assert campaign.main([str(out), "--python", "python3", "--inject", "--seed", "1"]) == 130
    assert capsys.readouterr().out.strip() == (f"campaign: stopped; {out} keeps its 3 rounds: the same command "
                                               "with another --seed extends it")


def results_file(path, as_of, value, status="passed"):
    cell = {"model": "conjugate", "backend": "pymc-c", "status": status,
            "speed": {"warm_sample_s": {"median": value, "min": value * 0.98, "max": value * 1.02, "rounds": 5},
                      "seconds_per_grad_eval": value / 1e5}}
    path.write_text(json.dumps({"row": "cpu-pymc6", "started": "x", "fingerprint": {"install": {"as_of": as_of}},
                                "cells": [cell]}))
    return path


def test_series_from_results_orders_points_and_estimates_their_noise(tmp_path):
    files = [results_file(tmp_path / f"{d}.json", f"2026-0{d}-01", 1.0 + d / 10) for d in (3, 1, 2)]
    files.append(results_file(tmp_path / "broken.json", "2026-04-01", 9.0, status="failed"))
    series = {tuple(s["key"]): s["points"] for s in compare.series_from_results(files)}
    points = series[("cpu-pymc6", "?", "conjugate", "pymc-c", "warm_sample_s")]
    assert [p["label"] for p in points] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    assert [p["side"] for p in points] == ["2026-01-01", "2026-02-01", "2026-03-01"]  # rebuilt as of its date
    assert points[0]["sd"] == pytest.approx(0.04 * 1.1 / 2.326 / math.sqrt(5))
    assert series[("cpu-pymc6", "?", "conjugate", "pymc-c", "seconds_per_grad_eval")][0]["sd"] is None


def test_a_nightly_run_without_a_date_is_compared_from_its_results_file(tmp_path):
    files = []
    for i in range(3):
        path = results_file(tmp_path / f"run{i}.json", None, 1.0)
        path.write_text(json.dumps(dict(json.loads(path.read_text()), started=f"2026-11-2{i}T02:17:00Z", tier="quick",
                                        fingerprint={})))
        files.append(path)
    (one, _) = compare.series_from_results(files)
    assert one["key"][:2] == ["cpu-pymc6", "quick"]
    assert [p["side"] for p in one["points"]] == [str(f) for f in files]


def found_series(key, n, points):
    """changepoints.analyse's output for one series: change points given as (index, step, before, after)."""
    return {"key": key, "n": n, "change_points": [
        {"index": i, "step": step, "before": before, "after": after, "before_source": before, "after_source": after}
        for i, step, before, after in points]}


def test_the_night_confirms_new_change_points_largest_first_and_not_twice():
    grad = ["cpu-pymc5", "timeline", "conjugate", "pymc-c", "seconds_per_grad_eval"]
    found = [
        found_series(grad, 10, [(2, 0.3, "2025-01-01", "2025-02-01"),  # old: confirmed (or not) on an earlier night
                                (8, 0.12, "2025-08-01", "2025-09-01")]),
        found_series(["cpu-pymc5", "timeline", "radon", "nutpie-numba", "warm_sample_s"], 10,
                     [(9, -0.25, "2025-09-01", "2025-10-01")]),
        found_series(["cpu-pymc6", "quick", "radon", "pymc-c", "seconds_per_grad_eval"], 6,
                     [(5, 0.5, "results/cpu-pymc6/a.json", "results/cpu-pymc6/b.json")]),
    ]
    candidates = compare.confirmation_candidates(found, done=[])
    assert [c["step"] for c in candidates] == [0.5, -0.25, 0.12]
    radon = candidates[1]
    assert radon["args"] == ["cpu-pymc5", "--baseline", "2025-09-01", "--candidate", "2025-10-01", "--model", "radon",
                             "--backend", "nutpie-numba", "--sample", "--attribute"]  # sample_s: with the exact counts
    assert "--attribute" not in candidates[0]["args"]  # two results files: no dates to bisect between
    done = [{"row": "cpu-pymc6", "model": "radon", "backend": "pymc-c", "candidate": {"label": "b"},
             "speed": {"decision": {"verdict": "same"}}}]
    assert [c["step"] for c in compare.confirmation_candidates(found, done)] == [-0.25, 0.12]
    assert len(compare.confirmation_candidates(found, [], limit=1)) == 1
    # numpyro's and tfp's gradient steps between the same dates are one function's (JAX autodiff): one comparison,
    # the larger step's; blackjax's sample_s is its own
    jax = [found_series(["cpu-pymc5", "timeline", "radon", backend, metric], 10, [(9, step, "2025-09-01", "2025-10-01")])
           for backend, metric, step in [("tfp", "seconds_per_grad_eval", 0.2), ("numpyro-vectorized", "seconds_per_grad_eval", 0.3),
                                         ("blackjax", "warm_sample_s", 0.1)]]
    assert [(c["args"][8], c["metric"]) for c in compare.confirmation_candidates(jax, [])] == [
        ("numpyro-vectorized", "seconds_per_grad_eval"), ("blackjax", "warm_sample_s")]


@pytest.mark.parametrize("metric, sample_s, judged", [
    ("warm_sample_s", 1.0, ["--judge", "sample_s"]),  # a short cell: sample_s itself, within 10 minutes
    ("warm_sample_s", compare.DIRECT_SAMPLE_S * 2, ["--sample"]),  # a long one: the gradient and the counts
    ("warm_sample_s", None, ["--sample"]),  # its time unknown
    ("grad_evals_per_effective_draw", 1.0, ["--sample"]), ("seconds_per_grad_eval", 1.0, []),
])
def test_a_sample_s_step_is_judged_by_sample_s_where_a_cell_is_short(metric, sample_s, judged):
    args = compare.confirm_args("cpu-pymc5", "a.json", "b.json", "conjugate", "pymc-c", metric, sample_s)
    assert args[9:] == judged
    found = [dict(found_series(["cpu-pymc5", "quick", "conjugate", "pymc-c", metric], 4, [(3, 0.2, "a.json", "b.json")]))]
    found[0]["change_points"][0]["after_value"] = sample_s
    assert compare.confirmation_candidates(found, [])[0]["args"][9:] == judged


def stored_point(date, statuses):
    """A stored timeline point of cpu-pymc5: {(model, backend): (status, cell seconds)}."""
    return (Path(f"history/cpu-pymc5/{date}.json"), {"row": "cpu-pymc5", "tier": "timeline", "timeline": {"date": date},
            "cells": [{"model": m, "backend": b, "status": st, "timings": {"cell_wall_s": t}}
                      for (m, b), (st, t) in statuses.items()]})


def test_a_replay_attributes_every_status_change_once_per_backend_and_every_change_point():
    ok = {("conjugate", "blackjax"): ("passed", 12.0), ("radon", "blackjax"): ("passed", 50.0),
          ("radon", "tfp"): ("passed", 40.0)}
    broken = {("conjugate", "blackjax"): ("known-failure", 9.0), ("radon", "blackjax"): ("known-failure", 8.0),
              ("radon", "tfp"): ("passed", 41.0)}
    loaded = [stored_point("2026-07-01", ok), stored_point("2026-06-01", ok), stored_point("2026-08-01", broken)]
    (event,) = compare.status_events(loaded)  # blackjax broke on both models at once: one event, its cheapest cell
    assert event["status"] == "passed -> known-failure"  # at both points together: conjugate 12 + 9 s, radon 50 + 8 s
    assert event["args"] == ["cpu-pymc5", "--baseline", "2026-07-01", "--candidate", "2026-08-01", "--model", "conjugate",
                             "--backend", "blackjax", "--no-speed", "--attribute"]
    old_step = found_series(["cpu-pymc5", "timeline", "radon", "tfp", "seconds_per_grad_eval"], 10,
                            [(2, 0.3, "2025-01-01", "2025-02-01")])
    everything = compare.replay_candidates([old_step], loaded, done=[])
    assert [c["metric"] for c in everything] == ["status", "seconds_per_grad_eval"]  # old steps too, unlike a night
    done = [{"row": "cpu-pymc5", "model": "conjugate", "backend": "blackjax", "baseline": {"label": "2026-07-01"},
             "candidate": {"label": "2026-08-01"}}]
    assert [c["metric"] for c in compare.replay_candidates([old_step], loaded, done)] == ["seconds_per_grad_eval"]
    # a speed comparison of numpyro-vectorized's gradient (JAX autodiff) answers for tfp's, the same function;
    # pymc-c's (PyTensor's C) and tfp's other metrics stay to confirm
    timed = {"row": "cpu-pymc5", "model": "radon", "backend": "numpyro-vectorized", "baseline": {"label": "2025-01-01"},
             "candidate": {"label": "2025-02-01"}, "speed": {"decision": {"verdict": "slower"}}}
    others = [found_series(["cpu-pymc5", "timeline", "radon", b, m], 10, [(2, 0.3, "2025-01-01", "2025-02-01")])
              for b, m in [("pymc-c", "seconds_per_grad_eval"), ("tfp", "warm_sample_s")]]
    left = compare.replay_candidates([old_step, *others], [], [timed])
    assert sorted((c["args"][8], c["metric"]) for c in left) == [("pymc-c", "seconds_per_grad_eval"), ("tfp", "warm_sample_s")]


def test_a_replay_leaves_out_the_status_changes_a_stored_comparison_explains():
    """Points stored after a comparison ran: an attribution between wider dates explains the change between
    the finer points its first bad day falls between, for its backend and another failing alike; fresh
    seeds explain a failure between passes. Every other change stays to attribute."""
    gone = "import numpyro fails as of {}: ImportError: cannot import name 'pjit_p'"
    ok, broken = ("passed", 10.0), ("unavailable", 1.0)
    def cells(vectorized, parallel, radon="passed"):
        return {("conjugate", "numpyro-vectorized"): vectorized, ("conjugate", "numpyro-parallel"): parallel,
                ("radon", "pymc-c"): (radon, 30.0)}
    loaded = [stored_point("2025-06-01", cells(ok, ok)), stored_point("2025-07-01", cells(ok, ok, radon="failed")),
              stored_point("2025-08-01", cells(broken, broken)), stored_point("2025-09-01", cells(broken, broken))]
    for _, point in loaded:
        for cell in point["cells"]:
            if cell["status"] == "unavailable":
                cell["reason"] = gone.format(point["timeline"]["date"])
    assert [(e["args"][2], e["args"][8], e["status"]) for e in compare.status_events(loaded)] == [
        ("2025-07-01", "numpyro-parallel", "passed -> unavailable"), ("2025-07-01", "numpyro-vectorized", "passed -> unavailable"),
        ("2025-06-01", "pymc-c", "passed -> failed"), ("2025-07-01", "pymc-c", "failed -> passed")]
    attributed = {"row": "cpu-pymc5", "model": "conjugate", "backend": "numpyro-vectorized", "finished": "2026-11-27T10:00:00Z",
                  "baseline": {"label": "2025-06-01"}, "candidate": {"label": "2025-09-01"},
                  "status": {"A": {"status": "passed"}, "B": {"status": "unavailable", "reason": gone.format("2025-09-01")}},
                  "status_change": {"kind": "status regression", "before": "passed", "after": "unavailable"},
                  "attribution": {"first_bad": "2025-07-22", "lines": ["attribution: first bad release: jax 0.7.0"]}}
    chance = {"row": "cpu-pymc5", "model": "radon", "backend": "pymc-c", "baseline": {"label": "2025-06-01"},
              "candidate": {"label": "2025-07-01"}, "status_change": None,
              "status": {"A": {"status": "passed"}, "B": {"status": "passed", "chance_failure": "failed at the suite's seed only"}}}
    assert [(e["args"][8], e["status"]) for e in compare.replay_candidates([], loaded, [attributed])] == [
        ("pymc-c", "passed -> failed"), ("pymc-c", "failed -> passed")]  # both numpyro backends: jax 0.7.0
    assert compare.replay_candidates([], loaded, [attributed, chance]) == []
    elsewhere = dict(attributed, attribution={"first_bad": "2025-08-22", "lines": attributed["attribution"]["lines"]})
    assert len(compare.replay_candidates([], loaded, [elsewhere, chance])) == 2  # its first bad day is not between them
    otherwise = copy.deepcopy(attributed)
    otherwise["status"]["B"]["reason"] = "import numpyro fails as of 2025-09-01: ImportError: cannot import name 'xla_pmap_p'"
    assert [e["args"][8] for e in compare.replay_candidates([], loaded, [otherwise, chance])] == ["numpyro-parallel"]
    # a failure fresh seeds found to be chance counts as a pass: available -> failed by chance is the same
    # change as the attributed passed -> unavailable, turned round (the cell came back, as numpyro-parallel's)
    later = stored_point("2025-10-01", cells(ok, ("failed", 20.0)))
    lucky = dict(chance, model="conjugate", backend="numpyro-parallel", baseline={"label": "2025-09-01"},
                 candidate={"label": "2025-10-01"})
    fixed = dict(attributed, baseline={"label": "2025-09-01"}, candidate={"label": "2025-10-01"},
                 status={"A": attributed["status"]["B"], "B": {"status": "passed"}},
                 status_change={"kind": "fixed", "before": "unavailable", "after": "passed"},
                 attribution={"first_bad": "2025-09-20", "lines": ["attribution: first bad release: numpyro 0.19.0"]})
    assert [e["args"][8] for e in compare.replay_candidates([], [*loaded, later], [attributed, chance, fixed])] == \
        ["numpyro-parallel"]  # unavailable -> failed, not yet known to be chance
    assert compare.replay_candidates([], [*loaded, later], [attributed, chance, fixed, lucky]) == []
    # a failure at the point after a chance failure is a change to check, though both points "failed"
    runs = [stored_point(date, {("radon", "pymc-c"): (status, 30.0)})
            for date, status in [("2025-06-01", "passed"), ("2025-07-01", "failed"), ("2025-08-01", "failed")]]
    assert [e["args"][2] for e in compare.replay_candidates([], runs, [])] == ["2025-06-01"]
    assert [(e["args"][2], e["status"]) for e in compare.replay_candidates([], runs, [chance])] == \
        [("2025-07-01", "passed -> failed")]


def test_changepoints_command_line_takes_an_alpha_and_paths():
    args = compare.changepoint_args(["--alpha", "0.001", "results", "history"])
    assert args.alpha == 0.001 and args.paths == ["results", "history"] and not args.replay
    assert compare.changepoint_args([]).alpha is None and compare.changepoint_args(["--replay"]).replay


def test_a_probe_is_judged_by_passing_where_one_end_passed_and_by_its_status_between_two_breaks():
    from harness.host.bisection import FAIL, PASS, SKIP

    def verdict(status, good, bad, reason=None):
        return compare.status_verdict({"status": status, "reason": reason}, good, bad)

    # a recovery (unavailable -> passed): a probe broken another way is still like the broken end
    assert verdict("error", "unavailable", "passed") == PASS and verdict("passed", "unavailable", "passed") == FAIL
    # a break (passed -> known-failure)
    assert verdict("passed", "passed", "known-failure") == PASS and verdict("error", "passed", "known-failure") == FAIL
    # between two broken statuses, only a match tells
    assert verdict("failed", "failed", "error") == PASS and verdict("error", "failed", "error") == FAIL
    assert verdict("timeout", "failed", "error") == SKIP
    assert verdict("unavailable", "passed", "failed", reason="the install failed: no solution") == SKIP


def test_a_comparison_answers_only_the_steps_of_what_it_measured():
    """A gradient comparison answers the cell's gradient step, not its counts or sample_s steps between the
    same dates (it never sampled): the counts step is left, with `--sample`; that answers all three;
    `--no-speed` none."""
    sizes = {"seconds_per_grad_eval": 0.3, "grad_evals_per_effective_draw": 0.2, "warm_sample_s": 0.1}
    steps = [found_series(["cpu-pymc6", "timeline", "radon", "pymc-numba", metric], 10,
                          [(9, step, "2026-07-01", "2026-08-01")]) for metric, step in sizes.items()]
    cell = {"row": "cpu-pymc6", "model": "radon", "backend": "pymc-numba", "candidate": {"label": "2026-08-01"}}
    gradient = dict(cell, speed={"judged": "seconds_per_grad_eval", "decision": {"verdict": "faster"}})
    sampled = dict(gradient, counts={"A": {}, "B": {}})
    status_only = dict(cell, status_change=None)

    def left(done):  # one comparison a cell and pair of dates: its largest step left to answer
        return [(c["metric"], "--sample" in c["args"]) for c in compare.confirmation_candidates(steps, done)]

    assert left([gradient]) == [("grad_evals_per_effective_draw", True)]
    assert left([sampled]) == []
    assert left([status_only]) == [("seconds_per_grad_eval", False)]


def test_an_attribution_probe_is_judged_against_half_the_confirmed_change():
    """A probe asks which end it is like: within half the change (in log terms) it is like A."""
    assert compare.probe_margin(0.311, 0.05) == pytest.approx(0.793, abs=1e-3)  # jax 0.4.34's speed-up
    assert compare.probe_margin(21.3, 0.05) == pytest.approx(math.sqrt(21.3) - 1)  # jax 0.4.33's slowdown
    assert compare.probe_margin(1.08, 0.05) == 0.05  # a small change: the comparison's own margin
    plan = abtest.Plan(margin=compare.probe_margin(0.311, 0.05))
    unchanged = [0.08, -0.07, 0.05, -0.06, 0.02]  # a noisy side (+-8%) that did not move
    assert abtest.judge(unchanged, plan, 0).verdict == abtest.SAME
    assert abtest.judge(unchanged, abtest.Plan(), 0).verdict == abtest.UNDECIDED


def test_an_attribution_removes_each_probe_environment_once_its_verdict_is_in(monkeypatch, tmp_path):
    """Ten attributions that kept every probe's environment (about 1 GB each) filled a disk: each probe's
    folder goes once its verdict is recorded, whether the probe passed or its build failed; the sides stay."""
    from types import SimpleNamespace

    from harness.host import attribution, bisection

    monkeypatch.setattr(compare, "WORKDIR", tmp_path)
    built = []

    def build_side(session, row, side, suite, recording, folder, pins=None, date=None):
        folder.mkdir(parents=True)
        (folder / "bin").mkdir()
        built.append(folder.name)
        if pins and "broken" in pins[0]:
            raise RuntimeError("the install died")
        return str(folder / "bin" / "python"), {}, {}

    monkeypatch.setattr(compare, "build_side", build_side)
    monkeypatch.setattr(compare, "run_status", lambda *a, **k: {"status": "passed"})
    monkeypatch.setattr(attribution, "compile_as_of", lambda requirements, day, *a: {requirements[0]: "1.0"})
    verdicts = []

    def attribute(good, bad, requirements, packages, resolve, probe_day, probe_set, **kwargs):
        verdicts.append(probe_day("2026-07-09"))
        verdicts.append(probe_set("blackjax", ["blackjax"], "2026-07-10"))
        with pytest.raises(RuntimeError):
            probe_set("broken", ["broken"], "2026-07-10")
        return attribution.Attribution()

    monkeypatch.setattr(attribution, "attribute", attribute)
    side = tmp_path / "cpu-pymc5" / "A-2026-06-01"
    side.mkdir(parents=True)
    row = SimpleNamespace(id="cpu-pymc5", python="3.12", find_links=[], index_url=None, dated_requirements=[],
                          packages=[])
    result = {"status": {A: {"status": "passed"}, B: {"status": "known-failure"}}}
    sides = {A: compare.Side("date", "2026-06-01"), B: compare.Side("date", "2026-08-01")}
    args = SimpleNamespace(model="conjugate", backend="blackjax")
    compare.attribute_dates(SimpleNamespace(log=lambda *a: None), None, row, args, sides, {}, result, [], [], True)
    assert verdicts == [bisection.PASS, bisection.PASS]
    assert built == ["day-2026-07-09", "advance-blackjax-2026-07-10", "advance-broken-2026-07-10"]
    assert sorted(p.name for p in (tmp_path / "cpu-pymc5").iterdir()) == ["A-2026-06-01"]
