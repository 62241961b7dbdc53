"""Sessions of the version matrix: one per row of matrix.toml, plus the harness's own tests.

    nox -l                                   list sessions
    nox -s "cpu(pymc='6')" -- --quick        one row, quick tier
    nox -s legacy -- --model radon           one row, full tier, one model

MATRIX_TOML=other.toml nox -l reads another matrix file (the tests use this).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import nox
from packaging.version import Version

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from harness.common import devices  # noqa: E402
from harness.common.environment import THREAD_ENV  # noqa: E402
from harness.common.matrix import Matrix, MatrixError, Row, distribution, load  # noqa: E402
from harness.common.plan import Plan, row_plan, suite_command  # noqa: E402
from harness.host import bisection, install, locks  # noqa: E402
from harness.host.uv import UvMissing, uv_command  # noqa: E402

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True
# Every environment is installed with its bytecode compiled, as pip does by default and uv does not. Where
# PYTHONDONTWRITEBYTECODE is set (this project's machines set it), no import ever caches bytecode, so every
# fresh process (a cell, a timing probe) compiled pymc, arviz and scipy from source again: `import pymc` took
# 17 s, against 1.3 s compiled (cpu-pymc5 as locked, 2026-11-27).
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")

install.expose_interpreters()
MATRIX_PATH = os.environ.get("MATRIX_TOML", str(ROOT / "matrix.toml"))
try:
    MATRIX: Matrix = load(MATRIX_PATH)
except MatrixError as exc:
    sys.exit(f"nox: {exc}")

PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
SUITE_REQUIREMENTS = PYPROJECT["project"]["optional-dependencies"]["suite"]
RECORDING_REQUIREMENTS = SUITE_REQUIREMENTS + PYPROJECT["project"]["optional-dependencies"]["recording"]
TEST_REQUIREMENTS = PYPROJECT["project"]["optional-dependencies"]["test"]
ASV_REQUIREMENTS = PYPROJECT["project"]["optional-dependencies"]["asv"]
ASV_DEFAULT_ROWS = ["cpu-pymc5", "cpu-pymc6"]
# The row the reference posteriors and the gradient sweep run in; a matrix file without it (MATRIX_TOML)
# still lists its sessions, and those two stop with a one-line error.
HOME_ROW = "cpu-pymc6"
HOME_PYTHON = MATRIX.rows[HOME_ROW].python if HOME_ROW in MATRIX.rows else None


def home_row(session: nox.Session) -> Row:
    if HOME_ROW not in MATRIX.rows:
        session.error(f"{MATRIX_PATH}: no row {HOME_ROW!r}; the {session.name} session runs in it")
    return MATRIX.rows[HOME_ROW]
# The models asv benchmarks, by tier; the plan carries them to the benchmarks (None: every model in models/).
# Quick takes two, enough to follow every backend without an hour per row.
ASV_MODELS = {"quick": ["conjugate", "eight_schools"], "full": None}


# Session options (after --) that the noxfile consumes; everything else goes to pytest.
FORCE_INSTALL = "--force-install"  # install a GPU row's wheels even where no GPU of its kind is found
AS_OF = "--as-of"  # --as-of DATE: the row's packages, unpinned, as the index stood at the end of DATE (UTC)
LATEST = "--latest"  # --as-of today: the newest release of every package the row names, not its lock or pins
UNLOCKED = "--unlocked"  # the row's pins, not its lock file
NOX_OPTIONS = (FORCE_INSTALL, UNLOCKED)  # AS_OF (with its date) and LATEST: install.split_as_of


def require_uv(session: nox.Session) -> None:
    """Sessions that build environments of their own call uv; say how to get it rather than a traceback."""
    try:
        uv_command()
    except UvMissing as exc:
        session.error(str(exc))


def run_row(session: nox.Session, row: Row) -> None:
    """Install the row, record what it resolved to, run the correctness and speed suites over every cell."""
    session.log(f"row {row.id}: python {row.python}, {row.device}, backends {', '.join(row.backends)}")
    try:
        as_of, posargs = install.split_as_of(session.posargs, AS_OF, LATEST)
    except ValueError as exc:
        session.error(str(exc))
    if as_of and UNLOCKED in posargs:
        session.error(f"{AS_OF} (or {LATEST}) and {UNLOCKED} exclude each other: a date's releases or the row's pins")
    posargs = [arg for arg in posargs if arg not in NOX_OPTIONS]
    device_missing = None if FORCE_INSTALL in session.posargs else devices.missing_reason(row.device)
    if device_missing:
        session.warn(f"row {row.id}: {device_missing}; recording every cell as device-missing ({FORCE_INSTALL} installs anyway)")
        install.install_requirements(session, RECORDING_REQUIREMENTS)
        unavailable, record, versions = {}, {"mode": "none: device missing", **({"as_of": as_of} if as_of else {})}, {}
    else:
        mode = "pinned" if UNLOCKED in session.posargs else "locked"
        unavailable, record = install.install_row(session, row, SUITE_REQUIREMENTS, RECORDING_REQUIREMENTS, mode, as_of)
        versions = install.show_versions(session, list(row.packages))
    plan = row_plan(MATRIX, row, unavailable, device_missing, dict(record, resolved=versions))
    plan_path = plan.save(Path(session.create_tmp()) / "plan.json")
    session.run(*suite_command("python", plan_path, posargs), env={"PYTHONPATH": str(ROOT)})
    if device_missing:
        session.skip(f"device-missing: {device_missing}")


# The tag of the row sessions the timeline can replay as of a date: the pymc rows. The legacy stack
# (pymc3 + Theano-PyMC) is frozen, and as of a late date its names resolve to releases that never ran together.
AS_OF_TAG = "as-of"


def _row_tags(row: Row) -> list[str]:
    return [row.id] + ([AS_OF_TAG] if row.api == "pymc" else [])


def _define_row_sessions() -> None:
    for name, rows in MATRIX.sessions().items():
        python = sorted({row.python for row in rows})
        if len(python) != 1:  # nox parametrizes the arguments, not the interpreter, of one session name
            sys.exit(f"nox: matrix.toml: rows of session {name!r} ask for different pythons {python}; give them separate sessions")
        docs = f"Install and run matrix.toml row{'s' if len(rows) > 1 else ''} {', '.join(r.id for r in rows)}."
        if rows[0].pymc is None:
            def session_fn(session: nox.Session, _row: Row = rows[0]) -> None:
                run_row(session, _row)
        else:
            def session_fn(session: nox.Session, pymc: str, _session: str = name) -> None:
                run_row(session, MATRIX.row_for_session(_session, pymc))
            params = [nox.param(row.pymc, tags=_row_tags(row)) for row in rows]
            session_fn = nox.parametrize("pymc", params)(session_fn)
        session_fn.__doc__ = docs
        tags = {name, *(row.device for row in rows), *(_row_tags(rows[0]) if rows[0].pymc is None else ())}
        nox.session(name=name, python=python[0], tags=sorted(tags))(session_fn)


_define_row_sessions()


@nox.session
def tests(session: nox.Session) -> None:
    """Test the harness: fast unit tests, then one real quick session end to end."""
    session.install(*TEST_REQUIREMENTS)
    session.run("python", "-m", "pytest", "tests", *session.posargs, env={"PYTHONPATH": str(ROOT)})


@nox.session(python=HOME_PYTHON, default=False)
def reference(session: nox.Session) -> None:
    """Regenerate reference posteriors: nox -s reference -- MODEL [MODEL ...] (in the HOME_ROW row)."""
    if not session.posargs:
        session.error("name the models: nox -s reference -- radon ppca")
    row = home_row(session)
    if install.install_row(session, row, SUITE_REQUIREMENTS, RECORDING_REQUIREMENTS)[0]:
        session.error(f"row {row.id} does not install here; references need it")
    install.show_versions(session, list(row.packages))
    session.run("python", "-m", "harness.worker.reference", *session.posargs, env={"PYTHONPATH": str(ROOT), **THREAD_ENV})


@nox.session(default=False)
def lock(session: nox.Session) -> None:
    """Resolve rows into hashed lock files under locks/ (-- [ROW ...]; default every row)."""
    require_uv(session)
    wanted = session.posargs or list(MATRIX.rows)
    failed = []
    for row_id in wanted:
        if row_id not in MATRIX.rows:
            session.error(f"lock: no row {row_id!r} in matrix.toml; rows: {', '.join(MATRIX.rows)}")
        reason = locks.make_lock(session, MATRIX.rows[row_id], SUITE_REQUIREMENTS)
        if reason:
            session.warn(f"lock: row {row_id} cannot be locked: {reason}")
            failed.append(row_id)
        else:
            session.log(f"lock: locks/{row_id}.txt")
    if failed and len(failed) == len(wanted):
        session.error(f"lock: no row could be locked ({', '.join(failed)})")


@nox.session(default=False)
def asv(session: nox.Session) -> None:
    """Benchmark history: asv inside each CPU row's environment, then publish (-- [--quick] [ROW ...])."""
    require_uv(session)
    quick = "--quick" in session.posargs
    wanted = [arg for arg in session.posargs if not arg.startswith("-")] or ASV_DEFAULT_ROWS
    session.install(*ASV_REQUIREMENTS)
    commit = session.run("git", "rev-parse", "HEAD", silent=True, external=True).strip()
    for row_id in wanted:
        if row_id not in MATRIX.rows:
            session.error(f"asv: no row {row_id!r} in matrix.toml; rows: {', '.join(MATRIX.rows)}")
        row = MATRIX.rows[row_id]
        python = install.row_environment(session, row, SUITE_REQUIREMENTS + ["asv_runner"], ROOT / ".asv" / "rows")
        if python is None:
            session.warn(f"asv: row {row.id} does not install here; no benchmarks for it")
            continue
        plan = row_plan(MATRIX, row, {}, None, {"mode": "asv", "environment": python})
        plan.tier_name = "quick" if quick else "full"
        plan_json = dict(plan.to_dict(), models=ASV_MODELS[plan.tier_name])
        (ROOT / ".asv" / "plan.json").write_text(json.dumps(plan_json, indent=1))  # benchmarks/benchmarks.py reads it
        env = {"PYTHONPATH": str(ROOT), **THREAD_ENV}
        session.run("asv", "machine", "--machine", row.id, "--yes", env=env)
        session.run(
            "asv", "run", "--environment", f"existing:{python}", "--set-commit-hash", commit,
            "--machine", row.id, "--show-stderr", *(["--quick"] if quick else []),
            env=env, success_codes=[0, 2],  # 2: some benchmark failed, which the results record
        )
    session.run("asv", "publish")
    session.log(f"asv history: {ROOT / '.asv' / 'html' / 'index.html'}")


TIMELINE_WORK = ROOT / ".nox" / "timeline"  # points being measured, cached resolutions, npm assets, asv scratch
TIMELINE_SITE = ROOT / "reports" / "timeline"
REPLAY_RECORDS = ROOT / "docs" / "data" / "replay"  # the timeline replay's comparisons (timeline-replay.yml)


# venv_backend none: each point runs in its row's own session (nested nox), and nox would wipe a venv at
# .nox/timeline, where unfinished points wait
@nox.session(venv_backend="none", default=False)
def timeline(session: nox.Session) -> None:
    """The ecosystem's timeline (-- ROW ... --since DATE [--until DATE] [--every month|week|release] [--order date|spread] | --latest | --publish)."""
    from harness.host import timeline as tl

    require_uv(session)
    try:
        args = tl.parse_args(session.posargs)
    except ValueError as exc:
        session.error(f"timeline: {exc}")
    except SystemExit:  # --help, printed
        return
    history = ROOT / args.history
    if args.publish:
        return publish_timeline(session, history)
    for row_id in args.rows:
        row = MATRIX.find_row(row_id)
        if row is None:
            session.error(f"timeline: no row has session or id {row_id!r}; rows: {', '.join(MATRIX.rows)}")
        if AS_OF_TAG not in _row_tags(row):
            replayable = ", ".join(r.id for r in MATRIX.rows.values() if AS_OF_TAG in _row_tags(r))
            session.error(f"timeline: row {row.id} ({row.api}) is a frozen stack, not replayed as of dates; "
                          f"the timeline's rows: {replayable}")
        resolutions = tl.Resolutions(row, TIMELINE_WORK / row.id / "resolutions.json")
        try:
            points = ([tl.latest_point(row, args.since, resolutions, history)] if args.latest else
                      tl.choose_points(row, args.since, args.until, args.every, resolutions))
        except RuntimeError as exc:
            session.error(f"timeline: {exc}")
        if args.order == "spread":
            points = tl.spread(points)  # what changed is still told against the point before in date order
        if args.list:
            print(json.dumps([{"date": p.date, "changed": p.changed} for p in points]))
            continue

        def run_point(point: tl.Point, stage: Path, resume: bool, _row: Row = row) -> None:
            nearest = tl.nearest_stored(history, _row.id, point.date)
            session.run(sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "-s", _row.session_name, "--",
                        # --cold: every point compiles from scratch, so its compile times never depend on
                        # which other dates this machine measured before
                        AS_OF, point.date, "--tier", "timeline", "--cold", f"--results-dir={stage}",
                        *([f"--costs-from={nearest}"] if nearest else []),
                        *(["--resume"] if resume else []), *args.suite, external=True, success_codes=[0, 1])

        variant = hashlib.sha1(" ".join(args.suite).encode()).hexdigest()[:8] if args.suite else ""
        tl.backfill(row, points, history, TIMELINE_WORK, run_point, session.log, args.latest, variant)


def publish_timeline(session: nox.Session, history: Path) -> None:
    """asv's HTML per row and the report, from the stored points alone (and the replay's comparisons, which
    tell a checked chance failure from a break), under reports/timeline/."""
    from harness.host import timeline_site as site

    rows = sorted(p.name for p in history.glob("*") if any(p.glob("*.json"))) if history.is_dir() else []
    if not rows:
        session.error(f"timeline: no stored points under {history}; measure some: nox -s timeline -- ROW --since DATE")
    venv = TIMELINE_WORK / "asv-venv"  # asv runs here, not in the machine's Python
    if not (venv / "bin" / "asv").exists():
        session.run(*uv_command(), "venv", "--quiet", str(venv), external=True)
        session.run(*uv_command(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
                    *ASV_REQUIREMENTS, external=True)
    vendored = site.npm_files(TIMELINE_WORK / "vendor", session.run)
    shutil.rmtree(TIMELINE_SITE, ignore_errors=True)
    for row_id in rows:
        html = TIMELINE_SITE / "asv" / row_id
        config = site.scratch_project(history, row_id, TIMELINE_WORK / "asv" / row_id, html)
        session.run(str(venv / "bin" / "asv"), "publish", "--config", str(config), external=True)
        site.vendor(html, vendored)
    checked = [str(REPLAY_RECORDS)] if REPLAY_RECORDS.is_dir() else []
    session.run(sys.executable, "-m", "harness.host.report", str(history), *checked, "--out", str(TIMELINE_SITE),
                "--run-id", "report", env={"PYTHONPATH": str(ROOT)}, external=True)
    session.log(f"timeline site: {site.index_page(TIMELINE_SITE, rows)}")


@nox.session(venv_backend="none", default=False)
def report(session: nox.Session) -> None:
    """Reports and regressions from results files (-- [FILES] [--baseline A --candidate B] [--fail-on-regression])."""
    session.run("python", "-m", "harness.host.report", *session.posargs, env={"PYTHONPATH": str(ROOT)})


@nox.session(default=False)
def bisect(session: nox.Session) -> None:
    """Find the release of a package that broke cells (-- PACKAGE --session S [--backend B] [--model M])."""
    require_uv(session)
    try:
        args = bisection.parse_args(session.posargs)
    except SystemExit as exc:
        if exc.code == 0:  # --help, printed
            return
        session.error('usage: nox -s bisect -- PACKAGE --session "cpu(pymc=\'6\')" [--backend B] [--model M] [--good V] [--bad V]')
    row = MATRIX.find_row(args.session)
    if row is None:
        session.error(f"bisect: no row has session or id {args.session!r}; see `nox -l`")
    interpreter = install.find_interpreter(row.python)
    if interpreter is None:
        session.error(f"bisect: row {row.id} needs python{row.python}, which is not on PATH or in pyenv")
    try:
        versions = bisection.released_versions(bisection.index_listing(args.package, interpreter))
    except bisection.BisectError as exc:
        session.error(f"bisect: {exc}")
    pinned = {distribution(name): version for name, version in row.packages.items()}.get(args.package)
    bad = Version(args.bad or pinned or str(versions[-1]))
    workdir = ROOT / ".nox" / "bisect"
    selection = [f"--model={m}" for m in (args.model or ["conjugate"])] + [f"--backend={b}" for b in args.backend]

    def probe(version: Version) -> str:
        name = next((n for n in row.packages if distribution(n) == args.package), args.package)
        probe_row = dataclasses.replace(row, id=f"{row.id}-{args.package}-{version}", packages={**row.packages, name: str(version)})
        python = install.row_environment(session, probe_row, SUITE_REQUIREMENTS, workdir / "envs")
        if python is None:
            return bisection.SKIP
        results_dir = workdir / "results" / probe_row.id
        plan_path = workdir / f"{probe_row.id}.plan.json"
        Plan(row=probe_row, tiers=dict(MATRIX.tiers), install={"mode": "bisect probe"}).save(plan_path)
        session.run(python, "-m", "pytest", "suites", "-p", "no:cacheprovider", "-q", "--tb=no", f"--plan={plan_path}",
                    "--quick", "--no-speed", f"--results-dir={results_dir}", *selection,
                    env={"PYTHONPATH": str(ROOT)}, external=True, success_codes=[0, 1])
        verdict, detail = bisection.verdict_of(max(results_dir.glob("*/*.json"), key=lambda p: p.stat().st_mtime))
        session.log(f"bisect: {args.package} {version}: {detail}")
        return verdict

    try:
        good, first_bad = bisection.search(versions, bad, probe, Version(args.good) if args.good else None, log=session.log)
    except bisection.BisectError as exc:
        session.error(f"bisect: {exc}")
    session.log(f"bisect: {args.package} on {row.session_name}: last good {good}, first bad {first_bad}")


@nox.session(venv_backend="virtualenv", default=False)  # virtualenv: the session's venv has the pip that downloads
def wheelhouse(session: nox.Session) -> None:
    """A row's locked wheels for an air-gapped GPU node, less what it has (-- ROW --have FILE [--out DIR] [--max-mb 64])."""
    from harness.host import wheelhouse as houses

    try:
        args = houses.parse_args(session.posargs)
        row = MATRIX.find_row(args.row)
        if row is None:
            session.error(f"wheelhouse: no row has session or id {args.row!r}; rows: {', '.join(MATRIX.rows)} (see `nox -l`)")
        manifest = houses.build(row, args, SUITE_REQUIREMENTS, [str(Path(session.bin) / "python"), "-m", "pip"],
                                log=session.log, warn=session.warn)
    except houses.WheelhouseError as exc:
        session.error(f"wheelhouse: {exc}")
    session.log(f"wheelhouse: manifest {manifest}")


@nox.session(python=HOME_PYTHON, default=False)
def sweep(session: nox.Session) -> None:
    """Gradient sweep, GPU vs CPU, in a row's environment (-- [--row ROW] OUT.json [sweep options]; default cpu-pymc6)."""
    args, row_id = list(session.posargs), home_row(session).id
    if "--row" in args:  # the session's own option; the rest goes to the sweep
        at = args.index("--row")
        row_id = args[at + 1] if at + 1 < len(args) else ""
        del args[at:at + 2]
    row = MATRIX.find_row(row_id)
    if row is None or row.python != HOME_PYTHON:
        session.error(f"sweep: no python {HOME_PYTHON} row has session or id {row_id!r} (see `nox -l`)")
    if install.install_row(session, row, SUITE_REQUIREMENTS, RECORDING_REQUIREMENTS)[0]:
        session.error(f"row {row.id} does not install here; the sweep needs it")
    install.show_versions(session, list(row.packages))
    session.run("python", "-m", "harness.worker.sweep", *args, env={"PYTHONPATH": str(ROOT)})


@nox.session(venv_backend="none", default=False)
def compare(session: nox.Session) -> None:
    """A/B on one machine: status, speed ratio with interval and verdict (-- ROW --baseline A --candidate B [--model M] [--backend B])."""
    require_uv(session)
    from harness.host import compare as comparing

    if session.posargs[:1] == ["--changepoints"]:  # -- --changepoints [RESULTS ...]: change points over the series
        comparing.run_changepoints(session, session.posargs[1:])
        return
    comparing.run_session(session, MATRIX, SUITE_REQUIREMENTS, RECORDING_REQUIREMENTS)
