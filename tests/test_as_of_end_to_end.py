"""Rows as of a date, end to end: real sessions resolve the pymc 5 and pymc 6 CPU rows against the index as
it stood on a past date, then sample (or record why not).

Slow (about three minutes, most of it the first): uv resolves and installs the dated row, and two cells
sample for real. `-m "not e2e"` skips it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import REPO_ROOT
from packaging.version import Version

pytestmark = pytest.mark.e2e


def run_as_of(tmp_path, session, row_id, date, backends):
    args = ["--as-of", date, "--quick", "--no-speed", "--model", "conjugate", f"--results-dir={tmp_path}"]
    args += [f"--backend={b}" for b in backends]
    proc = subprocess.run([sys.executable, "-m", "nox", "-s", session, "--", *args],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=1500, env=dict(os.environ))
    files = [p for p in tmp_path.glob(f"{row_id}/*.json") if not p.name.endswith(".benchmark.json")]
    assert len(files) == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, json.loads(files[0].read_text())


def test_the_pymc5_row_as_of_2024_10_01(tmp_path):
    proc, results = run_as_of(tmp_path, "cpu(pymc='5')", "cpu-pymc5", "2024-10-01", ["pymc-c", "nutpie-numba"])
    install = results["fingerprint"]["install"]
    assert install["mode"] == "as-of" and install["as_of"] == "2024-10-01"
    assert install["exclude_newer"] == "2024-10-02T00:00:00Z" and install["resolver"].startswith("uv ")
    assert install["requirements"][0] == "pymc<6" and "left_out" not in install
    resolved = install["resolved"]
    assert (resolved["pymc"], resolved["pytensor"], resolved["nutpie"], resolved["blackjax"]) == ("5.16.2", "2.25.4", "0.13.2", "1.2.4")
    assert results["fingerprint"]["packages"]["pymc"] == "5.16.2"
    # the harness's own tools are today's: the newest pytest before the date was 8.3.3
    assert Version(results["fingerprint"]["packages"]["pytest"]) > Version("8.3.3")
    cells = {c["backend"]: c for c in results["cells"]}
    for backend in ("pymc-c", "nutpie-numba"):  # pymc 5.16 has no pm.sample(compile_kwargs=): the harness adapts
        assert cells[backend]["status"] == "passed", (backend, cells[backend].get("reason"))
    assert proc.returncode == 0


def test_the_pymc6_row_before_pymc6_existed(tmp_path):
    """pymc 6.0.0 came out on 2026-05-13: the day before, the pymc 6 row has no pymc; the rest installs."""
    proc, results = run_as_of(tmp_path, "cpu(pymc='6')", "cpu-pymc6", "2026-05-12", ["pymc-c", "nutpie-numba"])
    install = results["fingerprint"]["install"]
    assert list(install["left_out"]) == ["pymc>=6"]
    assert install["resolved"]["pymc"] is None and install["resolved"]["nutpie"] is not None  # the rest is there
    for cell in results["cells"]:
        assert cell["status"] == "unavailable", cell
        assert cell["reason"] == "pymc>=6 not released before 2026-05-12 (for Python 3.12)"
    assert proc.returncode == 0
