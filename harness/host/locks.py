"""Lock files: every row resolved once, with hashes, so tonight's environment is last night's.

    nox -s lock [-- ROW ...]      writes locks/<row>.txt (uv pip compile --generate-hashes) and
                                  locks/<row>.json (when, by which resolver, from which inputs)

Sessions install from a row's lock when it is fresh (made from the row's current pins and the suite's
requirements); a missing or stale lock falls back to the pins, and says so in the results' fingerprint.
Locks target Linux x86-64 (manylinux 2.28), the platform of CI and of the GPU runners.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from harness.host.uv import INSTALL_TIMEOUT_S, resolver_reason, uv_command

LOCK_DIR = Path(__file__).resolve().parent.parent.parent / "locks"
PLATFORM = "x86_64-manylinux_2_28"


def lock_inputs(row, suite_requirements: Sequence[str]) -> Dict[str, Any]:
    return {
        "requirements": list(row.requirements) + list(suite_requirements),
        "python": row.python,
        "platform": PLATFORM,
        "find_links": list(row.find_links),
        "index_url": row.index_url,
    }


def digest(inputs: Dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def paths(row_id: str, lock_dir: Path = LOCK_DIR) -> Tuple[Path, Path]:
    return lock_dir / f"{row_id}.txt", lock_dir / f"{row_id}.json"


def make_lock(session, row, suite_requirements: Sequence[str], lock_dir: Path = LOCK_DIR) -> Optional[str]:
    """Resolve the row into its lock file; None on success, else the resolver's reason (and no lock)."""
    inputs = lock_inputs(row, suite_requirements)
    lock, meta = paths(row.id, lock_dir)
    lock_dir.mkdir(parents=True, exist_ok=True)
    cmd = uv_command() + ["pip", "compile", "-", "--generate-hashes", "--python-version", row.python,
                   "--python-platform", PLATFORM, "--output-file", lock.name, "--quiet",
                   "--custom-compile-command", f"nox -s lock -- {row.id}"]
    for link in row.find_links:
        cmd += ["--find-links", link]
    if row.index_url:
        cmd += ["--extra-index-url", row.index_url]
    try:
        proc = subprocess.run(cmd, input="\n".join(inputs["requirements"]) + "\n", capture_output=True, text=True,
                              timeout=INSTALL_TIMEOUT_S, cwd=lock_dir)
    except subprocess.TimeoutExpired:
        return f"resolver did not finish within {INSTALL_TIMEOUT_S} s"
    if proc.returncode != 0:
        lock.unlink(missing_ok=True)
        meta.unlink(missing_ok=True)
        return resolver_reason(proc.stderr + "\n" + proc.stdout)
    resolver = subprocess.run(uv_command() + ["--version"], capture_output=True, text=True).stdout.strip()
    meta.write_text(json.dumps({
        "row": row.id,
        "made": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "resolver": resolver,
        "inputs": inputs,
        "inputs_sha256": digest(inputs),
        "lock_sha256": hashlib.sha256(lock.read_bytes()).hexdigest(),
    }, indent=1) + "\n")
    return None


def fresh_lock(row, suite_requirements: Sequence[str], lock_dir: Path = LOCK_DIR) -> Tuple[Optional[Path], Dict[str, Any]]:
    """(lock path, its metadata) when a lock made from the current inputs exists; else (None, {why})."""
    lock, meta = paths(row.id, lock_dir)
    if not lock.exists() or not meta.exists():
        return None, {"why": f"no lock for row {row.id}: run `nox -s lock -- {row.id}`"}
    info = json.loads(meta.read_text())
    if info.get("inputs_sha256") != digest(lock_inputs(row, suite_requirements)):
        return None, {"why": f"lock of row {row.id} is stale (matrix.toml or the suite changed): run `nox -s lock -- {row.id}`"}
    return lock, info


def lock_requirements(lock: Path) -> List[str]:
    return ["--require-hashes", "-r", str(lock)]
