"""pytest wiring shared by the suites: the run plan, the model x backend cells, the results file.

The nox session writes a plan (row, tiers, known failures, install outcome) and passes `--plan`. Options
after `--` on the nox command line reach pytest unchanged, except the few the noxfile consumes
(`--as-of`, `--latest`, `--unlocked`, `--force-install`): `--tier NAME`, `--quick`, `--models DIR`,
`--model NAME`, `--backend NAME`, `--results-dir DIR`, `--seed N`, `--no-speed`, `--sbc`, `--sbc-sims N`,
`--scaling`, `--cold`, `--jobs N`, `--resume`, `--costs-from FILE` (pytest_addoption says what each does).

Each cell's speed test runs right after its correctness test, on the same worker process, so the
correctness run is the cold call and the model is compiled once.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from harness.common.environment import cell_env, take_interrupts
from harness.common.plan import Plan
from harness.common.statuses import BROKEN, KNOWN_FAILURE, PASSED, SKIPPED
from harness.worker.evaluation import evaluate
from harness.worker.handle import kill_all
from harness.worker.progress import Progress, clock, closing_lines, run_seconds
from harness.worker.results import ResultsFile, fingerprint, summary_table
from harness.worker.scheduler import CellScheduler, CoreSets, default_jobs, lookahead
from models import ModelLoadError, load_models

REPO_ROOT = Path(__file__).resolve().parent.parent
SEED = 20261122  # fixed: every backend of every row starts from the same seed
SUITE_ORDER = {"test_correctness.py": 0, "test_speed.py": 1, "test_sbc.py": 2, "test_scaling.py": 3}


def pytest_addoption(parser):
    group = parser.getgroup("matrix", "version-matrix suites")
    group.addoption("--plan", help="run plan written by the nox session (row, tiers, known failures)")
    group.addoption("--tier", help="tier of matrix.toml: smoke, quick, timeline or full (default full)")
    group.addoption("--quick", action="store_true", help="the quick tier (--tier quick)")
    group.addoption("--models", action="append", default=[], metavar="DIR", help="add every model defined in DIR")
    group.addoption("--model", action="append", default=[], metavar="NAME", help="run only this model (repeatable)")
    group.addoption("--backend", action="append", default=[], metavar="NAME", help="run only this backend (repeatable)")
    group.addoption("--results-dir", default=str(REPO_ROOT / "results"), help="where results files go")
    group.addoption("--seed", type=int, default=SEED, help="base random seed of every cell")
    group.addoption("--no-speed", action="store_true", help="correctness only: skip the speed suite")
    group.addoption("--sbc", action="store_true", help="also run simulation-based calibration (slow)")
    group.addoption("--sbc-sims", type=int, default=100, help="simulations per SBC cell")
    group.addoption("--scaling", action="store_true", help="also run the scaling sweep (always on in the full tier)")
    group.addoption("--cold", action="store_true",
                    help="start every compile cache empty (a first run on a fresh machine), in a temporary folder")
    group.addoption("--jobs", type=int, default=None, metavar="N",
                    help="cells evaluated at once, each on its own cores (default: one per core on CPU rows, 1 on GPU rows)")
    group.addoption("--resume", action="store_true",
                    help="continue the latest interrupted results file of this row and tier; finished cells are kept")
    group.addoption("--costs-from", metavar="FILE", default=None,
                    help="a complete results file of this row and tier whose cell times order the cells (longest "
                         "first) and estimate the time left, before those in --results-dir (a timeline point: the "
                         "row's stored point nearest its date)")


@pytest.hookimpl(tryfirst=True)  # before pytest-benchmark reads --benchmark-json
def pytest_configure(config):
    take_interrupts()  # a cut (Ctrl-C, the end of a GPU slot) saves the results file, even in a background run
    plan_path = config.getoption("--plan")
    if not plan_path:
        raise pytest.UsageError("the suites run inside a matrix row: use `nox -s <session>` (see `nox -l`), which passes --plan")
    plan = Plan.load(Path(plan_path))
    # Cells, not files and dots: pytest itself stays quiet; the per-cell lines print unless -q was given.
    config.matrix_quiet = config.option.verbose < 0
    config.option.verbose = min(config.option.verbose, -1)
    plan.tier_name = config.getoption("--tier") or ("quick" if config.getoption("--quick") else "full")
    if plan.tier_name not in plan.tiers:
        raise pytest.UsageError(f"--tier {plan.tier_name}: no such tier in matrix.toml; tiers: {', '.join(plan.tiers)}")
    plan.model_dirs = [str(Path(d).resolve()) for d in config.getoption("--models")]
    if config.getoption("--cold"):
        plan.cold_cache = tempfile.mkdtemp(prefix="pymc-matrix-cold-")
    try:
        models = load_models(plan.model_dirs)
    except ModelLoadError as exc:
        raise pytest.UsageError(str(exc)) from None
    for option, known in (("--model", models), ("--backend", plan.row.backends)):
        unknown = [name for name in config.getoption(option) if name not in known]
        if unknown:
            raise pytest.UsageError(f"{option} {', '.join(unknown)}: not in this row; choose from {', '.join(known)}")
    config.matrix_plan = plan
    config.matrix_models = models
    config.matrix_builtin = set(load_models([]))
    config.matrix_workers = {}
    config.matrix_results = None
    config.matrix_scheduler = None
    jobs = config.getoption("--jobs")
    if jobs is not None and jobs < 1:
        raise pytest.UsageError(f"--jobs {jobs}: give at least 1")
    config.matrix_cores = CoreSets(jobs or default_jobs(plan.row.on_gpu))
    if not config.option.collectonly:
        config.matrix_results = open_results(config, plan)
        if getattr(config.option, "benchmark_json", "absent") is None:
            config.option.benchmark_json = benchmark_json(config, config.matrix_results.path.with_suffix(".benchmark.json"))


def benchmark_json(config, path):
    """--benchmark-json as the installed pytest-benchmark parses it: a path in some releases, an open file in
    others (the H100 node's failed to save a path at the end of its run), so let its own option parse it."""
    return config._parser.parse_known_args([f"--benchmark-json={path}"]).benchmark_json


def open_results(config, plan):
    """A new results file, or with --resume the latest unfinished one of this row and tier."""
    results_dir = Path(config.getoption("--results-dir"))
    if config.getoption("--resume"):
        folder = results_dir / plan.row.id
        unfinished = [p for p in sorted(folder.glob(f"*-{plan.tier.name}.json")) if not json.loads(p.read_text()).get("complete")]
        if unfinished:
            return ResultsFile.resume(unfinished[-1], timed=not config.getoption("--no-speed"))
    return ResultsFile(results_dir, plan)


def selected_cells(config):
    """The row's cells this run samples: the tier's built-in models (every one where the tier lists none)
    and every model of --models, narrowed by --model and --backend."""
    only_models, only_backends = config.getoption("--model"), config.getoption("--backend")
    tier_models = config.matrix_plan.tier.models
    for name, model in config.matrix_models.items():
        if only_models and name not in only_models:
            continue
        if not only_models and tier_models is not None and name in config.matrix_builtin and name not in tier_models:
            continue
        for backend in config.matrix_plan.row.backends:
            if not only_backends or backend in only_backends:
                yield model, backend


def pytest_generate_tests(metafunc):
    if "cell" in metafunc.fixturenames:
        cells = list(selected_cells(metafunc.config))
        metafunc.parametrize("cell", cells, ids=[f"{m.name}-{b}" for m, b in cells])
    if "backend_only" in metafunc.fixturenames:
        backends = sorted({b for _, b in selected_cells(metafunc.config)})
        metafunc.parametrize("backend_only", backends, ids=[f"scaling-{b}" for b in backends])


def pytest_collection_modifyitems(config, items):
    """Cell by cell: each cell's correctness test, then its speed test (which reuses the worker). The cells
    that took longest in the last complete run of this row and tier here go first (cells new to it before
    them), so two cells side by side do not end the run with one core idle behind the slowest cell."""
    dropped = {"test_speed.py"} if config.getoption("--no-speed") else set()
    if not config.getoption("--sbc"):
        dropped.add("test_sbc.py")
    if not (config.getoption("--scaling") or config.matrix_plan.tier.name == "full"):
        dropped.add("test_scaling.py")
    items[:] = [item for item in items if item.path.name not in dropped]
    position = {id(item): i for i, item in enumerate(items)}
    parts = last_cell_seconds(config)

    def cell_order(item):
        if not hasattr(item, "callspec"):
            return (0.0, "")
        if "cell" not in item.callspec.params:
            return (0.0, item.callspec.id)
        model, backend = item.callspec.params["cell"]
        return (-sum(parts.get((model.name, backend), (float("inf"),))), item.callspec.id)

    items.sort(key=lambda item: (
        item.path.name == "test_scaling.py",  # the sweep runs last, after every cell
        cell_order(item), SUITE_ORDER.get(item.path.name, 9), position[id(item)]
    ))
    last_test = {item.callspec.id: item.nodeid for item in items
                 if hasattr(item, "callspec") and "cell" in item.callspec.params}  # the last test of each cell
    config.matrix_cell_done = {nodeid: cell_id for cell_id, nodeid in last_test.items()}
    running = {(item.callspec.params["cell"][0].name, item.callspec.params["cell"][1]) for item in items
               if hasattr(item, "callspec") and "cell" in item.callspec.params}
    # each part as the wall time it adds: evaluations run `size` at a time, speed rounds too unless alone
    at_once, rounds_at_once = config.matrix_cores.size, 1 if times_alone(config) else config.matrix_cores.size
    config.matrix_progress = Progress(total=len(last_test), expected={
        key: (evaluation / at_once, rounds / rounds_at_once) for key, (evaluation, rounds) in parts.items() if key in running})


def pytest_collection_finish(session):
    config = session.config
    if config.option.collectonly or not hasattr(config, "matrix_progress"):
        return
    plan, total = config.matrix_plan, config.matrix_progress.total
    config.matrix_cell_order = [(item.callspec.params["cell"][0].name, item.callspec.params["cell"][1])
                                for item in session.items if item.path.name == "test_correctness.py"]
    fresh = f" ({clock(plan.tier.fresh_budget_s)} on a fresh machine)" if plan.tier.fresh_budget_s else ""
    budget = f"; budget {clock(plan.tier.budget_s)} for the row on 2 cores{fresh}" if plan.tier.budget_s else ""
    expected, source = expected_seconds(config)
    guess = f"; expected ~{clock(expected)} (from {source})" if expected else ""
    cores = config.matrix_cores
    side_by_side = f", {cores.size} at a time on {cores.cores_per_cell()} core(s) each" if cores.pinned else ""
    session.config.pluginmanager.get_plugin("terminalreporter").write_line(
        f"row {plan.row.id}, tier {plan.tier.name}: {total} cell{'' if total == 1 else 's'}{side_by_side}{budget}{guess}")


def complete_runs(config):
    """The complete results files of this row: --costs-from first, then those in --results-dir, newest
    first, as (path, payload)."""
    folder = Path(config.getoption("--results-dir")) / config.matrix_plan.row.id
    given = [Path(config.getoption("--costs-from"))] if config.getoption("--costs-from") else []
    for path in given + (sorted(folder.glob("*.json"), reverse=True) if folder.is_dir() else []):
        if path.name.endswith(".benchmark.json"):
            continue
        try:
            payload = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if payload.get("complete") and payload.get("row") == config.matrix_plan.row.id:
            yield path, payload


def last_cell_seconds(config):
    """{(model, backend): (evaluation, speed rounds)}: the seconds each cell took in the last complete run of
    this row and tier here; empty without one."""
    def rounds(cell):  # the rounds, gradient timing and memory (recorded since measurement version 6), or a round
        speed = cell.get("speed") or {}
        return speed.get("wall_s") or (speed.get("warm_wall_s") or {}).get("median") or 0

    for _, payload in complete_runs(config):
        if payload.get("tier") == config.matrix_plan.tier.name:
            return {(c["model"], c["backend"]): ((c.get("timings") or {}).get("cell_wall_s") or 0, rounds(c))
                    for c in payload["cells"]}
    return {}


def times_alone(config):
    """Whether the session times each cell's speed rounds alone (the tier asks it, speed runs, cores are pinned)."""
    return config.matrix_plan.tier.speed_alone and not config.getoption("--no-speed") and config.matrix_cores.pinned


def expected_seconds(config):
    """(seconds, source) the selected cells took in the latest complete run of this row and tier in
    --results-dir; without one, the latest complete run of another tier, scaled by the draws per chain
    (tuning included) of the two tiers. (None, None) when the folder has no complete run of the row."""
    tier = config.matrix_plan.tier
    wanted = {(m.name, b) for m, b in selected_cells(config)}
    fallback = (None, None)
    for _, payload in complete_runs(config):
        seconds = run_seconds(payload, wanted)
        if not seconds:
            continue
        if payload["tier"] == tier.name:
            return seconds, f"the last complete {tier.name} run here"
        if fallback[0] is None:
            other = payload["tier_settings"]
            scale = (tier.tune + tier.draws) / max(other["tune"] + other["draws"], 1)
            fallback = (seconds * scale, f"the last complete {payload['tier']} run here, scaled by draws: a rough guess")
    return fallback


@pytest.hookimpl(hookwrapper=True)
def pytest_report_teststatus(report, config):
    """Cells, not dots: the per-cell progress line replaces pytest's letter for each test."""
    outcome = yield
    category, _, verbose_word = outcome.get_result()
    outcome.force_result((category, "", verbose_word))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    yield
    config = item.config
    if item.nodeid not in getattr(config, "matrix_cell_done", {}) or config.matrix_results is None:
        return
    model, backend = item.callspec.params["cell"]
    record = next((c for c in config.matrix_results.payload["cells"]
                   if (c["model"], c["backend"]) == (model.name, backend)), None)
    if record is None:
        return
    say(config, config.matrix_progress.finished(record, skipped=record["status"] in SKIPPED))


def say(config, line):
    """One progress line on the terminal, unless -q. Inside a test pytest captures the output, so the
    capture is lifted for the line (as pytest's live logging does); called on the session thread only."""
    if config.matrix_quiet:
        return
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        config.pluginmanager.get_plugin("terminalreporter").write_line(line)


@pytest.fixture(scope="session")
def plan(pytestconfig):
    return pytestconfig.matrix_plan


@pytest.fixture(scope="session")
def seed(pytestconfig):
    return pytestconfig.getoption("--seed")


@pytest.fixture(scope="session")
def speed_enabled(pytestconfig):
    return not pytestconfig.getoption("--no-speed")


@pytest.fixture(scope="session")
def workers(pytestconfig):
    """Live cell workers handed from a correctness test to the speed test of the same cell."""
    live = pytestconfig.matrix_workers
    yield live
    for worker in live.values():
        worker.close()


@pytest.fixture(scope="session")
def scheduler(pytestconfig, plan, seed, results_file, speed_enabled):
    """Evaluates the run's cells ahead of their tests, side by side on their own cores (harness.worker.scheduler).
    Cells a --resume finds recorded are not evaluated again."""
    models = pytestconfig.matrix_models
    keys = [key for key in pytestconfig.matrix_cell_order if results_file.recorded(*key) is None]

    cores = pytestconfig.matrix_cores
    alone = times_alone(pytestconfig)

    def run(key, cpus):
        return evaluate(plan, models[key[0]], key[1], seed, keep_worker=speed_enabled, cpus=cpus)

    def evaluated(key, result):  # its finished line waits for the look-ahead's speed rounds: say it sampled
        cell, worker = result
        if "runs" in cell:
            say(pytestconfig, pytestconfig.matrix_progress.evaluated(cell, speed_follows=worker is not None))

    pytestconfig.matrix_scheduler = CellScheduler(keys, run, cores, lookahead=lookahead(cores.size, alone), alone=alone,
                                                  on_evaluated=evaluated if alone else None)
    yield pytestconfig.matrix_scheduler
    stop_scheduler(pytestconfig)


def stop_scheduler(config):
    """Nothing outlives the session: cells evaluated ahead but never taken are closed, running ones killed."""
    scheduler, config.matrix_scheduler = getattr(config, "matrix_scheduler", None), None
    if scheduler is None:
        return
    kill_all(stop_new=True)  # first: a cell being evaluated must not start a worker after this
    for _, worker in scheduler.stop():
        if worker is not None:
            worker.close()


@pytest.fixture(scope="session")
def results_file(pytestconfig, plan):
    """The run's results file; the environment's fingerprint is taken at the first cell."""
    results = pytestconfig.matrix_results
    env = cell_env(plan.row, plan.cold_cache)
    cores = pytestconfig.matrix_cores
    extra = {"known_failures": [kf.to_dict() for kf in plan.known_failures], "install": plan.install,
             "seed": pytestconfig.getoption("--seed"), "cell_env": env,
             "cells_at_once": cores.size, "cores_per_cell": cores.cores_per_cell()}
    results.set_fingerprint(fingerprint(extra, env=env))
    return results


@pytest.fixture(scope="session")
def outcome():
    """`outcome(record)` turns a cell's status into the pytest outcome. A fixture, not an import: a user's
    models folder inside another test tree would put that tree's conftest first on sys.path."""
    return report


def report(record):
    """Turn a cell's status into the pytest outcome: pass, xfail, skip or fail."""
    status, reason = record["status"], record.get("reason")
    if status == PASSED:
        return
    if status == KNOWN_FAILURE:
        pytest.xfail(reason)
    if status in SKIPPED:
        pytest.skip(f"{status}: {reason}")
    assert status in BROKEN, status
    pytest.fail(f"{status}: {reason}", pytrace=False)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """First of every plugin's: the cells stop and the results file is finished before pytest-benchmark
    saves its JSON."""
    stop_scheduler(session.config)  # an interrupted run: before anything else
    drop_untimed_benchmarks(session.config)
    finish_results(session, exitstatus)
    yield


def drop_untimed_benchmarks(config):
    """A speed round an interruption cut off (the end of a GPU slot) leaves pytest-benchmark a benchmark
    without one timing, which it cannot save (ValueError from min() of nothing: a traceback at the end of
    the run). Left out; the cell is sampled and timed again on --resume (ResultsFile.resume)."""
    benchmarks = getattr(getattr(config, "_benchmarksession", None), "benchmarks", None)
    if benchmarks is not None:
        benchmarks[:] = [bench for bench in benchmarks if getattr(getattr(bench, "stats", None), "data", True)]


def finish_results(session, exitstatus):
    results = getattr(session.config, "matrix_results", None)
    if results is None:
        return
    if not results.payload["cells"] and results.payload["fingerprint"] is None:
        results.path.unlink()  # nothing ran (e.g. a usage error): leave no empty file behind
        session.config.matrix_results = None
        return
    expected = sum(1 for item in session.items if item.path.name == "test_correctness.py")
    complete = exitstatus != pytest.ExitCode.INTERRUPTED and len(results.payload["cells"]) == expected
    results.finish(complete=complete)


def pytest_unconfigure(config):
    plan = getattr(config, "matrix_plan", None)
    if plan is not None and plan.cold_cache:
        shutil.rmtree(plan.cold_cache, ignore_errors=True)  # a --cold run's caches: gigabytes over a backfill


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    results = getattr(config, "matrix_results", None)
    if results is None:
        return
    payload = results.payload
    terminalreporter.write_sep("=", f"matrix row {payload['row']} ({payload['session']}), tier {payload['tier']}")
    if not config.matrix_quiet:
        terminalreporter.write_line(summary_table(payload["cells"]))
    elapsed = time.monotonic() - config.matrix_progress.started if hasattr(config, "matrix_progress") else 0.0
    for line in closing_lines(payload["cells"], results.path, elapsed):
        terminalreporter.write_line(line)
