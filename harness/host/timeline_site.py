"""`nox -s timeline -- --publish`: an asv site per row from the stored points alone (no sampling).

Per row a scratch git repository gets one commit per point in date order, dated at the point's date
(GIT_AUTHOR_DATE/GIT_COMMITTER_DATE), whose message lists the row packages that changed; each point's own
cells become asv 0.6 result files for that commit (asv/results.py, api_version 2: one list per benchmark
over the product of its params; machine = row id), and benchmarks.json declares the benchmarks that
benchmarks/benchmarks.py defines (Time.time_sample, Track.track_ess_per_s, Track.track_compile_s over
model x backend). Their asv `version` is the harness's MEASUREMENT_VERSION, so asv draws a change in how
the harness measures as a new series, never as a step of the ecosystem. Then `asv publish`.

asv's index.html loads jQuery, flot, bootstrap, md5 and stupidtable from CDNs; offline it shows only
"failed to load". They are npm packages: `npm pack` fetches them once (.nox/timeline/vendor/) and the
pages load them from vendor/ beside index.html.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from harness.common.measurement import MEASUREMENT_VERSION
from harness.host.timeline import changes, stored_points

# asv name -> (type, unit, how a point's cell gives the figure): what benchmarks/benchmarks.py measures
BENCHMARKS: Dict[str, Tuple[str, str, Callable[[dict], Optional[float]]]] = {
    "benchmarks.Time.time_sample": ("time", "seconds", lambda c: (c.get("timings") or {}).get("sample_s")),
    "benchmarks.Track.track_ess_per_s": ("track", "ESS/s", lambda c: c.get("ess_per_s")),
    "benchmarks.Track.track_compile_s": ("track", "seconds", lambda c: (c.get("timings") or {}).get("compile_s")),
}
ENV_NAME = "existing-timeline"

# asv 0.6's www/index.html CDN addresses -> (npm package, file in its tarball). cdnjs's stupidtable 1.0.1
# is not on npm; stupid-table-plugin 1.1.3 has the same sort API asv calls.
VENDOR = {
    "https://code.jquery.com/jquery-3.3.1.min.js": ("jquery@3.3.1", "dist/jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.min.js": ("flot@0.8.3", "jquery.flot.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.time.min.js": ("flot@0.8.3", "jquery.flot.time.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.selection.min.js": ("flot@0.8.3", "jquery.flot.selection.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.categories.min.js": ("flot@0.8.3", "jquery.flot.categories.js"),
    "https://cdn.jsdelivr.net/npm/flot-orderbars@1.0.0/js/jquery.flot.orderBars.js": ("flot-orderbars@1.0.0", "js/jquery.flot.orderBars.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/stupidtable/1.0.1/stupidtable.min.js": ("stupid-table-plugin@1.1.3", "stupidtable.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/blueimp-md5/2.19.0/js/md5.min.js": ("blueimp-md5@2.19.0", "js/md5.min.js"),
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/js/bootstrap.min.js": ("bootstrap@3.1.1", "dist/js/bootstrap.min.js"),
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css": ("bootstrap@3.1.1", "dist/css/bootstrap.min.css"),
}
VENDOR_DIRS = [("bootstrap@3.1.1", "dist/fonts/")]  # bootstrap.min.css loads its glyph font from ../fonts/


def row_versions(point: dict) -> Dict[str, str]:
    """The point's row packages as its install resolved them (nightly builds included: the commit says all)."""
    resolved = ((point.get("fingerprint") or {}).get("install") or {}).get("resolved") or {}
    return {k: str(v) for k, v in resolved.items() if k != "python"}


def params_of(points: List[dict]) -> Tuple[List[str], List[str]]:
    cells = [(c["model"], c["backend"]) for p in points for c in p.get("cells", [])]
    return list(dict.fromkeys(m for m, _ in cells)), list(dict.fromkeys(b for _, b in cells))


def benchmarks_json(models: List[str], backends: List[str]) -> dict:
    params = [[repr(m) for m in models], [repr(b) for b in backends]]
    out: dict = {"version": 2}
    for name, (kind, unit, _) in BENCHMARKS.items():
        out[name] = {"name": name, "type": kind, "unit": unit, "param_names": ["model", "backend"], "params": params,
                     "version": f"measurement-{MEASUREMENT_VERSION}", "timeout": 1800, "code":
                     f"# from a stored timeline point (history/): {name.split('.')[-1]} of each passed cell"}
    return out


def result_json(point: dict, row_id: str, commit: str, date_ms: int, models: List[str], backends: List[str]) -> dict:
    """One point as asv 0.6's results file: a figure per (model, backend) of a passed cell, else null."""
    cells = {(c["model"], c["backend"]): c for c in point.get("cells", [])}
    params = [[repr(m) for m in models], [repr(b) for b in backends]]
    results = {}
    for name, (_, _, figure) in BENCHMARKS.items():
        values = []
        for key in itertools.product(models, backends):
            cell = cells.get(key)
            value = figure(cell) if cell and cell.get("status") == "passed" else None
            values.append(value if isinstance(value, (int, float)) else None)
        results[name] = [values, params, f"measurement-{point.get('measurement_version')}", date_ms, 0.0]
    return {"commit_hash": commit, "env_name": ENV_NAME, "date": date_ms, "params": {"machine": row_id, "python": ""},
            "python": "", "requirements": row_versions(point), "env_vars": {},
            "result_columns": ["result", "params", "version", "started_at", "duration"], "results": results,
            "durations": {}, "version": 2}


def git(repo: Path, *args: str, env: Optional[dict] = None) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=dict(os.environ, **(env or {}))).stdout.strip()


def scratch_project(history: Path, row_id: str, work: Path, html: Path) -> Path:
    """The row's scratch repository, asv results and asv.conf.json; returns the config's path."""
    points = [p for p in stored_points(history, row_id)]
    points.sort(key=lambda p: p["timeline"]["date"])
    shutil.rmtree(work, ignore_errors=True)
    repo, results = work / "repo", work / "results"
    (results / row_id).mkdir(parents=True)
    git(work, "init", "-q", "-b", "main", str(repo))
    models, backends = params_of(points)
    before = None
    for point in points:
        date, versions = point["timeline"]["date"], row_versions(point)
        (repo / "versions.txt").write_text("".join(f"{k}=={v}\n" for k, v in sorted(versions.items())))
        moved = changes(before, versions)
        message = f"{row_id} as of {date}: " + (", ".join(moved) or "nothing changed") + \
            f"\n\nmeasurement version {point.get('measurement_version')}"
        stamp = {"GIT_AUTHOR_DATE": f"{date}T12:00:00Z", "GIT_COMMITTER_DATE": f"{date}T12:00:00Z",
                 "GIT_AUTHOR_NAME": "pymc-matrix timeline", "GIT_AUTHOR_EMAIL": "timeline@pymc-matrix.invalid",
                 "GIT_COMMITTER_NAME": "pymc-matrix timeline", "GIT_COMMITTER_EMAIL": "timeline@pymc-matrix.invalid"}
        git(repo, "add", "versions.txt")
        git(repo, "commit", "-q", "--allow-empty", "-m", message, env=stamp)
        commit = git(repo, "rev-parse", "HEAD")
        date_ms = int(git(repo, "log", "-1", "--format=%ct")) * 1000
        payload = result_json(point, row_id, commit, date_ms, models, backends)
        (results / row_id / f"{commit[:8]}-{ENV_NAME}.json").write_text(json.dumps(payload))
        before = versions
    (results / row_id / "machine.json").write_text(json.dumps({"machine": row_id, "version": 1}))
    (results / "benchmarks.json").write_text(json.dumps(benchmarks_json(models, backends)))
    config = work / "asv.conf.json"
    config.write_text(json.dumps({
        "version": 1, "project": f"pymc-matrix timeline: {row_id}", "project_url": "", "repo": str(repo),
        "branches": ["main"], "environment_type": "existing", "results_dir": str(results), "html_dir": str(html),
    }, indent=1))
    return config


def npm_files(cache: Path, run: Callable[..., object]) -> Path:
    """The vendored packages unpacked under cache/<package@version>/ (npm pack, once)."""
    for package in dict.fromkeys(p for p, _ in list(VENDOR.values()) + VENDOR_DIRS):
        folder = cache / package
        if folder.exists():
            continue
        cache.mkdir(parents=True, exist_ok=True)
        run("npm", "pack", "--silent", "--pack-destination", str(cache), package, external=True, silent=True)
        name, version = package.rsplit("@", 1)
        with tarfile.open(cache / f"{name}-{version}.tgz") as tar:
            tar.extractall(cache / f"{package}.tmp", filter="data")
        os.replace(cache / f"{package}.tmp" / "package", folder)
    return cache


def vendor(html: Path, cache: Path) -> None:
    """Copy the CDN assets next to the site and point index.html at them."""
    index = html / "index.html"
    text = index.read_text(encoding="utf-8")
    for url, (package, file) in VENDOR.items():
        local = f"vendor/{package}/{file}"
        (html / local).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cache / package / file, html / local)
        # integrity hashes name the CDN's minified files, not these
        text = re.sub(rf'(src|href)="{re.escape(url)}"( integrity="[^"]*")?( crossorigin="[^"]*")?',
                      rf'\1="{local}"', text)
    for package, folder in VENDOR_DIRS:
        shutil.copytree(cache / package / folder, html / "vendor" / package / folder, dirs_exist_ok=True)
    remote = re.findall(r'<(?:script|link)[^>]*(?:src|href)="(https?://[^"]+)"', text)
    if remote:
        raise RuntimeError(f"{index}: asv's index.html loads {remote[0]}, which the vendor table does not cover; "
                           "add it to VENDOR in harness/host/timeline_site.py")
    index.write_text(text, encoding="utf-8")


def index_page(out: Path, rows: List[str]) -> Path:
    links = "".join(f'<li><a href="asv/{r}/index.html">{r}</a>: speed over the points (asv)</li>' for r in rows)
    page = out / "index.html"
    page.write_text(f"<!doctype html><meta charset=utf-8><title>pymc-matrix timeline</title><h1>pymc-matrix "
                    f"timeline</h1><ul>{links}<li><a href=\"report/report.html\">report</a>: which backend worked "
                    f"when, per row and model</li></ul>\n", encoding="utf-8")
    return page
