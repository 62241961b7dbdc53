"""Run a row's suites: the plan they read, and a row run in an environment you built yourself.

The nox session of a row installs it, then calls `row_plan` and `suite_command`. Where the package index
cannot be reached (an air-gapped GPU node, a cluster image whose admin installed the stack), run the row
in the current Python environment instead, without installing anything:

    python -m harness.run "cuda(pymc='6')" --quick --model radon     # a session name or a row id

The device check and everything after it are the session's; the install record says `preinstalled`, lists
the versions found, and names every package that differs from the row's pins, so a result obtained this way
is never mistaken for the row's own stack.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
USAGE = ("usage: python -m harness.run ROW [suite options such as --quick --model radon]\n"
         "       ROW: a session name (\"cuda(pymc='6')\") or a row id (cuda-pymc6); see `nox -l`")
SKIPPED_EXIT = 3  # the no-device exit of a preinstalled run, which CI can tell from a failure (1, 2)


def row_plan(matrix: Any, row: Any, unavailable: Dict[str, str], device_missing: Optional[str],
             install: Dict[str, Any]) -> Dict[str, Any]:
    """What the suites need to know about the row and how it was installed (written as --plan)."""
    return {
        "row": row.to_dict(),
        "tiers": {name: tier.to_dict() for name, tier in matrix.tiers.items()},
        "known_failures": [kf.to_dict() for kf in matrix.known_failures_for(row.id)],
        "unavailable": unavailable,
        "device_missing": device_missing,
        "install": install,
    }


def suite_command(python: str, plan_path: Path, posargs: List[str]) -> List[str]:
    return [python, "-m", "pytest", str(ROOT / "suites"), "-p", "no:cacheprovider", "-rA", "--tb=no",
            f"--plan={plan_path}", *posargs]


def installed_versions(packages: List[str]) -> Dict[str, Optional[str]]:
    """Python's version and each package's installed version (None when absent), keyed without extras.
    Imports nothing but the standard library: nox sessions run it inside row environments (Python 3.8 too)."""
    found: Dict[str, Optional[str]] = {"python": sys.version.split()[0]}
    for name in packages:
        bare = re.sub(r"\[.*\]", "", name)  # as harness.matrix.distribution, a host-only module
        try:
            found[bare] = metadata.version(bare)
        except metadata.PackageNotFoundError:
            found[bare] = None
    return found


def deviations(row: Any, versions: Dict[str, Optional[str]]) -> Dict[str, str]:
    """Packages whose installed version is not the row's pin: {name: "found X, row pins Y"}."""
    from harness.matrix import distribution

    out = {}
    for name, pin in row.packages.items():
        bare = distribution(name)
        if versions.get(bare) != pin:
            out[bare] = f"found {versions.get(bare) or 'nothing'}, row pins {pin}"
    if ".".join(versions["python"].split(".")[:2]) != row.python:
        out["python"] = f"found {versions['python']}, row asks for {row.python}"
    return out


def find_row(matrix: Any, name: str) -> Any:
    row = matrix.find_row(name)
    if row is not None:
        return row
    raise SystemExit(f"harness.run: no row has id or session {name!r}; rows: {', '.join(matrix.rows)} (see `nox -l`)")


def main(argv: List[str]) -> int:
    from harness import devices
    from harness.matrix import MatrixError, load

    if not argv or argv[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        matrix = load(os.environ.get("MATRIX_TOML", ROOT / "matrix.toml"))
    except MatrixError as exc:
        raise SystemExit(f"harness.run: {exc}") from None
    row = find_row(matrix, argv[0])
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
        plan_path.write_text(json.dumps(row_plan(matrix, row, {}, device_missing, install), indent=1))
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
