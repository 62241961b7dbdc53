"""The timeline end to end: `nox -s timeline` measures one dated point of cpu-pymc5 (one cell) into a scratch
history, a second run finds it stored, and `--publish` builds the asv site and the report from it.

Slow (about two minutes: uv installs the dated row, one cell samples); `-m "not e2e"` skips it. The publish
step needs npm and the npm registry (asv's assets), and skips without them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

from harness.common.measurement import MEASUREMENT_VERSION

pytestmark = pytest.mark.e2e


def timeline(*args):
    return subprocess.run([sys.executable, "-m", "nox", "-s", "timeline", "--", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=1200, env=dict(os.environ))


def test_one_dated_point_is_stored_once_and_published(tmp_path):
    history = tmp_path / "history"
    point = ["cpu-pymc5", "--since", "2024-10-01", "--until", "2024-10-01", f"--history={history}",
             "--model", "conjugate", "--backend", "pymc-c"]
    proc = timeline(*point)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert "point 1/1 2024-10-01: pymc 5.16.2; pytensor 2.25.4" in log
    stored = json.loads((history / "cpu-pymc5" / "2024-10-01.json").read_text())
    assert stored["measurement_version"] == MEASUREMENT_VERSION and stored["timeline"]["date"] == "2024-10-01"
    assert stored["timeline"]["resolution"]["blackjax"] == "1.2.4" and stored["tier"] == "timeline"
    assert [(c["backend"], c["status"]) for c in stored["cells"]] == [("pymc-c", "passed")]
    # the tier times alone: the cell is told when it sampled, then finished after its speed rounds
    assert log.index("evaluated at") < log.index("[  1/1] conjugate")

    again = timeline(*point)
    assert again.returncode == 0 and "stored already" in again.stdout + again.stderr

    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: --publish fetches asv's assets with it")
    proc = timeline("--publish", f"--history={history}")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    site = REPO_ROOT / "reports" / "timeline"
    assert (site / "asv" / "cpu-pymc5" / "graphs").is_dir() and "## Timeline" in (site / "report" / "report.md").read_text()
