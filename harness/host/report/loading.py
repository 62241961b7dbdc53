"""Reading results files into runs, skipping unusable ones with the reason, and the numbers read off a cell."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

from harness.common.backends import BACKENDS
from harness.common.schema import SCHEMA

DEFAULT_RESULTS = Path("results")
SWEEP_SCHEMA = "pymc-matrix-gradient-sweep/1"  # harness.worker.sweep's output: read by load_sweeps, not a run
COMPARISON, CHANGE_POINTS = "a nox -s compare result", "change points"  # evidence, not runs
CANDIDATES = "change points to confirm"  # nox -s compare -- --changepoints's candidates.json: the nightly's

# Fingerprint entries besides packages that explain a change in speed.
ENVIRONMENT_KEYS = ("python", "cpu", "platform", "floatX", "compile_mode", "devices", "gpu_driver")


@dataclass
class Run:
    """One results file: one session run of one row."""

    path: Path
    row: str
    tier: str
    started: str
    complete: bool
    packages: dict[str, str]
    environment: dict[str, Any]
    cells: dict[tuple[str, str], dict[str, Any]]  # (model, backend) -> cell, in the file's order
    baseline: Optional[str] = None  # the row's baseline backend, as the results file records it
    as_of: Optional[str] = None  # the date a timeline point or an --as-of run resolved its packages as of
    point: Optional[str] = None  # a stored timeline point's date (history/<row>/<date>.json); None for other runs
    resolved: dict[str, str] = field(default_factory=dict)  # what an as-of install resolved, python aside
    scaling: list[dict[str, Any]] = field(default_factory=list)  # the scaling sweep, one entry per backend
    machines: list[tuple[str, str]] = field(default_factory=list)  # (since, machine): the first run, each --resume

    def machine_of(self, cell: dict[str, Any]) -> str:
        """The machine a cell ran on: a file resumed over several GPU slots may span several cards."""
        started = str(as_dict(cell.get("timings")).get("cell_started") or "")
        ran_on = [name for since, name in self.machines if since <= started] or [name for _, name in self.machines[:1]]
        return ran_on[-1] if ran_on else "?"

    @property
    def when(self) -> str:
        """Where the run sits in its row's history: the date its packages were resolved as of (a timeline
        point measured today for 2024-10-01 belongs to 2024-10-01), else its start."""
        return self.as_of or self.started

    @property
    def models(self) -> list[str]:
        """By name: a results file lists its cells in the order they ran (longest first), which changes."""
        return sorted(dict.fromkeys(model for model, _ in self.cells))

    @property
    def backends(self) -> list[str]:
        return in_registry_order(backend for _, backend in self.cells)


def in_registry_order(backends: Iterable[str]) -> list[str]:
    """Each backend once, in the backend registry's order (harness.common.backends), unknown ones last as
    they came: a results file lists its cells in the order they ran (longest first), which changes."""
    seen = list(dict.fromkeys(backends))
    order = {name: i for i, name in enumerate(BACKENDS)}
    return sorted(seen, key=lambda backend: (order.get(backend, len(order)), seen.index(backend)))


@dataclass
class Loaded:
    """Everything the report reads from its results files and folders, each file read once."""

    runs: list[Run] = field(default_factory=list)  # sorted by row and when
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (path, why) of every unusable file
    sweeps: list[dict[str, Any]] = field(default_factory=list)  # harness.worker.sweep's JSON, oldest first
    comparisons: list[dict[str, Any]] = field(default_factory=list)  # nox -s compare results
    change_points: list[dict[str, Any]] = field(default_factory=list)  # --changepoints series


def load(paths: Iterable[Path | str] = ()) -> Loaded:
    """Read every file among the files and folders given (default: results/) into what it is."""
    loaded = Loaded()
    for path in results_files(paths or [DEFAULT_RESULTS], loaded.skipped):
        data, why = read_json(path)
        run, why = (None, why) if why else run_of(path, data)
        if run is not None:
            loaded.runs.append(run)
        elif why == SWEEP_SCHEMA:
            loaded.sweeps.append(dict(data, path=str(path)))
        elif why == COMPARISON:
            loaded.comparisons.append(data)
        elif why == CHANGE_POINTS:
            loaded.change_points += data
        elif why != CANDIDATES:  # the nightly's candidates: no run, but no unusable file
            loaded.skipped.append((path, why))
    loaded.runs.sort(key=lambda run: (run.row, run.when, str(run.path)))
    loaded.sweeps.sort(key=lambda sweep: str(sweep.get("started")))
    return loaded


def load_results(paths: Iterable[Path | str] = ()) -> tuple[list[Run], list[tuple[Path, str]]]:
    """Every usable run among the files and folders given (default: results/), sorted by row and start,
    and (path, why) for every file that is not usable."""
    loaded = load(paths)
    return loaded.runs, loaded.skipped


def evidence_kind(data: Any) -> Optional[str]:
    if isinstance(data, dict) and {"row", "model", "backend", "baseline", "candidate"} <= set(data):
        return COMPARISON
    if isinstance(data, list) and all(isinstance(s, dict) and {"name", "args"} <= set(s) for s in data) and data:
        return CANDIDATES
    if isinstance(data, list) and all(isinstance(s, dict) and "key" in s and "change_points" in s for s in data):
        return CHANGE_POINTS
    return None


def results_files(paths: Iterable[Path | str], skipped: list[tuple[Path, str]]) -> list[Path]:
    found: dict[Path, None] = {}
    for path in map(Path, paths):
        if path.is_dir():
            # pytest-benchmark's JSON lies beside each results file; it is not a run
            found.update(dict.fromkeys(p for p in sorted(path.rglob("*.json")) if not p.name.endswith(".benchmark.json")))
        elif path.is_file():
            found[path] = None
        else:
            skipped.append((path, "no such file or folder"))
    return list(found)


def read_json(path: Path) -> tuple[Any, str]:
    """The parsed file, or None and why it cannot be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8")), ""
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"unreadable ({exc})"
    except ValueError as exc:
        return None, f"invalid JSON ({exc})"


def read_run(path: Path) -> tuple[Optional[Run], str]:
    """The run in the file, or None and why it cannot be used."""
    data, why = read_json(path)
    return (None, why) if why else run_of(path, data)


def run_of(path: Path, data: Any) -> tuple[Optional[Run], str]:
    """The run a parsed file holds, or None and what it is instead (a sweep, evidence) or why it is unusable."""
    if isinstance(data, dict) and data.get("schema") == SWEEP_SCHEMA:
        return None, SWEEP_SCHEMA
    kind = evidence_kind(data)
    if kind:
        return None, kind
    why = schema_problem(data)
    if why:
        return None, why
    fingerprint = as_dict(data.get("fingerprint"))
    stamp = as_dict(data.get("timeline"))
    return Run(
        path=path,
        row=str(data["row"]),
        tier=str(data.get("tier") or "?"),
        started=str(data["started"]),
        complete=data.get("complete") is True,
        packages={str(k): str(v) for k, v in as_dict(fingerprint.get("packages")).items()},
        environment={key: fingerprint[key] for key in ENVIRONMENT_KEYS if key in fingerprint},
        cells={(str(cell["model"]), str(cell["backend"])): cell for cell in data["cells"]},
        baseline=data.get("baseline"),
        as_of=(stamp.get("date") or as_dict(fingerprint.get("install")).get("as_of")),
        point=str(stamp["date"]) if stamp.get("date") else None,
        resolved=point_versions(fingerprint, stamp),
        scaling=[entry for entry in data.get("scaling") or [] if isinstance(entry, dict)],
        machines=[(str(data["started"]), machine_name(fingerprint))] + [
            (str(r.get("at")), machine_name(as_dict(r.get("fingerprint"))))
            for r in data.get("resumed") or [] if isinstance(r, dict) and r.get("fingerprint")],
    ), ""


def machine_name(fingerprint: dict) -> str:
    """A fingerprint's GPUs by name (else its CPU): what tells one slot's machine from another's."""
    gpus = [str(d.get("kind")) for d in fingerprint.get("devices") or [] if isinstance(d, dict) and d.get("platform") == "gpu"]
    return ", ".join(dict.fromkeys(gpus)) or str(fingerprint.get("cpu") or "?")


def point_versions(fingerprint: dict, stamp: dict) -> dict[str, str]:
    """The row packages an as-of install resolved (else the resolution stored with a timeline point)."""
    resolved = as_dict(as_dict(fingerprint.get("install")).get("resolved")) or as_dict(stamp.get("resolution"))
    return {str(k): str(v) for k, v in resolved.items() if k != "python"}


def schema_problem(data: Any) -> str:
    """Why the parsed file is not a results file the report can read ("" when it is)."""
    if not isinstance(data, dict):
        return "not a JSON object"
    if "schema" not in data:
        return "no 'schema' key"
    if data["schema"] != SCHEMA:
        return f"schema is {data['schema']!r}, expected {SCHEMA!r}"
    missing = [key for key in ("row", "started", "cells") if key not in data]
    if missing:
        return f"missing key(s): {', '.join(missing)}"
    if not isinstance(data["cells"], list):
        return "'cells' is not a list"
    for i, cell in enumerate(data["cells"]):
        lacking = [key for key in ("model", "backend", "status") if key not in as_dict(cell)]
        if lacking:
            return f"cell {i} lacks {', '.join(lacking)}"
    return ""


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


# ------------------------------------------------------------------------------------------ cell numbers


def finite(value: Any) -> Optional[float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def sample_seconds(cell: dict[str, Any]) -> Optional[float]:
    seconds = finite(as_dict(cell.get("timings")).get("sample_s"))
    return seconds if seconds and seconds > 0 else None


def ess_per_second(cell: dict[str, Any]) -> Optional[float]:
    """The cell's ESS/s. Files written before cells carried `ess_per_s` get it the way harness.worker.evaluation
    computes it: the smallest bulk ESS over the checked parameters per second of sampling."""
    if "ess_per_s" in cell:
        return finite(cell["ess_per_s"])
    ess = [finite(as_dict(p).get("ess_bulk")) for p in as_dict(cell.get("params")).values()]
    seconds = sample_seconds(cell)
    if not ess or None in ess or seconds is None:
        return None
    return min(ess) / seconds
