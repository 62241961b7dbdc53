"""Find the release of a package that broke a row's cells: the last version that passes, the first that fails.

    nox -s bisect -- PACKAGE --session "cpu(pymc='6')" [--backend B] [--model M] [--good V] [--bad V]

Each probe is a real environment: the row's pins with PACKAGE replaced by one release, then the chosen
cells of the correctness suite (quick tier, known failures ignored). From the bad end (the row's pin, or
--bad) it steps back through older releases 1, 2, 4, 8... places until one passes (or --good says where),
then bisects between. Releases that do not install with the row are skipped and said so.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from packaging.version import InvalidVersion, Version

from harness.common.statuses import PASSED, SKIPPED

PASS, FAIL, SKIP = "pass", "fail", "skip"


class BisectError(RuntimeError):
    """The search cannot start or cannot finish; the message says why."""


def parse_args(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s bisect --", description=__doc__.splitlines()[0])
    parser.add_argument("package")
    parser.add_argument("--session", required=True, help="nox session of the row, e.g. \"cpu(pymc='6')\", or its row id")
    parser.add_argument("--backend", action="append", default=[], help="backend(s) whose cells must pass")
    parser.add_argument("--model", action="append", default=[], help="model(s) to run (default: conjugate)")
    parser.add_argument("--good", help="a release known to pass (skips the search for one)")
    parser.add_argument("--bad", help="a release known to fail (default: the row's pin, else the newest)")
    return parser.parse_args(argv)


def released_versions(index_listing: str) -> List[Version]:
    """Final releases from `pip index versions` output, oldest first."""
    match = re.search(r"Available versions:\s*(.+)", index_listing)
    if not match:
        return []
    versions = []
    for text in match.group(1).split(","):
        try:
            version = Version(text.strip())
        except InvalidVersion:
            continue
        if not version.is_prerelease and not version.is_devrelease:
            versions.append(version)
    return sorted(set(versions))


def search(versions: List[Version], bad: Version, probe: Callable[[Version], str],
           good: Optional[Version] = None, log: Callable[[str], None] = print) -> Tuple[Version, Version]:
    """(last passing, first failing) release, probing as few as it can. `probe` returns pass/fail/skip."""
    results: Dict[Version, str] = {}

    def check(version: Version) -> str:
        if version not in results:
            results[version] = probe(version)
            log(f"bisect: {version}: {results[version]}")
        return results[version]

    older = [v for v in versions if v < bad]
    if check(bad) != FAIL:
        raise BisectError(f"the bad end {bad} does not fail ({results[bad]}); pass --bad with a failing release")
    if good is None:
        step, good_index = 1, None
        while step <= len(older):
            index = len(older) - step
            status = check(older[index])
            if status == PASS:
                good_index = index
                break
            step *= 2
        if good_index is None:
            for index in range(len(older) - 1, -1, -1):  # the gallop overshot: try what is left, newest first
                if check(older[index]) == PASS:
                    good_index = index
                    break
        if good_index is None:
            raise BisectError(f"no release older than {bad} passes; nothing to bisect")
        good = older[good_index]
    elif check(good) != PASS:
        raise BisectError(f"the good end {good} does not pass ({results[good]})")

    hi = min(v for v, s in results.items() if s == FAIL and v > good)  # the gallop may have narrowed it
    inside = [v for v in versions if good < v < hi]
    lo = good
    candidates = list(inside)
    while candidates:
        middle = candidates[len(candidates) // 2]
        status = check(middle)
        if status == PASS:
            lo = middle
            candidates = [v for v in candidates if v > middle]
        elif status == FAIL:
            hi = middle
            candidates = [v for v in candidates if v < middle]
        else:  # no verdict (it cannot install, or its A/B ended undecided): drop it, look at its neighbours
            candidates.remove(middle)
    skipped = [v for v, s in results.items() if s == SKIP and lo < v < hi]
    if skipped:
        log(f"bisect: between {lo} and {hi} no verdict (not installable, or undecided) for {', '.join(map(str, skipped))}")
    return lo, hi


def verdict_of(results_file: Path) -> Tuple[str, str]:
    """pass when every cell passed; skip when any was unavailable; else fail. With the statuses seen."""
    cells = json.loads(results_file.read_text())["cells"]
    statuses = sorted({c["status"] for c in cells})
    if cells and all(c["status"] == PASSED for c in cells):
        return PASS, ", ".join(statuses)
    if any(c["status"] in SKIPPED for c in cells):
        return SKIP, ", ".join(statuses)
    return FAIL, "; ".join(f"{c['model']} {c['backend']}: {c['status']}: {(c.get('reason') or '')[:120]}" for c in cells)


def index_listing(package: str, python: str) -> str:
    proc = subprocess.run([python, "-m", "pip", "index", "versions", package], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BisectError(f"cannot list releases of {package}: {proc.stderr.strip()[-300:]}")
    return proc.stdout

