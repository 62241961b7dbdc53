"""The report and regression check over results files (harness/host/report/)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from harness.common.schema import SCHEMA
from harness.host.report import (
    CANDIDATE,
    CHANCE_FAILURE,
    KNOWN_FAILURE_PASSES,
    SLOWDOWN,
    STATUS_REGRESSION,
    SpeedEvidence,
    compare,
    ess_per_second,
    load_results,
    main,
    speed_up,
    write_report,
)

FIXTURES = Path(__file__).parent / "fixtures"
REAL_RUN = FIXTURES / "report_cpu-pymc6_quick.json"  # a trimmed results file of a real cpu-pymc6 run
DEFAULT_PACKAGES = {"pymc": "6.4.0", "nutpie": "0.16.11"}
ALL_STATUSES = ("passed", "failed", "error", "crashed", "timeout", "known-failure", "not-applicable",
                "unavailable", "device-missing")


def make_cell(model="conjugate", backend="pymc-c", status="passed", sample_s=2.0, ess_per_s=500.0,
              reason=None, **extra):
    cell = {"model": model, "backend": backend, "status": status,
            "reason": reason if status == "passed" else reason or f"{backend} {status} on {model}"}
    if status in ("passed", "failed"):
        cell.update(timings={"compile_s": 1.0, "sample_s": sample_s}, ess_per_s=ess_per_s, divergences=0)
    cell.update(extra)
    return cell


def make_run(cells, row="cpu-pymc6", started="2026-01-01T00:00:00Z", packages=None, complete=True, tier="quick",
             baseline="nutpie-numba"):
    return {
        "schema": SCHEMA, "session": f"session-of-{row}", "row": row, "baseline": baseline, "tier": tier,
        "tier_settings": {"name": tier}, "started": started, "finished": started if complete else None,
        "complete": complete,
        "fingerprint": {"python": "3.12.1", "packages": DEFAULT_PACKAGES if packages is None else packages},
        "cells": cells,
    }


def write(folder: Path, name: str, payload) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    return path


def report_text(tmp_path, *paths) -> tuple[str, str]:
    assert main([*map(str, paths), "--out", str(tmp_path / "reports"), "--run-id", "r"]) == 0
    folder = tmp_path / "reports" / "r"
    return (folder / "report.md").read_text(encoding="utf-8"), (folder / "report.html").read_text(encoding="utf-8")


def baseline_and_candidate(tmp_path, edit):
    """The real run as baseline, and a copy of it changed by edit(cells) as candidate."""
    data = json.loads(REAL_RUN.read_text())
    changed = copy.deepcopy(data)
    edit({cell["backend"]: cell for cell in changed["cells"]})
    return write(tmp_path, "a.json", data), write(tmp_path, "b.json", changed)


# -------------------------------------------------------------------------------------------- loading


def test_unusable_files_are_skipped_by_name_and_reason(tmp_path, capsys):
    good = write(tmp_path, "results/cpu-pymc6/good.json", make_run([make_cell()]))
    bad = {
        "truncated.json": (FIXTURES / "report_truncated.json").read_text(),
        "empty.json": "",
        "noschema.json": {k: v for k, v in make_run([make_cell()]).items() if k != "schema"},
        "oldschema.json": dict(make_run([make_cell()]), schema="pymc-matrix-results/0"),
        "nocells.json": {k: v for k, v in make_run([make_cell()]).items() if k != "cells"},
        "nostatus.json": make_run([{"model": "conjugate", "backend": "pymc-c"}]),
        "list.json": [1, 2],
    }
    for name, payload in bad.items():
        write(tmp_path, f"results/cpu-pymc6/{name}", payload)
    missing = tmp_path / "nowhere.json"

    runs, skipped = load_results([tmp_path / "results", missing])
    assert [run.path for run in runs] == [good]
    why = {path.name: reason for path, reason in skipped}
    assert set(why) == set(bad) | {"nowhere.json"}
    assert "invalid JSON" in why["truncated.json"] and "invalid JSON" in why["empty.json"]
    assert "schema" in why["noschema.json"] and "pymc-matrix-results/0" in why["oldschema.json"]
    assert "cells" in why["nocells.json"] and "status" in why["nostatus.json"]
    assert "no such file" in why["nowhere.json"]

    md, _ = report_text(tmp_path, tmp_path / "results", missing)
    printed = capsys.readouterr().out
    for name in why:
        assert re.search(rf"^skipped .*{re.escape(name)}: ", printed, re.M), name
        assert name in md


def test_partial_run_is_reported_with_a_note(tmp_path, capsys):
    partial = write(tmp_path, "partial.json", make_run([make_cell(status="passed")], complete=False))
    md, html = report_text(tmp_path, partial)
    assert f"partial {partial}" in capsys.readouterr().out
    assert "partial" in md and str(partial) in md and "passed" in md
    assert "partial" in html


def test_a_newer_partial_run_does_not_hide_the_last_complete_matrix(tmp_path):
    complete = make_run([make_cell(backend=b) for b in ("pymc-c", "nutpie-numba")])
    partial = make_run([make_cell(backend="pymc-c", status="timeout")], started="2026-01-02T00:00:00Z",
                       complete=False)
    folder = tmp_path / "results"
    write(folder, "complete.json", complete)
    write(folder, "partial.json", partial)
    md, _ = report_text(tmp_path, folder)
    matrix = section(md, "Compatibility matrix")
    assert "2026-01-01T00:00:00Z" in matrix and "timeout" not in matrix
    assert "partial.json" in section(md, "Rows")


# --------------------------------------------------------------------------------------------- matrix


def section(md: str, title: str) -> str:
    return md.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_matrix_shows_every_cell_status_and_reasons(tmp_path):
    cells = [make_cell(model=f"m{i}", backend="pymc-c", status=status) for i, status in enumerate(ALL_STATUSES)]
    md, html = report_text(tmp_path, write(tmp_path, "run.json", make_run(cells)))
    matrix = section(md, "Compatibility matrix")
    for cell in cells:
        assert cell["status"] in matrix
        if cell["status"] != "passed":
            assert re.search(rf"^\[\^\d+\]: {cell['status']}: {re.escape(cell['reason'])}$", matrix, re.M)
            assert f'title="{cell["status"]}: {cell["reason"]}"' in html


def test_ess_per_second_falls_back_to_params_for_older_files():
    runs, skipped = load_results([REAL_RUN])
    assert not skipped
    cell = runs[0].cells[("conjugate", "pymc-c")]
    assert "ess_per_s" not in cell
    expected = min(p["ess_bulk"] for p in cell["params"].values()) / cell["timings"]["sample_s"]
    assert ess_per_second(cell) == pytest.approx(expected)
    assert ess_per_second(make_cell(ess_per_s=None)) is None
    assert ess_per_second(runs[0].cells[("conjugate", "blackjax")]) is None


@pytest.mark.parametrize("row, packages, default", [
    ("cpu-pymc6", {"pymc": "6.4.0"}, "nutpie-numba"),
    ("cpu-pymc5", {"pymc": "5.28.5"}, "pymc-c"),
    ("legacy", {"pymc3": "3.11.2"}, "pymc3-nuts"),
    ("cuda-pymc5", {"numpy": "2.5.5"}, "pymc-c"),  # never installed (no GPU): the file still names the baseline
    ("custom", {"pymc": "5.1.0"}, "numpyro-parallel"),  # the row's key decides, not its packages or id
])
def test_speed_up_is_against_the_rows_baseline_backend(tmp_path, row, packages, default):
    backends = ["pymc3-nuts", "pymc-c", "nutpie-numba", "numpyro-parallel", "tfp"]
    cells = [make_cell(backend=b, ess_per_s=100.0 * (i + 1)) for i, b in enumerate(backends)]
    runs, _ = load_results([write(tmp_path, "run.json", make_run(cells, row=row, packages=packages, baseline=default))])
    run = runs[0]
    assert run.baseline == default
    default_rate = run.cells[("conjugate", default)]["ess_per_s"]
    tfp = run.cells[("conjugate", "tfp")]
    assert speed_up(run, tfp) == pytest.approx(500.0 / default_rate)
    md, _ = report_text(tmp_path, run.path)
    assert f"{500.0 / default_rate:.2f}x" in section(md, "Compatibility matrix")


def test_no_speed_up_where_the_file_names_no_baseline(tmp_path):
    cells = [make_cell(backend="nutpie-numba"), make_cell(backend="pymc-c")]
    runs, _ = load_results([write(tmp_path, "run.json", make_run(cells, baseline=None))])
    assert speed_up(runs[0], runs[0].cells[("conjugate", "pymc-c")]) is None


def test_no_speed_up_against_a_default_that_did_not_pass(tmp_path):
    cells = [make_cell(backend="nutpie-numba", status="failed"), make_cell(backend="pymc-c")]
    runs, _ = load_results([write(tmp_path, "run.json", make_run(cells))])
    assert speed_up(runs[0], runs[0].cells[("conjugate", "pymc-c")]) is None


# -------------------------------------------------------------------------------------------- compare


def test_two_runs_timings_alone_flag_nothing(tmp_path, capsys):
    """Unchanged code on a shared machine differs by up to 44% between two runs: a doubled sample_s is no
    finding until a change point or an A/B comparison says so. The old --threshold is gone."""
    def slow_down(cells):
        cells["pymc-c"]["timings"]["sample_s"] *= 2
        cells["pymc-c"]["ess_per_s"] = ess_per_second(cells["pymc-c"])

    a, b = baseline_and_candidate(tmp_path, slow_down)
    assert main(["--baseline", str(a), "--candidate", str(b), "--evidence", str(tmp_path / "none"),
                 "--fail-on-regression"]) == 0
    assert "nothing flagged" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--baseline", str(a), "--candidate", str(b), "--threshold", "0.5"])


def comparison_result(candidate_label, verdict, ratio=1.12, backend="pymc-c", attribution=None):
    """What nox -s compare writes (harness/host/compare.py), trimmed to what the report reads."""
    return {"row": "cpu-pymc6", "model": "conjugate", "backend": backend, "started": "2026-01-03T00:00:00Z",
            "finished": "2026-01-03T00:10:00Z",
            "baseline": {"kind": "date", "value": "2026-01-01", "label": "2026-01-01"},
            "candidate": {"kind": "results", "value": f"/x/{candidate_label}.json", "label": candidate_label},
            "speed": {"decision": {"verdict": verdict, "pairs": 5,
                                   "interval": {"ratio": ratio, "low": ratio - 0.05, "high": ratio + 0.05, "level": 0.99}}},
            **({"attribution": {"lines": attribution}} if attribution else {})}


@pytest.mark.parametrize("verdict, kind", [("slower", SLOWDOWN), ("same", None), ("undecided", None)])
def test_a_slowdown_is_a_regression_only_once_an_ab_comparison_confirmed_it(tmp_path, capsys, verdict, kind):
    a, b = baseline_and_candidate(tmp_path, lambda cells: None)
    write(tmp_path, "compare/one.json", comparison_result(b.stem, verdict,
                                                          attribution=["first bad release: jax 0.8 (last good 0.7)"]))
    runs = load_results([a])[0] + load_results([b])[0]
    evidence = SpeedEvidence(comparisons=(comparison_result(b.stem, verdict, attribution=["first bad release: jax 0.8"]),))
    assert [f.kind for f in compare(*runs, evidence)] == ([kind] if kind else [])
    code = main(["--baseline", str(a), "--candidate", str(b), "--evidence", str(tmp_path / "compare"),
                 "--fail-on-regression"])
    out = capsys.readouterr().out
    assert code == (1 if kind else 0)
    if kind:
        assert "cpu-pymc6 conjugate pymc-c: seconds_per_grad_eval slower, confirmed: B/A 1.120 [1.070, 1.170]" in out
        assert "first bad release: jax 0.8 (last good 0.7)" in out


def test_a_comparison_of_another_run_says_nothing_about_this_one(tmp_path):
    a, b = baseline_and_candidate(tmp_path, lambda cells: None)
    runs = load_results([a])[0] + load_results([b])[0]
    assert compare(*runs, SpeedEvidence(comparisons=(comparison_result("another-run", "slower"),))) == []


def test_a_change_point_at_the_run_is_a_candidate_with_the_command_that_confirms_it(tmp_path):
    a, b = baseline_and_candidate(tmp_path, lambda cells: None)
    runs = load_results([a])[0] + load_results([b])[0]
    candidate = runs[1]
    series = {"key": ["cpu-pymc6", candidate.tier, "conjugate", "pymc-c", "seconds_per_grad_eval"],
              "change_points": [{"index": 5, "step": 0.14, "before": "2026-01-01T00:00:00Z",
                                 "after": candidate.started, "before_source": str(a), "after_source": str(b)}]}
    [finding] = compare(*runs, SpeedEvidence(change_points=(series,)))
    assert finding.kind == CANDIDATE and not finding.is_regression
    assert "seconds_per_grad_eval +14%" in finding.what
    assert f"nox -s compare -- cpu-pymc6 --baseline {a} --candidate {b} --model conjugate --backend pymc-c" in finding.what
    other_tier = dict(series, key=["cpu-pymc6", "full"] + series["key"][2:])
    assert compare(*runs, SpeedEvidence(change_points=(other_tier,))) == []


def test_identical_runs_flag_nothing(tmp_path, capsys):
    a, b = baseline_and_candidate(tmp_path, lambda cells: None)
    assert main(["--baseline", str(a), "--candidate", str(b), "--fail-on-regression"]) == 0
    assert "nothing flagged" in capsys.readouterr().out
    runs, _ = load_results([a, b])
    assert compare(*runs) == []


def test_passed_cell_that_fails_is_a_regression(tmp_path, capsys):
    def break_it(cells):
        cells["nutpie-numba"].update(status="failed", reason="mean off the truth: lam (z=9.1)")

    a, b = baseline_and_candidate(tmp_path, break_it)
    baseline, candidate = load_results([a])[0] + load_results([b])[0]
    [finding] = compare(baseline, candidate)
    assert (finding.kind, finding.backend, finding.is_regression) == (STATUS_REGRESSION, "nutpie-numba", True)
    assert main(["--baseline", str(a), "--candidate", str(b), "--fail-on-regression"]) == 1
    assert "cpu-pymc6 conjugate nutpie-numba: passed -> failed: mean off the truth" in capsys.readouterr().out


def test_a_failure_that_fresh_seeds_passed_is_a_chance_failure_not_a_regression(tmp_path):
    """nox -s compare ran the failed side again at fresh seeds: all passed, so the suite's seed was unlucky."""
    def break_it(cells):
        cells["nutpie-numba"].update(status="failed", reason="mean off the truth: lam (z=3.9)")

    a, b = baseline_and_candidate(tmp_path, break_it)
    runs = load_results([a])[0] + load_results([b])[0]
    checked = {"row": "cpu-pymc6", "model": "conjugate", "backend": "nutpie-numba", "started": "2026-01-03T00:00:00Z",
               "baseline": {"kind": "results", "label": a.stem}, "candidate": {"kind": "results", "label": b.stem},
               "status": {"A": {"status": "passed"}, "B": {"status": "passed", "chance_failure":
                          "failed at the suite's seed only (fresh seeds 1: passed, 2: passed): mean off the truth"}},
               "status_change": None}
    [finding] = compare(*runs, SpeedEvidence(comparisons=(checked,)))
    assert (finding.kind, finding.is_regression) == (CHANCE_FAILURE, False)
    assert finding.what.startswith("passed -> failed, a chance failure: failed at the suite's seed only (fresh seeds")
    confirmed = dict(checked, status={"A": {"status": "passed"}, "B": {"status": "failed"}}, status_change="passed -> failed")
    [finding] = compare(*runs, SpeedEvidence(comparisons=(confirmed,)))
    assert finding.kind == STATUS_REGRESSION  # fresh seeds failed too: it stands
    [finding] = compare(*runs, SpeedEvidence(comparisons=(dict(checked, backend="pymc-c"),)))
    assert finding.kind == STATUS_REGRESSION  # another cell's check says nothing about this one


def test_known_failure_that_passes_is_flagged_as_removable(tmp_path, capsys):
    def fix_it(cells):
        cells["blackjax"].update(make_cell(backend="blackjax", known_failure=cells["blackjax"]["known_failure"]))

    a, b = baseline_and_candidate(tmp_path, fix_it)
    baseline, candidate = load_results([a])[0] + load_results([b])[0]
    [finding] = compare(baseline, candidate)
    assert finding.kind == KNOWN_FAILURE_PASSES and not finding.is_regression
    assert main(["--baseline", str(a), "--candidate", str(b), "--fail-on-regression"]) == 0
    assert "cpu-pymc6 conjugate blackjax: known failure now passes: remove its entry" in capsys.readouterr().out


def test_runs_of_different_rows_do_not_compare(tmp_path, capsys):
    a = write(tmp_path, "a.json", make_run([make_cell()], row="cpu-pymc6"))
    b = write(tmp_path, "b.json", make_run([make_cell()], row="cpu-pymc5"))
    assert main(["--baseline", str(a), "--candidate", str(b)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cpu-pymc6" in err and "cpu-pymc5" in err


def test_report_compares_each_rows_latest_run_with_the_one_before(tmp_path, capsys):
    before = make_run([make_cell(backend="pymc-c"), make_cell(backend="nutpie-numba", sample_s=1.0)],
                      packages={"pymc": "6.4.0", "jax": "0.7.0"})
    after = make_run([make_cell(backend="pymc-c"), make_cell(backend="nutpie-numba", sample_s=3.0, ess_per_s=100.0)],
                     started="2026-01-02T00:00:00Z", packages={"pymc": "6.4.0", "jax": "0.8.0"})
    folder = tmp_path / "results"
    write(folder, "cpu-pymc6/1.json", before)
    write(folder, "cpu-pymc6/2.json", after)
    args = [str(folder), "--out", str(tmp_path / "reports"), "--run-id", "r"]
    assert main(args + ["--fail-on-regression"]) == 0  # a tripled sample_s alone is no evidence
    write(folder, "compare/cpu-pymc6-conjugate-nutpie-numba.json",
          comparison_result("2", "slower", ratio=2.9, backend="nutpie-numba"))
    assert main(args + ["--fail-on-regression"]) == 1
    out = capsys.readouterr().out
    assert "cpu-pymc6 conjugate nutpie-numba: seconds_per_grad_eval slower, confirmed" in out and "skipped" not in out
    md = (tmp_path / "reports" / "r" / "report.md").read_text(encoding="utf-8")
    assert "nutpie-numba: seconds_per_grad_eval slower, confirmed" in section(md, "Regressions")
    changed = section(md, "What changed")
    [line] = [line for line in changed.splitlines() if "| nutpie-numba |" in line]
    assert "jax 0.7.0 -> 0.8.0" in line and "pymc-c" not in changed
    assert "2 runs" in section(md, "History")


# ----------------------------------------------------------------------------------------------- html


def test_html_is_static_with_inline_svg(tmp_path):
    md_path, html_path = write_report(load_results([REAL_RUN])[0], tmp_path, "r")
    assert (md_path, html_path) == (tmp_path / "r" / "report.md", tmp_path / "r" / "report.html")
    html = html_path.read_text(encoding="utf-8")
    assert "<svg" in html and "<svg" not in md_path.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe)\b", html, re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert not re.search(r"@import|url\(", html, re.I)


def test_sbc_scaling_and_gpu_figures_are_reported(tmp_path):
    sbc = {"passed": False, "sims": 50, "p_limit": 0.0017, "p_values": {"lam": 0.0004, "beta[0]": 0.5},
           "reason": "ranks of lam are not uniform"}
    gpu = {"peak_device_mb": 208.0, "speed": {"transfer": {"host_to_device_s": 0.0013, "device_to_host_s": 0.0002}}}
    run = make_run([make_cell(sbc=sbc), make_cell(backend="numpyro-vectorized", **gpu)], row="cuda-pymc6")
    run["scaling"] = [{"backend": "tfp", "exponent_n_obs": 0.52, "points": [
        {"knobs": {"n_obs": 1000}, "status": "sampled", "sample_s": 1.7},
        {"knobs": {"n_obs": 3000}, "status": "timeout"}]}]
    md, html_text = report_text(tmp_path, write(tmp_path, "results/cuda-pymc6/a.json", run))
    assert "| cuda-pymc6 | conjugate | pymc-c | 50 | failed" in section(md, "Simulation-based calibration")
    assert "lam: 0.0004" in section(md, "Simulation-based calibration")
    assert "1000 obs: 1.7 s; 3000 obs: timeout | 0.52" in section(md, "Scaling")
    assert "| numpyro-vectorized | ? | 208 MB | 0.0013 s in, 0.0002 s out |" in section(md, "GPU cells")
    assert "GPU cells" in html_text


def test_gpu_cells_name_the_card_of_the_slot_that_ran_them(tmp_path):
    """A results file resumed on another machine (GPU slots): each cell's card is the one of the run or
    resumption it started in."""
    gpu = {"peak_device_mb": 128.0}
    first = make_cell(backend="tfp", timings={"cell_started": "2026-11-26T17:20:00Z"}, **gpu)
    later = make_cell(backend="numpyro-vectorized", timings={"cell_started": "2026-11-27T12:40:00Z"}, **gpu)
    run = make_run([first, later], row="cuda-pymc6")
    run["fingerprint"]["devices"] = [{"platform": "gpu", "kind": "NVIDIA H100 80GB HBM3"}]
    run["resumed"] = [{"at": "2026-11-27T12:35:53Z", "fingerprint": {"devices": [{"platform": "gpu", "kind": "NVIDIA H200"}]}}]
    md, _ = report_text(tmp_path, write(tmp_path, "results/cuda-pymc6/a.json", run))
    assert "| tfp | NVIDIA H100 80GB HBM3 | 128 MB |" in section(md, "GPU cells")
    assert "| numpyro-vectorized | NVIDIA H200 | 128 MB |" in section(md, "GPU cells")


def test_a_gradient_sweep_gives_the_crossover_section_and_is_no_skipped_file(tmp_path):
    sweep = {"schema": "pymc-matrix-gradient-sweep/1", "started": "2026-11-26T17:10:26Z", "machine": "GPU H100",
             "versions": {"pymc": "x"}, "crossovers": [
                 {"path": "pytensor-jax", "variant": "radon_segment", "vs_same_path": 10000, "vs_best_cpu": 100000},
                 {"path": "jax-autodiff", "variant": "radon_sorted", "vs_same_path": None,
                  "vs_same_path_note": "no crossover up to 1,000,000", "vs_best_cpu": None,
                  "vs_best_cpu_note": "no crossover up to 1,000,000"}]}
    run = write(tmp_path, "run.json", make_run([make_cell()]))
    md, _ = report_text(tmp_path, run, write(tmp_path, "sweep.json", sweep))
    crossover = section(md, "GPU or CPU: gradient sweep of 2026-11-26T17:10:26Z")
    assert "| pytensor-jax | radon_segment | 10,000 observations | 100,000 observations |" in crossover
    assert "| jax-autodiff | radon_sorted | no crossover up to 1,000,000 |" in crossover
    assert "Skipped files" not in md
