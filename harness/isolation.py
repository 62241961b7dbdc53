"""Run one cell in a child process with a timeout, and turn whatever happens into a status.

The child gets its own process group, so a timeout kills the sampler's worker processes too. Statuses:
the child's own (`sampled`, `unavailable`, `error`), or `timeout` when it outlives its limit, or `crashed`
when it dies without writing its result (segfault, out-of-memory kill, abort). The tail of its output
goes with every status but `sampled`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Optional

# One BLAS/OpenMP thread per chain process: with more, chains oversubscribe the cores and the timings
# measure contention instead of the backend (FACTS.md: 962 s vs 110 s for the same draws).
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONUNBUFFERED": "1",
}
TAIL_CHARS = 3000
REPO_ROOT = Path(__file__).resolve().parent.parent


def child_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(THREAD_ENV)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    env.update(extra or {})
    return env


def _tail(path: Path) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-TAIL_CHARS:]


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (killed: out of memory?)" if name == "SIGKILL" else ""
        return f"died from {name}{hint}"
    return f"exited with code {code} without writing a result"


def run_cell(spec: Dict[str, Any], timeout_s: float, python: str = sys.executable,
             module: str = "harness.cell") -> Dict[str, Any]:
    """Run `python -m module SPEC OUT`; return the child's result dict plus `cell_wall_s` and, on trouble, `output`."""
    with tempfile.TemporaryDirectory(prefix="cell-") as tmp:
        tmpdir = Path(tmp)
        spec_path, out_path, log_path = tmpdir / "spec.json", tmpdir / "out.json", tmpdir / "output.log"
        spec_path.write_text(json.dumps(spec))
        start = time.perf_counter()
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                [python, "-m", module, str(spec_path), str(out_path)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=child_env(), cwd=str(REPO_ROOT), start_new_session=True,
            )
            try:
                code = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                return {"status": "timeout", "reason": f"no result within {timeout_s:g} s; killed",
                        "output": _tail(log_path), "cell_wall_s": time.perf_counter() - start}
            except BaseException:  # Ctrl-C: take the sampler's processes down with us
                _kill_group(proc)
                raise
        wall_s = time.perf_counter() - start
        _kill_group(proc)  # leftover worker processes of a finished cell
        if out_path.exists():
            try:
                result = json.loads(out_path.read_text())
            except ValueError as exc:
                return {"status": "crashed", "reason": f"unreadable result: {exc}", "output": _tail(log_path), "cell_wall_s": wall_s}
            result["cell_wall_s"] = wall_s
            if result.get("status") != "sampled":
                result["output"] = _tail(log_path)
            return result
        return {"status": "crashed", "reason": _describe_exit(code), "output": _tail(log_path), "cell_wall_s": wall_s}


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
