"""The timeline (harness.host.timeline, harness.host.timeline_site, the report's timeline section) with fakes:
no resolver, no installs, no sampling."""

from __future__ import annotations

import copy
import datetime
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from harness.common.matrix import load
from harness.common.measurement import MEASUREMENT_VERSION
from harness.host import timeline as tl
from harness.host import timeline_site as site
from harness.host.report.cli import write_report
from harness.host.report.loading import load_results

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = json.loads((ROOT / "tests" / "fixtures" / "report_cpu-pymc6_quick.json").read_text())
ROW = load(ROOT / "matrix.toml").rows["cpu-pymc5"]
TODAY = datetime.date(2026, 11, 26)


def fake_results(date: str, blackjax: str, blackjax_status: str, complete: bool = True) -> dict:
    """A results file of cpu-pymc5 as of `date`, its blackjax cell `blackjax_status`."""
    data = copy.deepcopy(FIXTURE)
    data.update(row="cpu-pymc5", tier="timeline", complete=complete, started=f"{date}T01:00:00Z", finished=f"{date}T01:12:00Z",
                measurement_version=MEASUREMENT_VERSION)
    resolved = {"python": "3.12.1", "pymc": "5.16.2" if date > "2024-08-01" else "5.15.1", "blackjax": blackjax,
                "tfp-nightly": f"0.25.0.dev{date.replace('-', '')}"}
    data["fingerprint"]["install"] = {"mode": "as-of", "as_of": date, "resolved": resolved}
    cell = dict(copy.deepcopy(data["cells"][0]), backend="blackjax", status=blackjax_status,
                reason=None if blackjax_status == "passed" else "blackjax >= 1.6 breaks pm.sample")
    data["cells"] = data["cells"][:2] + [cell]
    return data


def resolution(date: str) -> dict:
    blackjax = "1.6.0" if date >= "2025-09-01" else "1.2.4"
    return {"pymc": "5.16.2" if date > "2024-08-01" else "5.15.1", "blackjax": blackjax, "numpy": "1.26.4",
            "tfp-nightly": f"0.25.0.dev{date.replace('-', '')}"}


# ------------------------------------------------------------------------------------------------ options


@pytest.mark.parametrize("argv, message", [
    ([], "name the rows"),
    (["cpu-pymc5"], "--since DATE is missing"),
    (["cpu-pymc5", "--since", "2024-13-01"], "--since '2024-13-01': not a date"),
    (["cpu-pymc5", "--since", "2025-01-01", "--until", "2024-01-01"], "swap them"),
    (["cpu-pymc5", "--since", "2025-01-01", "--every", "day"], "--every 'day': choose one of"),
    (["cpu-pymc5", "--since", "2025-01-01", "--until", "2027-01-01"], "after today"),
    (["cpu-pymc5", "--latest", "--since", "2025-01-01"], "leave out --since"),
    (["cpu-pymc5", "--since", "2025-01-01", "--order", "random"], "--order 'random': choose one of"),
])
def test_each_mistake_is_one_line_naming_the_option(argv, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")) as exc:
        tl.parse_args(argv, TODAY)
    assert "\n" not in str(exc.value)


def test_options_left_over_go_to_each_points_suite():
    args = tl.parse_args(["cpu-pymc5", "--since", "2024-06-01", "--model", "radon", "-x"], TODAY)
    assert (args.rows, args.until, args.every, args.suite) == (["cpu-pymc5"], "2026-11-26", "month", ["--model", "radon", "-x"])
    assert tl.parse_args(["cpu-pymc6", "--latest"], TODAY).since == "2026-11-26"


@pytest.mark.parametrize("n", [0, 1, 2, 3, 9, 30])
def test_spread_order_measures_the_ends_then_the_widest_gaps_and_every_point_once(n):
    points = [tl.Point(f"d{i}", {}) for i in range(n)]
    order = [int(p.date[1:]) for p in tl.spread(points)]
    assert sorted(order) == list(range(n))
    if n == 9:
        assert order == [0, 8, 4, 2, 6, 1, 3, 5, 7]
    if n == 30:  # after 7 points no gap is wider than 8 months (a quarter of the range)
        covered = sorted(order[:7])
        assert covered[0] == 0 and covered[-1] == 29 and max(b - a for a, b in zip(covered, covered[1:])) <= 8


def test_a_point_orders_its_cells_by_the_nearest_stored_point(tmp_path):
    folder = tmp_path / "cpu-pymc5"
    folder.mkdir()
    assert tl.nearest_stored(tmp_path, "cpu-pymc5", "2025-01-01") is None
    for name in ("2024-06-01.json", "2025-06-01.json", "2026-08-01.json", "notes.json", "2025-02-01.json.partial"):
        (folder / name).write_text("{}")
    assert tl.nearest_stored(tmp_path, "cpu-pymc5", "2025-01-01").name == "2025-06-01.json"
    assert tl.nearest_stored(tmp_path, "cpu-pymc5", "2026-08-01").name == "2025-06-01.json"  # never itself
    assert tl.nearest_stored(tmp_path, "cpu-pymc5", "2026-11-01").name == "2026-08-01.json"


# --------------------------------------------------------------------------------------------- the dates


def test_calendar_dates_start_at_since_then_follow_the_calendar():
    assert tl.calendar_dates("2024-06-15", "2024-09-01", "month") == ["2024-06-15", "2024-07-01", "2024-08-01", "2024-09-01"]
    assert tl.calendar_dates("2024-06-01", "2024-06-17", "week") == ["2024-06-01", "2024-06-03", "2024-06-10", "2024-06-17"]


def test_release_dates_are_the_first_days_of_each_change_found_by_halving():
    releases = ["2024-06-04", "2024-06-05", "2024-07-20"]  # two days running, then one in a later week
    calls = []

    def versions(date):
        calls.append(date)
        return {"n": str(sum(r <= date for r in releases))}

    found = tl.release_dates("2024-06-01", "2024-08-01", versions, lambda ds: [versions(d) for d in ds])
    assert found == ["2024-06-01", *releases]
    assert len(calls) < 30  # 10 weekly probes and a few halvings, not 61 days


def test_points_whose_row_packages_did_not_move_are_not_run(tmp_path):
    resolutions = tl.Resolutions(ROW, tmp_path / "cache.json", lambda row, date: resolution(date))
    points = tl.choose_points(ROW, "2024-06-01", "2025-10-01", "month", resolutions)
    # tfp-nightly moves every month and numpy is no row package: only pymc and blackjax make points
    assert [(p.date, p.changed) for p in points] == [
        ("2024-06-01", ["pymc 5.15.1", "blackjax 1.2.4"]),
        ("2024-09-01", ["pymc 5.15.1 -> 5.16.2"]),
        ("2025-09-01", ["blackjax 1.2.4 -> 1.6.0"]),
    ]
    assert points[1].resolution["tfp-nightly"] == "0.25.0.dev20240901"  # nightly builds resolve as of the date
    assert json.loads((tmp_path / "cache.json").read_text())["2024-07-01"]["numpy"] == "1.26.4"


# ------------------------------------------------------------------------------------ backfill and store


def fake_runner(calls, interrupt_at=None):
    """run_point that writes what a point's session writes; interrupted (Ctrl-C) after one cell at `interrupt_at`."""

    def run_point(point, stage, resume):
        calls.append((point.date, resume))
        blackjax = resolution(point.date)["blackjax"]
        data = fake_results(point.date, blackjax, "passed" if blackjax < "1.6" else "known-failure",
                            complete=point.date != interrupt_at)
        folder = stage / "cpu-pymc5"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{point.date}T01-timeline.json").write_text(json.dumps(data))
        if point.date == interrupt_at:
            raise KeyboardInterrupt

    return run_point


def test_backfill_stores_each_point_resumes_an_interrupted_one_and_never_redoes_one(tmp_path):
    history, work, lines, calls = tmp_path / "history", tmp_path / "work", [], []
    points = [tl.Point(d, resolution(d), [f"change at {d}"]) for d in ("2024-06-01", "2024-10-01", "2025-10-01")]
    with pytest.raises(KeyboardInterrupt):
        tl.backfill(ROW, points, history, work, fake_runner(calls, interrupt_at="2024-10-01"), lines.append)
    assert sorted(p.name for p in (history / "cpu-pymc5").iterdir()) == ["2024-06-01.json"]  # the finished point kept

    tl.backfill(ROW, points, history, work, fake_runner(calls), lines.append)
    assert calls == [("2024-06-01", False), ("2024-10-01", False), ("2024-10-01", True), ("2025-10-01", False)]
    stored = tl.stored(history, "cpu-pymc5", "2025-10-01")
    assert stored["measurement_version"] == MEASUREMENT_VERSION
    assert stored["timeline"] == {"date": "2025-10-01", "resolution": resolution("2025-10-01")}
    assert not list(history.rglob("*.partial"))
    assert any("point 2/3 2024-10-01: change at 2024-10-01; ETA 0:24:00 for 2 point(s)" in line for line in lines)

    calls.clear()
    tl.backfill(ROW, points, history, work, fake_runner(calls), lines.append)
    assert calls == [] and lines[-1].endswith("stored already (" + str(history / "cpu-pymc5" / "2025-10-01.json") + ")")


def test_a_point_of_an_older_measurement_version_is_measured_again(tmp_path):
    point = tl.Point("2024-06-01", resolution("2024-06-01"), ["x"])
    path = tl.store(_write(tmp_path / "r.json", fake_results("2024-06-01", "1.2.4", "passed")), tmp_path, "cpu-pymc5", point)
    assert tl.stored(tmp_path, "cpu-pymc5", "2024-06-01")
    path.write_text(json.dumps(dict(json.loads(path.read_text()), measurement_version=MEASUREMENT_VERSION - 1)))
    assert tl.stored(tmp_path, "cpu-pymc5", "2024-06-01") is None


def test_a_point_staged_by_an_older_harness_is_measured_again_not_relabelled(tmp_path):
    history, work, calls, lines = tmp_path / "history", tmp_path / "work", [], []
    point = tl.Point("2024-06-01", resolution("2024-06-01"), ["x"])
    old = dict(fake_results("2024-06-01", "1.2.4", "passed"), measurement_version=MEASUREMENT_VERSION - 1)
    (work / "cpu-pymc5" / "2024-06-01" / "cpu-pymc5").mkdir(parents=True)
    _write(work / "cpu-pymc5" / "2024-06-01" / "cpu-pymc5" / "2024-06-01T00-timeline.json", old)
    tl.backfill(ROW, [point], history, work, fake_runner(calls), lines.append)
    assert calls == [("2024-06-01", False)]  # a fresh run, not a resume of the old file
    assert tl.stored(history, "cpu-pymc5", "2024-06-01")["measurement_version"] == MEASUREMENT_VERSION


def test_latest_is_measured_every_night_but_stored_only_when_a_row_package_moved(tmp_path):
    history, calls, lines = tmp_path / "history", [], []
    tl.store(_write(tmp_path / "r.json", fake_results("2025-09-01", "1.6.0", "known-failure")), history, "cpu-pymc5",
             tl.Point("2025-09-01", resolution("2025-09-01")))
    same = tl.Resolutions(ROW, tmp_path / "c.json", lambda row, date: resolution(date))
    point = tl.latest_point(ROW, "2025-10-01", same, history)
    assert point.changed == []  # only tfp-nightly moved
    tl.backfill(ROW, [point], history, tmp_path / "work", fake_runner(calls), lines.append, always_run=True)
    assert calls == [("2025-10-01", False)] and not tl.stored(history, "cpu-pymc5", "2025-10-01")
    moved = tl.Resolutions(ROW, tmp_path / "m.json", lambda row, date: dict(resolution(date), pymc="5.27.0"))
    point = tl.latest_point(ROW, "2025-10-02", moved, history)
    assert point.changed == ["pymc 5.16.2 -> 5.27.0"]
    tl.backfill(ROW, [point], history, tmp_path / "work", fake_runner(calls), lines.append, always_run=True)
    assert tl.stored(history, "cpu-pymc5", "2025-10-02")


def _write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))
    return path


def fake_history(folder: Path) -> Path:
    """Three stored points of cpu-pymc5: blackjax passes, then breaks with blackjax 1.6."""
    for date, blackjax, status in (("2024-06-01", "1.2.1", "passed"), ("2024-10-01", "1.2.4", "passed"),
                                   ("2025-09-01", "1.6.0", "known-failure")):
        tl.store(_write(folder / "r.json", fake_results(date, blackjax, status)), folder / "history", "cpu-pymc5",
                 tl.Point(date, resolution(date)))
    return folder / "history"


# ----------------------------------------------------------------------------------------------- the report


def test_report_grid_says_when_each_cell_broke_next_to_what_changed(tmp_path):
    runs, skipped = load_results([fake_history(tmp_path)])
    assert not skipped
    md, html = write_report(runs, tmp_path / "out", "r")
    text = md.read_text()
    assert "## Timeline" in text and "cpu-pymc5: 3 points, 2024-06-01 to 2025-09-01" in text
    assert "broke 2025-09-01 (known-failure; blackjax 1.2.4 -> 1.6.0" in text
    assert "blackjax: worked (every model passed) 2024-06-01 to 2024-10-01" in text
    assert "| 2024-10-01 | blackjax 1.2.1 -> 1.2.4, pymc 5.15.1 -> 5.16.2, tfp-nightly 0.25.0.dev20240601 -> 0.25.0.dev20241001 |" in text
    assert 'class="known-failure"' in html.read_text()


def test_a_failure_at_one_point_between_passes_is_told_as_one_event_with_its_rerun():
    from harness.host.report.timeline import turns

    dates = ["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01"]
    statuses = ["passed", "failed", "passed", "failed", "failed"]
    cells = [{"status": s} for s in statuses]
    text = turns("cpu-pymc5", "radon", "tfp", dates, cells, [f"change {d}" for d in dates])
    assert text.startswith("failed 2025-02-01 only, passed before and after")
    assert "nox -s compare -- cpu-pymc5 --baseline 2025-01-01 --candidate 2025-02-01 --model radon --backend tfp" in text
    assert "recovered 2025-03-01" not in text  # the lone failure's end is part of its one event
    assert text.endswith("broke 2025-04-01 (failed; change 2025-04-01)")  # a failure that stays is a break
    assert turns("r", "m", "b", dates[:2], cells[:2], ["a", "b"]) == "broke 2025-02-01 (failed; b)"  # the last point: not yet known


def test_a_break_the_replay_attributed_names_the_day_and_the_release():
    from harness.host.report.comparison import SpeedEvidence
    from harness.host.report.timeline import attributions, turns

    lines = ["attribution: last good day 2025-12-28, first bad day 2025-12-29",
             "attribution: changed between them: fastprogress 1.0.5 -> 1.1.3, anyio None -> 4.12.0",
             "attribution: first bad release: fastprogress 1.1.3 (last good 1.0.5)"]
    reason = "import blackjax fails as of {}: ModuleNotFoundError: No module named 'IPython'"
    result = {"row": "cpu-pymc5", "model": "eight_schools", "backend": "blackjax", "finished": "2026-11-27T10:48:55Z",
              "baseline": {"label": "2025-11-01"}, "candidate": {"label": "2026-03-01"},
              "attribution": {"lines": lines, "first_bad": "2025-12-29"},
              "status": {"A": {"status": "passed"}, "B": {"status": "unavailable", "reason": reason.format("2026-03-01")}},
              "status_change": {"kind": "status regression", "before": "passed", "after": "unavailable"}}
    (found,) = attributions(SpeedEvidence(comparisons=(result,)))
    said = "last good day 2025-12-28, first bad day 2025-12-29; first bad release: fastprogress 1.1.3 (last good 1.0.5)"
    assert (found.row, found.backend, found.good, found.bad, found.first_bad, found.said, found.change) == (
        "cpu-pymc5", "blackjax", "2025-11-01", "2026-03-01", "2025-12-29", said, ("passed", "unavailable"))
    assert found.failure == "import blackjax fails: ModuleNotFoundError: No module named 'IPython'"  # the day left out
    dates = ["2025-11-01", "2026-03-01"]
    broken = {"status": "unavailable", "reason": reason.format("2026-03-01")}
    text = turns("cpu-pymc5", "radon", "blackjax", dates, [{"status": "passed"}, broken],
                 ["", "fastprogress 1.0.5 -> 1.1.3"], attributed=[found])  # any model of the backend
    assert text == f"broke 2026-03-01 (unavailable; fastprogress 1.0.5 -> 1.1.3) [attributed by nox -s compare: {said}]"
    # points stored after the attribution ran: it names the pair its first bad day falls between, only that one
    finer = ["2025-11-01", "2025-12-01", "2026-01-01", "2026-03-01"]
    cells = [{"status": "passed"}, {"status": "passed"}, dict(broken), dict(broken)]
    text = turns("cpu-pymc5", "radon", "blackjax", finer, cells, ["", "a", "b", "c"], attributed=[found])
    assert text == f"broke 2026-01-01 (unavailable; b) [attributed by nox -s compare: {said}]"
    # another backend whose cell broke the same way, for the same failure (as of its own day), between the
    # same points: the same release; one that broke another way, or for another reason, is not explained
    for backend, cell, explained in [("blackjax-other", dict(broken, reason=reason.format("2026-01-01")), True),
                                     ("tfp", dict(broken, reason="import tfp fails as of 2026-01-01: ImportError"), False),
                                     ("blackjax-other", dict(broken, status="error"), False)]:
        cells[2] = cell
        text = turns("cpu-pymc5", "radon", backend, finer, cells, ["", "a", "b", "c"], attributed=[found])
        assert text.endswith(f"[attributed by nox -s compare: {said}]") == explained, backend
    # the point before failed by chance (fresh seeds passed): it counts as the pass it was
    changed, lucky = ["", "a", "b", "c"], {"2025-12-01"}
    cells[1:3] = [{"status": "failed", "reason": "off the truth"}, dict(broken, reason=reason.format("2026-01-01"))]
    text = turns("cpu-pymc5", "radon", "blackjax-other", finer, cells, changed, by_chance=lucky, attributed=[found])
    assert text.endswith(f"broke 2026-01-01 (unavailable; b) [attributed by nox -s compare: {said}]")
    cells[1] = {"status": "passed"}
    cells[2] = {"status": "passed"}  # the break seen a point later than the day it names: not this attribution's
    text = turns("cpu-pymc5", "radon", "blackjax", finer, cells, ["", "a", "b", "c"], attributed=[found])
    assert text == "broke 2026-03-01 (unavailable; c)"


def test_a_failure_is_the_same_whatever_day_and_environment_it_ran_in():
    from harness.host.report.timeline import failing_reason, failure_signature

    one = "import numpyro fails as of 2025-08-01: ImportError: cannot import name 'pjit_p' from 'jax.experimental.pjit' " \
          "(/tmp/bf/.nox/cpu-pymc-5/lib/python3.12/site-packages/jax/experimental/pjit.py)"
    other = one.replace("2025-08-01", "2025-07-22").replace("/tmp/bf/.nox/cpu-pymc-5", "/w/.nox/compare/cpu-pymc5/B-2025-07-22")
    assert failure_signature(one) == failure_signature(other) != failure_signature(one.replace("pjit_p", "xla_pmap_p"))
    assert failing_reason({"status": "passed"}, {"status": "error", "reason": "E"}) == "E"  # a break: the later side's
    assert failing_reason({"status": "error", "reason": "E"}, {"status": "passed"}) == "E"  # a recovery: the earlier's


def test_fresh_seeds_clear_a_failure_on_either_side_of_a_comparison():
    """Both dates failed alike (the same draws at both): compare ran each side again at fresh seeds."""
    from harness.host.report.comparison import SpeedEvidence
    from harness.host.report.timeline import chance_failures

    said = {"status": "passed", "chance_failure": "failed at the suite's seed only (fresh seeds 1: passed, 2: passed)"}
    checked = {"row": "cpu-pymc5", "model": "radon", "backend": "nutpie-jax-jaxgrad", "baseline": {"label": "2024-07-01"},
               "candidate": {"label": "2024-08-01"}, "status": {"A": said, "B": said}, "status_change": None}
    assert set(chance_failures(SpeedEvidence(comparisons=(checked,)))) == {
        ("cpu-pymc5", "radon", "nutpie-jax-jaxgrad", "2024-07-01"), ("cpu-pymc5", "radon", "nutpie-jax-jaxgrad", "2024-08-01")}
    # run again, a side passed at the suite's seed (the stored point's draws did not repeat): its failure
    # there was chance as well; a side that failed again, or is unavailable, is no evidence
    again = dict(checked, status={"A": {"status": "passed"}, "B": {"status": "failed", "fresh_seeds": "1: failed"}})
    assert chance_failures(SpeedEvidence(comparisons=(again,))) == {
        ("cpu-pymc5", "radon", "nutpie-jax-jaxgrad", "2024-07-01"): "passed when run again"}
    broken = dict(checked, status={"A": {"status": "unavailable"}, "B": {"status": "error"}})
    assert chance_failures(SpeedEvidence(comparisons=(broken,))) == {}


def test_a_failure_fresh_seeds_passed_is_told_as_chance_and_breaks_no_run_of_passes():
    from harness.host.report.timeline import turns, worked_when

    dates = ["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01"]
    cells = [{"status": s} for s in ["passed", "failed", "failed", "passed"]]
    text = turns("cpu-pymc5", "radon", "tfp", dates, cells, [f"change {d}" for d in dates], by_chance={"2025-03-01"})
    # 02-01 unchecked, now between passes (03-01 counts as one): one event with its check; 03-01 told as chance
    assert text.startswith("failed 2025-02-01 only, passed before and after")
    assert text.endswith("failed 2025-03-01, passed when nox -s compare ran it again: a chance failure")
    last = turns("r", "m", "b", dates[:2], cells[:2], ["a", "b"], by_chance={"2025-02-01"})
    assert last == "failed 2025-02-01, passed when nox -s compare ran it again: a chance failure"

    class Point:
        def __init__(self, status):
            self.cells = {("radon", "tfp"): {"status": status}}

    points = [(d, Point(c["status"]), {}) for d, c in zip(dates, cells)]
    assert worked_when(points, "tfp", {("radon", "tfp", "2025-02-01"), ("radon", "tfp", "2025-03-01")}) \
        == "worked (every model passed) 2025-01-01 to 2025-04-01"


# ------------------------------------------------------------------------------------------ the asv site


def test_asv_project_has_one_dated_commit_and_one_results_file_per_point(tmp_path):
    config = site.scratch_project(fake_history(tmp_path), "cpu-pymc5", tmp_path / "work", tmp_path / "html")
    repo = tmp_path / "work" / "repo"
    log = site.git(repo, "log", "--reverse", "--format=%cs %s").splitlines()
    assert log == ["2024-06-01 cpu-pymc5 as of 2024-06-01: blackjax 1.2.1, pymc 5.15.1, tfp-nightly 0.25.0.dev20240601",
                   "2024-10-01 cpu-pymc5 as of 2024-10-01: blackjax 1.2.1 -> 1.2.4, pymc 5.15.1 -> 5.16.2, "
                   "tfp-nightly 0.25.0.dev20240601 -> 0.25.0.dev20241001",
                   "2025-09-01 cpu-pymc5 as of 2025-09-01: blackjax 1.2.4 -> 1.6.0, "
                   "tfp-nightly 0.25.0.dev20241001 -> 0.25.0.dev20250901"]
    results = tmp_path / "work" / "results"
    benchmarks = json.loads((results / "benchmarks.json").read_text())
    files = sorted((results / "cpu-pymc5").glob("*-existing-timeline.json"))
    assert len(files) == 3 and json.loads(config.read_text())["html_dir"] == str(tmp_path / "html")
    last = json.loads(max(files, key=lambda p: json.loads(p.read_text())["date"]).read_text())
    ess = last["results"]["benchmarks.Track.track_ess_per_s"]
    assert ess[1] == benchmarks["benchmarks.Track.track_ess_per_s"]["params"] == [["'conjugate'"], ["'pymc-c'", "'nutpie-numba'", "'blackjax'"]]
    assert ess[0][2] is None and ess[0][0] is None and ess[2] == f"measurement-{MEASUREMENT_VERSION}"  # fixture: no ess_per_s
    assert last["results"]["benchmarks.Time.time_sample"][0][0] == FIXTURE["cells"][0]["timings"]["sample_s"]


def test_vendoring_points_index_html_at_local_copies(tmp_path):
    cache, html = tmp_path / "cache", tmp_path / "html"
    for package, file in list(site.VENDOR.values()) + [(p, d + "glyph.woff") for p, d in site.VENDOR_DIRS]:
        (cache / package / file).parent.mkdir(parents=True, exist_ok=True)
        (cache / package / file).write_text("/* asset */")
    html.mkdir()
    tags = "".join(f'<script src="{url}" integrity="sha256-x" crossorigin="anonymous" onerror="f()"></script>' for url in site.VENDOR)
    (html / "index.html").write_text(tags + '<a href="https://github.com/airspeed-velocity/asv/">asv</a>')
    site.vendor(html, cache)
    page = (html / "index.html").read_text()
    assert '<script src="vendor/jquery@3.3.1/dist/jquery.min.js" onerror="f()">' in page
    assert "integrity" not in page and (html / "vendor/bootstrap@3.1.1/dist/fonts/glyph.woff").exists()
    (html / "index.html").write_text('<script src="https://cdn.example/new.js"></script>')
    with pytest.raises(RuntimeError, match="add it to VENDOR in harness/host/timeline_site.py"):
        site.vendor(html, cache)


@pytest.mark.skipif(shutil.which("git") is None, reason="git")
def test_the_workflow_commit_script_adds_new_points_on_a_branch(tmp_path):
    """.github/scripts/timeline-commit.sh, as the nightly runs it, on a fake history in a scratch clone."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
           "PATH": "/usr/bin:/bin", "TIMELINE_NO_PUSH": "1"}
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "start"], check=True, env=env)
    script = ROOT / ".github" / "scripts" / "timeline-commit.sh"
    run = subprocess.run(["bash", str(script), "timeline/points"], cwd=repo, env=env, capture_output=True, text=True)
    assert run.returncode == 0 and "no new timeline points" in run.stdout
    shutil.copytree(fake_history(tmp_path), repo / "history")
    run = subprocess.run(["bash", str(script), "timeline/points"], cwd=repo, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    shown = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%s", "timeline/points"], capture_output=True, text=True).stdout
    assert shown.strip() == "timeline: 3 new point(s): cpu-pymc5 2024-06-01, cpu-pymc5 2024-10-01, cpu-pymc5 2025-09-01"


def test_the_eta_counts_only_points_measured_as_today(tmp_path):
    history, lines = tmp_path / "history", []
    old = tl.Point("2024-06-01", resolution("2024-06-01"), ["x"])
    path = tl.store(_write(tmp_path / "r.json", fake_results("2024-06-01", "1.2.4", "passed")), history, "cpu-pymc5", old)
    path.write_text(json.dumps(dict(json.loads(path.read_text()), measurement_version=MEASUREMENT_VERSION - 1,
                                    started="2026-01-01T00:00:00Z", finished="2026-01-01T01:00:00Z")))
    new = tl.Point("2024-10-01", resolution("2024-10-01"), ["change"])
    tl.backfill(ROW, [new], history, tmp_path / "work", fake_runner([]), lines.append)
    assert any("ETA unknown until a point finishes" in line for line in lines), lines


def test_a_confirmed_speed_change_is_listed_with_its_ratio_and_release_not_as_a_status_turn():
    from harness.host.report.comparison import SpeedEvidence
    from harness.host.report.timeline import attributions, speed_changes

    lines = ["attribution: last good day 2024-09-15, first bad day 2024-09-16",
             "attribution: changed between them: jax 0.4.31 -> 0.4.33, jaxlib 0.4.31 -> 0.4.33",
             "attribution: first bad release: jax 0.4.33 (last good 0.4.31)"]
    def compared(verdict, row="cpu-pymc5"):
        return {"row": row, "model": "radon", "backend": "numpyro-vectorized", "finished": "2026-11-27T17:00:00Z",
                "baseline": {"label": "2024-09-01"}, "candidate": {"label": "2024-10-01"}, "attribution": {"lines": lines},
                "speed": {"decision": {"verdict": verdict, "pairs": 5,
                                       "interval": {"ratio": 19.4, "low": 18.0, "high": 20.9, "level": 0.9946}}}}
    evidence = SpeedEvidence(comparisons=(compared("slower"), compared("same"), compared("slower", row="cpu-pymc6")))
    assert attributions(evidence) == []  # no status changed, so no break or recovery of the grid names it
    (listed,) = speed_changes(evidence, "cpu-pymc5")
    assert [c.text for c in listed] == [
        "numpyro-vectorized", "radon", "2024-09-01 -> 2024-10-01",
        "slower: B/A 19.40 [18.00, 20.90] (99.46% interval, 5 pairs)",
        "last good day 2024-09-15, first bad day 2024-09-16; first bad release: jax 0.4.33 (last good 0.4.31)"]


def test_the_frozen_legacy_stack_is_refused_with_the_rows_the_timeline_replays():
    proc = subprocess.run([sys.executable, "-m", "nox", "-s", "timeline", "--", "legacy", "--latest"], cwd=REPO_ROOT,
                          env={k: v for k, v in os.environ.items() if k != "MATRIX_TOML"},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert ("timeline: row legacy (pymc3) is a frozen stack, not replayed as of dates; the timeline's rows: "
            "cpu-pymc5, cpu-pymc6") in proc.stderr


def test_help_lists_the_options_and_says_where_the_rest_goes(capsys):
    with pytest.raises(SystemExit) as stop:
        tl.parse_args(["--help"])
    assert stop.value.code == 0
    shown = capsys.readouterr().out
    assert "--every EVERY" in shown and "month | week | release" in shown and "go to each point's suite" in shown
