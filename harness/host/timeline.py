"""The ecosystem's timeline: a row measured as of many dates, each point stored as history/<row>/<date>.json.

    nox -s timeline -- ROW [ROW ...] --since DATE [--until DATE] [--every week|month|release]
    nox -s timeline -- ROW [ROW ...] --latest        one point as of today; stored when it brings a release
    nox -s timeline -- --publish                     asv site and report over the stored points

Which dates are points (`--every`, default month): each first of the month or each Monday from --since to
--until (default today), or `release`, each date on which one of the row's own packages published a
release. Release dates are found without installing: the row's dated requirements resolve
(`uv pip compile --exclude-newer`) every seventh day, and in each week whose resolution changed, halving
finds the first day of each change. Resolutions are cached (.nox/timeline/<row>/resolutions.json: the
index's past does not move). Nightly builds (a distribution named *-nightly; tfp-nightly publishes almost
daily) never make a point: they resolve as of each point's date, and a date whose row packages resolve as
at the previous point, nightly builds aside, is not run.

A point is the row installed as of its date in the row's own nox session (a nested `nox -s SESSION --
--as-of DATE --tier timeline`, into .nox/timeline/<row>/<date>/), then stored: the results file plus
`measurement_version` (harness.common.measurement) and `timeline` (date and resolution). A stored point of
the current measurement version is never redone; an interrupted point continues with the suite's --resume.
Nothing else is kept between runs, so a backfill split over CI jobs by date range needs no scheduler.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from harness.common.matrix import distribution
from harness.common.measurement import MEASUREMENT_VERSION
from harness.host.install import _checked_date, _name, exclude_newer, not_released
from harness.host.uv import INSTALL_TIMEOUT_S, resolver_reason, uv_command

EVERY = ("month", "week", "release")
ORDERS = ("date", "spread")  # spread: the ends, then the middles, so a cut-short backfill still covers its range
PARALLEL_RESOLVES = 4  # uv pip compile waits on the index, not the CPU
Resolution = Dict[str, str]


def is_nightly(name: str) -> bool:
    return _name(name).endswith("-nightly")


def parse_args(argv: Sequence[str], today: Optional[datetime.date] = None) -> argparse.Namespace:
    """The session's options; ValueError with one line for a mistake."""
    # no automatic -h: the options it does not know go to each point's suite, so it tells its own apart
    parser = argparse.ArgumentParser(prog="nox -s timeline --", add_help=False,
                                     epilog="Other options (--model radon, --backend pymc-c, -x) go to each point's suite.")
    parser.add_argument("rows", nargs="*", help="row ids or sessions: cpu-pymc5, \"cpu(pymc='6')\"")
    parser.add_argument("--since", help="the first date (always a point)")
    parser.add_argument("--until", help="the last date (default today)")
    parser.add_argument("--every", default="month", help=f"{' | '.join(EVERY)} (default month)")
    parser.add_argument("--order", default="date", help=f"{' | '.join(ORDERS)}: oldest first, or ends then gaps")
    parser.add_argument("--latest", action="store_true", help="one point as of today, stored if a package moved")
    parser.add_argument("--publish", action="store_true", help="the asv site and the report from the stored points")
    parser.add_argument("--list", action="store_true", help="print the points (date, what changed) as JSON; run none")
    parser.add_argument("--history", default="history", help="where points are stored (default history/)")
    parser.add_argument("-h", "--help", action="store_true", help="this message")
    args, suite = parser.parse_known_args(list(argv))
    if args.help:
        parser.print_help()
        raise SystemExit(0)
    args.suite = suite  # the rest goes to each point's suite (--model radon, -x)
    today = today or datetime.datetime.now(datetime.timezone.utc).date()
    if args.every not in EVERY:
        raise ValueError(f"--every {args.every!r}: choose one of {', '.join(EVERY)}")
    if args.order not in ORDERS:
        raise ValueError(f"--order {args.order!r}: choose one of {', '.join(ORDERS)}")
    if args.publish:
        return args
    if not args.rows:
        raise ValueError("name the rows: nox -s timeline -- cpu-pymc5 --since 2024-06-01 (or --latest, or --publish)")
    if args.latest and (args.since or args.until):
        raise ValueError("--latest is one point as of today; leave out --since/--until")
    if args.latest:
        args.since = args.until = str(today)
    elif not args.since:
        raise ValueError("--since DATE is missing: nox -s timeline -- ROW --since 2024-06-01 [--until DATE]")
    args.since = _checked_date(args.since, "--since")
    args.until = _checked_date(args.until or str(today), "--until")
    if args.until < args.since:
        raise ValueError(f"--until {args.until} is before --since {args.since}; swap them")
    if args.until > str(today):
        raise ValueError(f"--until {args.until} is after today ({today}); the index has no releases from the future")
    return args


# ----------------------------------------------------------------------------------------- resolutions


def resolve(row, date: str) -> Resolution:
    """{distribution: version} the row's dated requirements resolve to as of `date` (uv pip compile); a
    package not released by then is left out, as a session as of that date leaves it out."""
    requirements = list(row.dated_requirements)
    while True:
        cmd = uv_command() + ["pip", "compile", "-", "--quiet", "--no-header", "--no-annotate",
                              "--python-version", row.python, "--exclude-newer", exclude_newer(date)]
        for link in row.find_links:
            cmd += ["--find-links", link]
        if row.index_url:
            cmd += ["--extra-index-url", row.index_url]
        proc = subprocess.run(cmd, input="\n".join(requirements) + "\n", capture_output=True, text=True,
                              timeout=INSTALL_TIMEOUT_S)
        if proc.returncode == 0:
            pins = (line.split("==") for line in proc.stdout.splitlines() if "==" in line and not line.startswith("#"))
            return {_name(name): version.split(";")[0].strip() for name, version in pins}
        culprit = not_released(proc.stderr + proc.stdout, requirements)
        if culprit is None:
            raise RuntimeError(f"row {row.id} as of {date} does not resolve: {resolver_reason(proc.stderr + proc.stdout)}")
        requirements.remove(culprit)
        if not requirements:
            return {}


class Resolutions:
    """resolve() with a cache on disk, safe to call from threads."""

    def __init__(self, row, path: Path, resolver: Callable[[Any, str], Resolution] = resolve):
        self.row, self.path, self.resolver, self.lock = row, Path(path), resolver, threading.Lock()
        self.known: Dict[str, Resolution] = json.loads(self.path.read_text()) if self.path.exists() else {}

    def __call__(self, date: str) -> Resolution:
        if date not in self.known:
            found = self.resolver(self.row, date)
            with self.lock:
                self.known[date] = found
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.path.write_text(json.dumps(self.known, indent=1, sort_keys=True))
        return self.known[date]

    def many(self, dates: Sequence[str]) -> List[Resolution]:
        with ThreadPoolExecutor(PARALLEL_RESOLVES) as pool:
            return list(pool.map(self, dates))


def row_versions(row, resolution: Resolution) -> Resolution:
    """The row's own packages in a resolution, nightly builds left out: what makes a point."""
    names = [_name(distribution(name)) for name in row.packages]
    return {name: resolution[name] for name in names if name in resolution and not is_nightly(name)}


def changes(before: Optional[Resolution], after: Resolution) -> List[str]:
    """What differs, one entry per package: "pymc 5.15.1 -> 5.16.2", "blackjax 1.2.4 (new)"."""
    if before is None:
        return [f"{name} {version}" for name, version in after.items()]
    out = [f"{name} {before[name]} -> {version}" for name, version in after.items()
           if name in before and before[name] != version]
    out += [f"{name} {version} (new)" for name, version in after.items() if name not in before]
    return out + [f"{name} {version} (gone)" for name, version in before.items() if name not in after]


# ----------------------------------------------------------------------------------------------- dates


def day(date: str, offset: int = 0) -> str:
    return str(datetime.date.fromisoformat(date) + datetime.timedelta(days=offset))


def calendar_dates(since: str, until: str, every: str) -> List[str]:
    """Each first of the month (month) or each Monday (week) from since to until, since itself first."""
    dates, current = [since], datetime.date.fromisoformat(since)
    while True:
        if every == "month":
            current = (current.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
        else:
            current += datetime.timedelta(days=7 - current.weekday())
        if str(current) > until:
            return dates
        dates.append(str(current))


def release_dates(since: str, until: str, versions: Callable[[str], Resolution],
                  many: Callable[[Sequence[str]], List[Resolution]]) -> List[str]:
    """since, then each date on which the row's packages resolve otherwise than the day before."""
    probes = list(dict.fromkeys([day(since, 7 * k) for k in range(0, 10_000) if day(since, 7 * k) <= until] + [until]))
    scanned = many(probes)
    found = [since]
    for (a, va), (b, vb) in zip(zip(probes, scanned), zip(probes[1:], scanned[1:])):
        found += _first_days(a, va, b, vb, versions)
    return found


def _first_days(a: str, va: Resolution, b: str, vb: Resolution, versions: Callable[[str], Resolution]) -> List[str]:
    """The days in (a, b] whose resolution differs from the day before, by halving."""
    if va == vb:
        return []
    span = (datetime.date.fromisoformat(b) - datetime.date.fromisoformat(a)).days
    if span == 1:
        return [b]
    middle = day(a, span // 2)
    vm = versions(middle)
    return _first_days(a, va, middle, vm, versions) + _first_days(middle, vm, b, vb, versions)


@dataclass
class Point:
    date: str
    resolution: Resolution
    changed: List[str] = field(default_factory=list)  # the row's packages, against the previous point


def choose_points(row, since: str, until: str, every: str, resolutions: Resolutions,
                  before: Optional[Resolution] = None) -> List[Point]:
    """The dates to measure, each with its resolution and what changed since the point before it;
    `before`: the resolution of the point preceding `since` (the last stored one, for --latest)."""
    if every == "release":
        dates = release_dates(since, until, lambda d: row_versions(row, resolutions(d)),
                              lambda ds: [row_versions(row, r) for r in resolutions.many(ds)])
    else:
        dates = calendar_dates(since, until, every)
    points, previous = [], None if before is None else row_versions(row, before)
    for date, resolution in zip(dates, resolutions.many(dates)):
        current = row_versions(row, resolution)
        if current == previous:
            continue  # nothing but nightly builds moved
        points.append(Point(date, resolution, changes(previous, current)))
        previous = current
    return points


def spread(points: List[Point]) -> List[Point]:
    """The points in the order that covers their range soonest: the first and the last, then the middle of
    each gap, widest gaps first (0, 8, 4, 2, 6, 1, 3, 5, 7 for nine)."""
    if len(points) <= 2:
        return list(points)
    order, gaps = [0, len(points) - 1], [(0, len(points) - 1)]
    while gaps:
        width = max(b - a for a, b in gaps)
        if width < 2:
            break
        next_gaps = []
        for a, b in gaps:
            if b - a == width:
                middle = (a + b) // 2
                order.append(middle)
                next_gaps += [(a, middle), (middle, b)]
            else:
                next_gaps.append((a, b))
        gaps = next_gaps
    return [points[i] for i in order]


def latest_point(row, date: str, resolutions: Resolutions, history: Path) -> Point:
    """The point as of `date` (today, --latest), with what changed since the last stored point: nothing
    when the row's packages resolve as they did then, nightly builds aside."""
    points = stored_points(history, row.id)
    resolution = resolutions(date)
    if not points:
        return Point(date, resolution, changes(None, row_versions(row, resolution)))
    last = row_versions(row, points[-1]["timeline"].get("resolution") or {})
    return Point(date, resolution, changes(last, row_versions(row, resolution)))


# ------------------------------------------------------------------------------------------ the history


def point_path(history: Path, row_id: str, date: str) -> Path:
    return Path(history) / row_id / f"{date}.json"


def stored(history: Path, row_id: str, date: str) -> Optional[dict]:
    """The stored point of that date, if it was measured the way the harness measures now."""
    path = point_path(history, row_id, date)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if data.get("measurement_version") == MEASUREMENT_VERSION else None


def stored_points(history: Path, row_id: str) -> List[dict]:
    """Every stored point of the row, oldest first."""
    points = [json.loads(p.read_text()) for p in sorted((Path(history) / row_id).glob("*.json"))]
    return sorted((p for p in points if isinstance(p.get("timeline"), dict)), key=lambda p: p["timeline"]["date"])


def nearest_stored(history: Path, row_id: str, date: str) -> Optional[Path]:
    """The row's stored point nearest in date to `date` (any measurement version), or None: the cell times a
    point's suite orders its cells by (`--costs-from`), longest first, since a fresh point has no run of its own."""
    when, dated = datetime.date.fromisoformat(date), []
    for path in (Path(history) / row_id).glob("*.json"):
        try:
            days = abs((datetime.date.fromisoformat(path.stem) - when).days)
        except ValueError:
            continue  # not a point's file
        if days:
            dated.append((days, path.stem, path))
    return min(dated)[2] if dated else None


def store(results_path: Path, history: Path, row_id: str, point: Point) -> Path:
    """Copy a finished results file into the history with the resolution (its measurement version is its own)."""
    data = json.loads(Path(results_path).read_text())
    data["timeline"] = {"date": point.date, "resolution": point.resolution}
    path = point_path(history, row_id, point.date)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n")  # ~0.5 MB a point
    os.replace(partial, path)  # a Ctrl-C never leaves half a point
    return path


def staged_results(stage: Path) -> List[tuple[Path, bool]]:
    """(results file, complete) of a point's staging folder, oldest first: those measured the way the harness
    measures now, so a point left staged by an older harness is measured again, not resumed or relabelled."""
    out = []
    for path in sorted(Path(stage).glob("*/*.json")):
        if path.name.endswith(".benchmark.json"):
            continue
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if data.get("measurement_version") == MEASUREMENT_VERSION:
            out.append((path, data.get("complete") is True))
    return out


def point_seconds(data: dict) -> Optional[float]:
    try:
        started, finished = (datetime.datetime.fromisoformat(data[k].replace("Z", "+00:00")) for k in ("started", "finished"))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return (finished - started).total_seconds()


def eta(seconds: List[float], left: int) -> str:
    if not seconds:
        return "ETA unknown until a point finishes"
    total = int(sum(seconds) / len(seconds) * left)
    return f"ETA {total // 3600}:{total // 60 % 60:02d}:{total % 60:02d} for {left} point(s)"


def backfill(row, points: List[Point], history: Path, stage_root: Path, run_point: Callable[[Point, Path, bool], None],
             log: Callable[[str], None], always_run: bool = False, variant: str = "") -> List[Path]:
    """Measure and store each point not stored yet; the paths stored. `run_point(point, stage, resume)` runs
    the row's session as of the point's date into `stage`. With `always_run` (--latest) the points run even
    when stored, and are stored only when new. `variant` names a run with suite options of its own
    (--model radon), whose unfinished points must not be taken for a whole point's."""
    durations = [s for s in (point_seconds(p) for p in stored_points(history, row.id)  # measured as today's are
                             if p.get("measurement_version") == MEASUREMENT_VERSION) if s]
    written = []
    for i, point in enumerate(points, 1):
        head = f"timeline {row.id}: point {i}/{len(points)} {point.date}"
        if stored(history, row.id, point.date) and not always_run:
            log(f"{head}: stored already ({point_path(history, row.id, point.date)})")
            continue
        left = sum(1 for p in points[i - 1:] if not stored(history, row.id, p.date))
        log(f"{head}: {'; '.join(point.changed) or 'no change in the row packages'}; {eta(durations, left)}")
        stage = Path(stage_root) / row.id / (point.date + (f"-{variant}" if variant else ""))
        staged = staged_results(stage)
        ran = None
        if not (staged and staged[-1][1]):  # nothing finished in the staging folder: run (or resume) it
            start = time.monotonic()
            run_point(point, stage, bool(staged))
            ran, staged = time.monotonic() - start, staged_results(stage)
        if not (staged and staged[-1][1]):
            log(f"{head}: no complete results file in {stage}; run the command again to resume it")
            continue
        durations.append(ran or point_seconds(json.loads(staged[-1][0].read_text())) or 0.0)  # the install counts too
        statuses = {cell.get("status") for cell in json.loads(staged[-1][0].read_text()).get("cells", [])}
        if statuses == {"device-missing"}:  # a GPU row on a machine without its GPU measured nothing
            log(f"{head}: every cell device-missing ({staged[-1][0]}); not stored")
            continue
        if always_run and not point.changed:
            log(f"{head}: measured ({staged[-1][0]}); not stored: its row packages resolve as at the last stored point")
            continue
        written.append(store(staged[-1][0], history, row.id, point))
        log(f"{head}: stored {written[-1]}")
    return written
