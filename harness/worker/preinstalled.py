"""Run a row in an environment you built yourself, without installing anything.

A nox session installs its row, then runs the suites. Where the package index cannot be reached (an air-gapped GPU node, a cluster image whose admin installed the stack), run the row
in the current Python environment instead, without installing anything:

    python -m harness.run "cuda(pymc='6')" --quick --model radon     # a session name or a row id

The device check and everything after it are the session's; the install record says `preinstalled`, lists
the versions found, and names every package that differs from the row's pins, so a result obtained this way
is never mistaken for the row's own stack.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, List

ROOT = Path(__file__).resolve().parent.parent.parent
USAGE = ("usage: python -m harness.run ROW [suite options such as --quick --model radon]\n"
         "       ROW: a session name (\"cuda(pymc='6')\") or a row id (cuda-pymc6); see `nox -l`")
SKIPPED_EXIT = 3  # the no-device exit of a preinstalled run, which CI can tell from a failure (1, 2)


def find_row(matrix: Any, name: str) -> Any:
    row = matrix.find_row(name)
    if row is not None:
        return row
    raise SystemExit(f"harness.run: no row has id or session {name!r}; rows: {', '.join(matrix.rows)} (see `nox -l`)")


def main(argv: List[str]) -> int:
    from harness.common import devices
    from harness.common.environment import take_interrupts
    from harness.common.matrix import MatrixError, load
    from harness.common.plan import row_plan, suite_command
    from harness.common.versions import deviations, installed_versions

    if not argv or argv[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        matrix = load(os.environ.get("MATRIX_TOML", ROOT / "matrix.toml"))
    except MatrixError as exc:
        raise SystemExit(f"harness.run: {exc}") from None
    row = find_row(matrix, argv[0])
    take_interrupts()  # the end of a GPU slot is a SIGINT, also where the slot runs in the background
    device_missing = devices.missing_reason(row.device)
    versions = installed_versions(list(row.packages))
    install = {"mode": "preinstalled", "python_executable": sys.executable, "resolved": versions,
               "deviations": deviations(row, versions)}
    print(f"row {row.id}: preinstalled environment {sys.executable}", file=sys.stderr)
    for name, what in install["deviations"].items():
        print(f"row {row.id}: {name}: {what}", file=sys.stderr)
    if device_missing:
        print(f"row {row.id}: {device_missing}; recording every cell as device-missing", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="plan-") as tmp:
        plan_path = Path(tmp) / "plan.json"
        row_plan(matrix, row, {}, device_missing, install).save(plan_path)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        suites = subprocess.Popen(suite_command(sys.executable, plan_path, argv[1:]), env=env)
        try:
            code = suites.wait()
        except KeyboardInterrupt:  # let pytest close the results file (complete: false) before leaving
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:  # Ctrl-C and `timeout` reach pytest too (same process group); a lone signal to us does not
                code = suites.wait(timeout=10)
            except subprocess.TimeoutExpired:
                suites.send_signal(signal.SIGINT)
                code = suites.wait()
    return SKIPPED_EXIT if device_missing and code == 0 else code
