"""Install a matrix row into a nox session's environment, and find the interpreters rows ask for.

Runs on the host, inside nox. The install is one resolver call for the whole row so the environment is
exactly the row's pins; when it fails, the resolver's own words become the `unavailable` reason of every
cell, and only the suite's tools are installed so the session can still record that.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from harness.host import locks
from harness.host.uv import INSTALL_TIMEOUT_S, resolver_reason, uv_command


def pyenv_bin_dirs() -> List[str]:
    """bin/ folders of every pyenv-installed CPython, newest patch release first."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    return sorted(glob.glob(os.path.join(root, "versions", "[0-9]*", "bin")), reverse=True)


def expose_interpreters() -> None:
    """Put pyenv's interpreters on PATH (after what is already there) so nox finds python3.8 and friends."""
    path = os.environ.get("PATH", "").split(os.pathsep)
    extra = [d for d in pyenv_bin_dirs() if d not in path]
    os.environ["PATH"] = os.pathsep.join(path + extra)


def find_interpreter(version: str) -> Optional[str]:
    return shutil.which(f"python{version}")


def _installer(session, python: Optional[str]) -> List[str]:
    """uv where nox built the environment with uv (or for an environment we built), else the venv's pip."""
    if python is None:
        python = str(Path(session.bin) / "python")
        if getattr(session.virtualenv, "venv_backend", "") != "uv":
            return [python, "-m", "pip", "install"]
    return uv_command() + ["pip", "install", "--python", python]


def install_requirements(session, requirements: Sequence[str], find_links: Sequence[str] = (),
                         index_url: Optional[str] = None, python: Optional[str] = None) -> Optional[str]:
    """Install into the session's environment (or `python`'s); None on success, else the resolver's reason."""
    cmd = _installer(session, python) + list(requirements)
    for link in find_links:
        cmd += ["--find-links", link]
    if index_url:
        cmd += ["--extra-index-url", index_url]
    session.log(" ".join(cmd[cmd.index("install"):]))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"install did not finish within {INSTALL_TIMEOUT_S} s"
    if proc.returncode == 0:
        return None
    return resolver_reason(proc.stderr + "\n" + proc.stdout)


def install_row(session, row, suite_requirements: Sequence[str], recording_requirements: Sequence[str],
                mode: str = "locked") -> Tuple[Dict[str, str], Dict[str, Any]]:
    """Install the row with the suite's tools. Returns ({backend or '*': reason unavailable}, install record).

    mode "locked" installs the row's fresh lock file (falling back to its pins when there is none),
    "pinned" its pins, "latest" the newest release of every package it names (what tomorrow brings).
    When nothing installs, `recording_requirements` (the suite plus numpy and scipy) go in instead, so the
    session can still record every cell as `unavailable`.
    """
    record: Dict[str, Any] = {"mode": mode}
    if mode == "locked":
        lock, info = locks.fresh_lock(row, suite_requirements)
        if lock is None:
            session.warn(f"{info['why']}; installing the row's pins instead")
            record.update(mode="pinned", lock=info["why"])
        else:
            record["lock"] = {k: info[k] for k in ("made", "resolver", "lock_sha256")}
            record["lock"]["file"] = f"locks/{lock.name}"
            requirements = locks.lock_requirements(lock)
    if record["mode"] == "pinned":
        requirements = list(row.requirements) + list(suite_requirements)
    elif record["mode"] == "latest":
        requirements = list(row.packages) + list(suite_requirements)  # names (with extras), no versions
    reason = install_requirements(session, requirements, row.find_links, row.index_url)
    if reason is None:
        return {}, record
    session.warn(f"row {row.id}: does not install ({record['mode']}): {reason}")
    fallback = install_requirements(session, recording_requirements)
    if fallback is not None:
        session.error(f"row {row.id}: even the suite's own tools do not install: {fallback}")
    record["failed"] = reason
    return {"*": f"install failed: {reason}"}, record


def row_environment(session, row, extra: Sequence[str], base_dir: Path) -> Optional[str]:
    """A virtual environment of the row's own, outside nox's (for asv); its python, or None if it does
    not install. Reused while the requirements are unchanged."""
    wanted = "\n".join(list(row.requirements) + list(extra) + list(row.find_links))
    folder = Path(base_dir) / row.id
    python, stamp = folder / "bin" / "python", folder / "requirements.txt"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return str(python)
    interpreter = find_interpreter(row.python)
    if interpreter is None:
        session.warn(f"row {row.id}: no python{row.python} on PATH or in pyenv")
        return None
    session.run(*uv_command(), "venv", "--clear", "--python", interpreter, str(folder), external=True, silent=True)
    reason = install_requirements(session, list(row.requirements) + list(extra), row.find_links, row.index_url, python=str(python))
    if reason:
        session.warn(f"row {row.id}: {reason}")
        return None
    stamp.write_text(wanted)
    return str(python)


def show_versions(session, packages: Sequence[str]) -> Dict[str, str]:
    """Print and return the installed versions of the row's packages (and python)."""
    import json

    python = str(Path(session.bin) / "python")
    code = "import json, sys; from harness.common.versions import installed_versions; print(json.dumps(installed_versions(sys.argv[1:])))"
    repo = str(Path(__file__).resolve().parent.parent.parent)
    proc = subprocess.run([python, "-c", code, *packages], capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=repo))
    versions = json.loads(proc.stdout) if proc.returncode == 0 else {}
    session.log("resolved: " + ", ".join(f"{k}={v}" for k, v in versions.items()))
    return versions
