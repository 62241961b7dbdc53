"""The results file of one session run, and the summary table printed at its end.

Schema (version SCHEMA), one JSON object:

    schema        "pymc-matrix-results/1"
    session       nox session name, e.g. "cpu(pymc='6')"
    row           matrix.toml row id, e.g. "cpu-pymc6"
    baseline      the row's baseline backend: the report's speed-ups are ESS/s over this backend's
    measurement_version   how the harness measured (harness.common.measurement): a change in it is the
                  harness's, never the ecosystem's
    tier          "smoke" | "quick" | "timeline" | "full", with its chains / tune / draws / timeout_s under "tier_settings"
    started, finished   ISO 8601 UTC; finished is null while the run is in progress or was interrupted
    complete      true once every cell ran; false in a file left by an interrupted run
    fingerprint   python, packages {name: version}, platform, cpu, devices (jax's, with memory_mb),
                  gpu_driver (card, memory, driver and CUDA versions from nvidia-smi / rocm-smi), blas,
                  floatX, compile_mode, threads and cell_env (the variables the cells ran with),
                  known_failures used, install notes (mode, lock, resolved versions, deviations)
    cells         one object per (model, backend): model, backend, status, reason (null when passed),
                  params {scalar: mean, sd, mcse_mean, mcse_sd, ess_bulk, r_hat, tail_khat, truth_mean,
                  truth_sd, z_mean, z_sd, untested (the z-tests a heavy tail voids)}, timings {compile_s, sample_s, wall_s, cell_wall_s, cell_started}, ess_per_s (min bulk
                  ESS / sample_s), divergences, grad_evals (leapfrog steps over the kept draws),
                  tree_depth ({depth: draws}; TFP's NUTS reports none), peak_rss_mb, peak_device_mb (GPU rows),
                  speed {warm_sample_s, compile_s, ess_per_s, ..., transfer (GPU rows),
                  started, wall_s (when the rounds began and what they, the gradient timing and memory took)},
                  known_failure {reason, link} where listed, output (tail of the log) when it broke

A run interrupted (Ctrl-C, a timeout, the end of a GPU slot) leaves `complete: false`; `--resume` continues
the row's latest such file for the same tier, keeping its finished cells (`resumed` lists when, and the
fingerprint of each resumption). A cell the interruption caught between sampling and its speed rounds is
sampled again (`resumed[].redone`): its rounds need the worker that sampled it, which did not outlive the run.
Files land in results/<row>/<started>-<tier>.json and are never overwritten: each write goes to a
temporary file in the same folder and is renamed over the run's own file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

from harness.common.measurement import MEASUREMENT_VERSION
from harness.common.plan import Plan
from harness.common.schema import SCHEMA


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_results_path(results_dir: Path, row: str, tier: str, started: str) -> Path:
    folder = Path(results_dir) / row
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{started.replace(':', '').replace('-', '')}-{tier}"
    path, n = folder / f"{stem}.json", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.json"
    path.touch()  # claim the name
    return path


def write_atomic(path: Path, payload: Dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as fh:
        json.dump(payload, fh, indent=1, sort_keys=False, allow_nan=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class ResultsFile:
    """The run's results, rewritten after every cell so nothing computed is lost to a later crash."""

    def __init__(self, results_dir: Path, plan: Plan, fingerprint: Optional[Dict[str, Any]] = None):
        self.started = utc_now()
        self.path = new_results_path(results_dir, plan.row.id, plan.tier.name, self.started)
        self.payload: Dict[str, Any] = {
            "schema": SCHEMA,
            "session": plan.row.session_name,
            "row": plan.row.id,
            "baseline": plan.row.baseline,
            "measurement_version": MEASUREMENT_VERSION,
            "tier": plan.tier.name,
            "tier_settings": plan.tier.to_dict(),
            "started": self.started,
            "finished": None,
            "complete": False,
            "fingerprint": fingerprint,
            "cells": [],
        }
        write_atomic(self.path, self.payload)

    @classmethod
    def resume(cls, path: Path, timed: bool = True) -> "ResultsFile":
        """Continue an interrupted run's file: its finished cells stay, new ones are appended. Where the
        run times cells (`timed`), a cell that sampled but has no speed figures is not finished: dropped."""
        results = cls.__new__(cls)
        results.path = Path(path)
        results.payload = json.loads(results.path.read_text())
        results.started = results.payload["started"]
        results.payload.update(finished=None, complete=False)
        kept, untimed = [], []
        for cell in results.payload["cells"]:  # sampled ("params", as evaluate() keeps a worker), never timed
            (untimed if timed and "params" in cell and "speed" not in cell else kept).append(cell)
        results.payload["cells"] = kept
        resumption = {"at": utc_now(), "fingerprint": None}
        if untimed:
            resumption["redone"] = [f"{c['model']} x {c['backend']}" for c in untimed]
        results.payload.setdefault("resumed", []).append(resumption)
        return results

    def recorded(self, model: str, backend: str) -> Optional[Dict[str, Any]]:
        """The cell's record if this file already holds it (a resumed run), else None."""
        return next((c for c in self.payload["cells"] if (c["model"], c["backend"]) == (model, backend)), None)

    def set_fingerprint(self, fingerprint: Dict[str, Any]) -> None:
        """The environment's fingerprint; a resumed run's goes with its resumption (it may be another machine)."""
        resumed = self.payload.get("resumed")
        if resumed and self.payload.get("fingerprint") is not None:
            resumed[-1]["fingerprint"] = fingerprint
        else:
            self.payload["fingerprint"] = fingerprint
        write_atomic(self.path, self.payload)

    def add(self, cell: Dict[str, Any]) -> None:
        self.payload["cells"].append(cell)
        write_atomic(self.path, self.payload)

    def save(self) -> None:
        """Rewrite after a cell already added was updated in place (e.g. with its speed figures)."""
        write_atomic(self.path, self.payload)

    def finish(self, complete: bool = True) -> None:
        self.payload["finished"] = utc_now()
        self.payload["complete"] = complete
        write_atomic(self.path, self.payload)


def fingerprint(extra: Optional[Dict[str, Any]] = None, env: Optional[Dict[str, str]] = None,
                timeout_s: float = 300) -> Dict[str, Any]:
    """What this environment is, probed in a child process (importing pytensor or jax has side effects),
    with the same extra environment variables (floatX) as the cells."""
    from harness.common.environment import THREAD_ENV
    from harness.worker.handle import child_env

    proc = subprocess.run(
        [sys.executable, "-m", "harness.worker.fingerprint"], capture_output=True, text=True,
        env=child_env(env), timeout=timeout_s,
    )
    try:
        found = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        found = {"error": f"fingerprint probe failed: {proc.stderr.strip()[-500:]}"}
    found["threads"] = dict(THREAD_ENV)
    found.update(extra or {})
    return found


def summary_table(cells: List[Dict[str, Any]]) -> str:
    """A fixed-width table: one line per cell, then the count of each status."""
    head = f"{'model':<18} {'backend':<20} {'status':<15} {'wall s':>8} {'min ESS':>8} {'max R^':>7}  reason"
    lines = [head, "-" * len(head)]
    for c in cells:
        params = c.get("params") or {}
        ess = min((p["ess_bulk"] for p in params.values()), default=None)
        rhat = max((p["r_hat"] for p in params.values()), default=None)
        wall = (c.get("timings") or {}).get("wall_s")
        reason = (c.get("reason") or "")[:100]
        lines.append(
            f"{c['model']:<18} {c['backend']:<20} {c['status']:<15} {_num(wall, '8.1f')} {_num(ess, '8.0f')} {_num(rhat, '7.3f')}  {reason}"
        )
    counts = Counter(c["status"] for c in cells)
    lines.append("-" * len(head))
    lines.append(", ".join(f"{n} {s}" for s, n in counts.most_common()))
    return "\n".join(lines)


def _num(value: Optional[float], fmt: str) -> str:
    width = int(fmt.split(".")[0])
    return format(value, fmt) if isinstance(value, (int, float)) else " " * (width - 1) + "-"
