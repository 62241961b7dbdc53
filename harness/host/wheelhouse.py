"""A row's locked wheels for an air-gapped GPU node, less what the node already has.

    nox -s wheelhouse -- ROW --have FILE [--out DIR] [--python-version X.Y] [--platform TAG ...]
                         [--max-mb 64] [--include NAME ...] [--exclude NAME ...]

FILE is the node's `python3 -m pip list --format=freeze` (or `pip freeze`). For every package of the row's
lock (locks/<row>.txt; the row's pins, with a warning, when the lock is missing or stale) the wheelhouse
either downloads the locked wheel for the node's platform and Python, or leaves it out and says why:

- the node has it, at any version: the node's own stack stays (its jax and CUDA plugin are what drive its
  GPU), and a version other than the lock's is recorded as a deviation "node has X, row locks Y";
- only packages that are left out need it (the lock's `# via` lines say who needs what): the row's CUDA 12
  plugin and its nvidia-* wheels are needed only by jax, so a node that has its own jax needs none of them;
- `--exclude NAME` left it out. `--include NAME` downloads a package even where the node has it.

DIR (default wheelhouse/<row>/) gets the wheels, `manifest.json` (what was downloaded with sizes and sha256,
what was left out and why, the deviations, the totals) and `INSTALL.txt`, the one line the node runs. Sizes
are in MB of 10^6 bytes, so the default limit of 64 MB leaves the rest of a 64 MiB carry for the tree.

Host code: the standard library and `packaging`. Every mistake is a `WheelhouseError` of one line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from harness.common.matrix import distribution
from harness.host import locks
from harness.host.uv import INSTALL_TIMEOUT_S, resolver_reason

ROOT = Path(__file__).resolve().parent.parent.parent
SCHEMA = "pymc-matrix-wheelhouse/1"
MB = 1_000_000
DEFAULT_MAX_MB = 64.0
# The tags of the GPU nodes' x86-64 Linux (glibc 2.28 or newer); pip matches each manylinux tag exactly.
DEFAULT_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
                     "manylinux2014_x86_64", "manylinux1_x86_64")
SITE = "/tmp/site"
USAGE = ('usage: nox -s wheelhouse -- ROW --have FILE [--out DIR] [--python-version X.Y] [--platform TAG ...] '
         '[--max-mb 64] [--include NAME ...] [--exclude NAME ...]   (ROW: "cuda(pymc=\'6\')" or cuda-pymc6; '
         'FILE: the node\'s `python3 -m pip list --format=freeze`)')


class WheelhouseError(RuntimeError):
    """A mistake or a failed download; the message is one line naming the file, row or package and the fix."""


@dataclass(frozen=True)
class Locked:
    """One package of a row's lock: its version, the sha256 of its files, and who needs it."""

    name: str  # PEP 503 normalised
    version: str
    hashes: frozenset = frozenset()
    needed_by: Tuple[str, ...] = ()  # normalised names from the lock's `# via`; empty: the row asks for it
    direct: bool = True


@dataclass(frozen=True)
class Decision:
    name: str
    version: str  # the lock's
    download: bool
    reason: str
    node_version: Optional[str] = None
    deviation: Optional[str] = None  # how the node's environment will differ: "node has X, row locks Y", "node lacks it"


@dataclass
class LockSource:
    """Where the packages came from: the row's fresh lock, or its pins (then `warning` says why)."""

    packages: Dict[str, Locked]
    record: Dict[str, object] = field(default_factory=dict)
    warning: Optional[str] = None


# ---------------------------------------------------------------------------------------------- parsing

REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s;\\]+)")
HASH = re.compile(r"--hash=sha256:([0-9a-fA-F]{64})")
DIRECT_URL = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*@\s*\S+")


def parse_lock(text: str) -> Dict[str, Locked]:
    """`name==version` entries of a hashed requirements file (uv pip compile), with their hashes and `# via`."""
    entries: Dict[str, dict] = {}
    current: Optional[dict] = None
    in_via = False
    for raw in text.splitlines():
        line = raw.strip()
        match = REQUIREMENT.match(raw)
        if match:
            current = {"name": canonicalize_name(match.group(1)), "version": match.group(2), "hashes": set(HASH.findall(raw)),
                       "via": [], "annotated": False}
            entries[current["name"]] = current
            in_via = False
            continue
        if current is None:
            continue
        current["hashes"].update(HASH.findall(line))
        if line.startswith("# via"):
            current["annotated"] = True
            rest = line[len("# via"):].strip()
            if rest:
                current["via"].append(rest)
            in_via = not rest
        elif in_via and line.startswith("#") and line[1:].strip():
            current["via"].append(line[1:].strip())
        elif not line.startswith("--hash"):
            in_via = False
    packages = {}
    for entry in entries.values():
        parents = [p for p in entry["via"] if not p.startswith("-")]  # "-r file": the row asks for it itself
        direct = not entry["annotated"] or len(parents) < len(entry["via"])
        packages[entry["name"]] = Locked(entry["name"], entry["version"], frozenset(h.lower() for h in entry["hashes"]),
                                         tuple(canonicalize_name(p) for p in parents), direct)
    return packages


def parse_freeze(text: str, source: str) -> Dict[str, Optional[str]]:
    """{normalised name: version} from `pip list --format=freeze` / `pip freeze` (None: installed from a URL)."""
    found: Dict[str, Optional[str]] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", "-")):  # comments, -e editables, --index-url
            continue
        match = REQUIREMENT.match(line)
        url = DIRECT_URL.match(line)
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
        elif url:
            found[canonicalize_name(url.group(1))] = None
        else:
            raise WheelhouseError(f"{source}:{number}: {line[:60]!r} is not a `name==version` line: give the node's "
                                  "`python3 -m pip list --format=freeze` (not the `pip list` table)")
    if not found:
        raise WheelhouseError(f"{source} lists no packages: give the node's `python3 -m pip list --format=freeze`")
    return found


def read_freeze(path: Path) -> Tuple[Dict[str, Optional[str]], str]:
    """The node's packages from FILE, and FILE's sha256."""
    if not path.exists():
        raise WheelhouseError(f"--have {path}: no such file; on the node run `python3 -m pip list --format=freeze > "
                              f"{path.name}` and copy it here")
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WheelhouseError(f"--have {path}: cannot read it ({type(exc).__name__}: {exc}); give a UTF-8 text file "
                              "written by `python3 -m pip list --format=freeze`") from None
    return parse_freeze(text, str(path)), hashlib.sha256(data).hexdigest()


def lock_source(row, suite_requirements: Sequence[str], lock_dir: Path = locks.LOCK_DIR) -> LockSource:
    """The row's fresh lock; without one, its pins alone (no dependencies, no hashes) and a warning."""
    lock, info = locks.fresh_lock(row, suite_requirements, lock_dir)
    if lock is None:
        pins = {canonicalize_name(distribution(n)): Locked(canonicalize_name(distribution(n)), v) for n, v in row.packages.items()}
        warning = (f"{info['why']}; the wheelhouse holds the row's pins alone, without their dependencies or hashes")
        return LockSource(pins, {"mode": "pinned", "why": info["why"]}, warning)
    data = lock.read_bytes()
    record = {"mode": "locked", "file": _shown(lock), "sha256": hashlib.sha256(data).hexdigest(),
              "made": info.get("made"), "resolver": info.get("resolver")}
    return LockSource(parse_lock(data.decode()), record)


# ---------------------------------------------------------------------------------------------- deciding

def decide(packages: Dict[str, Locked], node: Dict[str, Optional[str]], include: Iterable[str] = (),
           exclude: Iterable[str] = ()) -> List[Decision]:
    """Per locked package (lock order): download it, or leave it out with the reason."""
    include, exclude = _known(include, packages, "--include"), _known(exclude, packages, "--exclude")
    both = include & exclude
    if both:
        raise WheelhouseError(f"{', '.join(sorted(both))}: both --include and --exclude; give one")
    candidates = {n for n in packages if n not in exclude and (n in include or n not in node)}
    wanted = {n for n in candidates if n in include or packages[n].direct}
    grew = True
    while grew:  # whatever a wanted package needs, unless the node has it (a least fixpoint: cycles stay out)
        grew = False
        for name in sorted(candidates - wanted):
            if any(p in wanted or p not in packages for p in packages[name].needed_by):
                wanted.add(name)
                grew = True
    decisions = []
    for name, pkg in packages.items():
        have = node.get(name)
        deviation = _deviation(have, pkg.version) if name in node else None
        if name in wanted:
            users = [u for u in pkg.needed_by if u in wanted]
            reason = f"needed by {', '.join(users)}" if users and not pkg.direct else "the row asks for it"
            if name in include:
                reason = f"--include (node has {have or 'it'}; the wheel shadows it)" if name in node else "--include"
            decisions.append(Decision(name, pkg.version, True, reason, have))  # the wheel is what the node will run
        elif name in exclude:
            decisions.append(Decision(name, pkg.version, False, "--exclude", have, deviation or _lacks(name, node)))
        elif name in node:
            reason = deviation or "node has it (same version)"
            decisions.append(Decision(name, pkg.version, False, reason, have, deviation))
        else:
            decisions.append(Decision(name, pkg.version, False, "needed only by " + ", ".join(
                _why_not(p, node, exclude) for p in pkg.needed_by), deviation=_lacks(name, node)))
    return decisions


def _lacks(name: str, node: Dict[str, Optional[str]]) -> Optional[str]:
    """None where the node has the package; else "node lacks it", naming a sibling build it has instead
    (jax-cuda13-plugin for jax-cuda12-plugin: the same name with other numbers)."""
    if name in node:
        return None
    pattern = re.compile(re.sub(r"[0-9]+", "[0-9]+", re.escape(name)))
    siblings = [f"{other} {node[other] or ''}".strip() for other in sorted(node) if other != name and pattern.fullmatch(other)]
    return f"node lacks it (has {', '.join(siblings)})" if siblings else "node lacks it"


def _why_not(parent: str, node: Dict[str, Optional[str]], exclude: set) -> str:
    if parent in node:
        return f"{parent} (node has {node[parent] or 'it'})"
    return f"{parent} ({'--exclude' if parent in exclude else 'left out'})"


def _known(names: Iterable[str], packages: Dict[str, Locked], option: str) -> set:
    out = set()
    for name in names:
        norm = canonicalize_name(name)
        if norm not in packages:
            raise WheelhouseError(f"{option} {name}: not a package of the row's lock; give a name the lock lists")
        out.add(norm)
    return out


def _deviation(have: Optional[str], locked: str) -> Optional[str]:
    if have is None:
        return f"node has it from a URL (version unknown), row locks {locked}"
    try:
        same = Version(have) == Version(locked)
    except InvalidVersion:
        same = have == locked
    return None if same else f"node has {have}, row locks {locked}"


def check_size(files: Sequence[Tuple[str, int]], max_mb: float, row_id: str) -> None:
    """Fail with one line naming the biggest wheels when (package, bytes) add up to more than max_mb."""
    total = sum(size for _, size in files)
    if total <= max_mb * MB:
        return
    biggest = sorted(files, key=lambda f: -f[1])[:3]
    named = ", ".join(f"{name} ({size / MB:.1f} MB)" for name, size in biggest)
    raise WheelhouseError(f"the wheels of row {row_id} come to {total / MB:.1f} MB, over --max-mb {max_mb:g}: biggest {named}; "
                          "leave some out with --exclude NAME, or raise --max-mb")


# ---------------------------------------------------------------------------------------------- command line

class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage block, no exit
        raise WheelhouseError(f"{message}; {USAGE}")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = _Parser(prog="nox -s wheelhouse --", add_help=False)
    parser.add_argument("row")
    parser.add_argument("--have", required=True, type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--python-version")
    parser.add_argument("--platform", action="append")
    parser.add_argument("--max-mb", type=float, default=DEFAULT_MAX_MB)
    parser.add_argument("--include", action="append", default=[])
    parser.add_argument("--exclude", action="append", default=[])
    args = parser.parse_args(list(argv))
    if args.python_version is not None and not re.fullmatch(r"\d+\.\d+", args.python_version):
        raise WheelhouseError(f"--python-version {args.python_version}: give the node's major.minor, e.g. 3.12")
    if args.max_mb <= 0:
        raise WheelhouseError(f"--max-mb {args.max_mb:g}: give a positive size in MB")
    return args


# ---------------------------------------------------------------------------------------------- building

def build(row, args: argparse.Namespace, suite_requirements: Sequence[str], pip: Sequence[str],
          log: Callable[[str], None] = print, warn: Callable[[str], None] = print,
          lock_dir: Path = locks.LOCK_DIR) -> Path:
    """Download what the node lacks into args.out (default wheelhouse/<row>/); the manifest's path."""
    out = Path(args.out) if args.out else ROOT / "wheelhouse" / row.id
    python_version = args.python_version or row.python
    platforms = list(args.platform or DEFAULT_PLATFORMS)
    node, have_sha = read_freeze(Path(args.have))
    source = lock_source(row, suite_requirements, lock_dir)
    if source.warning:
        warn(f"wheelhouse: {source.warning}")
    decisions = decide(source.packages, node, args.include, args.exclude)
    fetch = [d for d in decisions if d.download]
    for d in decisions:
        if d.deviation and d.name in node:
            warn(f"wheelhouse: {d.name}: {d.deviation}")
    absent = [d.name for d in decisions if d.deviation and d.name not in node]
    if absent:
        warn(f"wheelhouse: {len(absent)} locked packages will be absent on the node (see manifest.json): {', '.join(absent)}")
    log(f"wheelhouse: row {row.id}: {len(fetch)} of {len(decisions)} packages to download for python {python_version}, "
        f"{len(decisions) - len(fetch)} left out")
    if out.exists() and not out.is_dir():
        raise WheelhouseError(f"--out {out}: is a file; give a folder")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = tempfile.TemporaryDirectory(prefix=f".{out.name}-", dir=out.parent)
    except OSError as exc:
        raise WheelhouseError(f"--out {out}: cannot write there ({exc.strerror or exc}); give another folder") from None
    with staging as tmp:
        started = time.monotonic()
        if fetch:
            download(fetch, Path(tmp), python_version, platforms, pip, list(row.find_links), row.index_url)
        seconds = time.monotonic() - started
        wheels = match_wheels(fetch, Path(tmp), source.packages)
        check_size([(f"{w['name']} {w['version']}", w["size"]) for w in wheels], args.max_mb, row.id)
        _replace(out, Path(tmp), wheels)
    install = install_line(out, row.id, bool(wheels))
    total = sum(w["size"] for w in wheels)
    manifest = {
        "schema": SCHEMA,
        "row": row.id,
        "session": row.session_name,
        "made": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python_version": python_version,
        "implementation": "cp",
        "platforms": platforms,
        "lock": source.record,
        "have": {"file": _shown(Path(args.have)), "sha256": have_sha, "packages": len(node)},
        "downloaded": wheels,
        "left_out": [{"name": d.name, "version": d.version, "reason": d.reason, "node_version": d.node_version}
                     for d in decisions if not d.download],
        "deviations": {d.name: d.deviation for d in decisions if d.deviation},  # python's too, below
        "count": len(wheels),
        "total_bytes": total,
        "total_mb": round(total / MB, 2),
        "max_mb": args.max_mb,
        "download_s": round(seconds, 1),
        "install": install,
    }
    if python_version != row.python:
        manifest["deviations"]["python"] = f"wheels for {python_version}, row asks for {row.python}"
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    (out / "INSTALL.txt").write_text(
        f"# On the node, in the repository's root (with {_shown(out)} carried in), one line:\n{install}\n")
    log(f"wheelhouse: {len(wheels)} wheels, {total / MB:.1f} MB, downloaded in {seconds:.0f} s into {_shown(out)}")
    return out / "manifest.json"


def download(fetch: Sequence[Decision], dest: Path, python_version: str, platforms: Sequence[str], pip: Sequence[str],
             find_links: Sequence[str] = (), index_url: Optional[str] = None) -> None:
    """pip download of the exact wheels (no dependencies: the lock already names every one), from where the
    row installs from (its find_links and extra index too)."""
    cmd = list(pip) + ["download", "--no-deps", "--only-binary=:all:", "--python-version", python_version,
                       "--implementation", "cp", "--disable-pip-version-check", "--no-input", "--progress-bar", "off",
                       "-d", str(dest)]
    for tag in platforms:
        cmd += ["--platform", tag]
    for link in find_links:
        cmd += ["--find-links", link]
    if index_url:
        cmd += ["--extra-index-url", index_url]
    cmd += [f"{d.name}=={d.version}" for d in fetch]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise WheelhouseError(f"pip download did not finish within {INSTALL_TIMEOUT_S} s; check the network and retry") from None
    except OSError as exc:
        raise WheelhouseError(f"cannot run {cmd[0]} ({exc}); run this through `nox -s wheelhouse`") from None
    if proc.returncode == 0:
        return
    output = proc.stderr + "\n" + proc.stdout
    if "No module named pip" in output:
        raise WheelhouseError(f"{cmd[0]} has no pip; run this through `nox -s wheelhouse`, whose virtualenv has it")
    missing = re.search(r"No matching distribution found for ([A-Za-z0-9._-]+)==(\S+)", output)
    if missing:
        name, version = missing.groups()
        raise WheelhouseError(
            f"no wheel of {name}=={version} for cp{python_version.replace('.', '')} on {', '.join(platforms)}: add the "
            f"tag its wheels carry (--platform manylinux_2_N_x86_64; see https://pypi.org/project/{name}/{version}/#files), "
            f"or leave it out with --exclude {name}")
    raise WheelhouseError(f"pip download failed: {resolver_reason(output)}")


def match_wheels(fetch: Sequence[Decision], folder: Path, packages: Dict[str, Locked]) -> List[Dict[str, object]]:
    """Each downloaded package's wheel with its size and sha256, checked against the lock's hashes."""
    by_name: Dict[Tuple[str, Version], Path] = {}
    for path in folder.glob("*.whl"):
        try:
            name, version, _, _ = parse_wheel_filename(path.name)
        except InvalidWheelFilename:
            continue
        by_name[(name, version)] = path
    wheels = []
    for d in fetch:
        path = by_name.get((d.name, Version(d.version)))
        if path is None:
            raise WheelhouseError(f"pip reported success but left no wheel of {d.name}=={d.version}; rerun, or --exclude {d.name}")
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        expected = packages[d.name].hashes
        if expected and sha not in expected:
            raise WheelhouseError(f"{path.name}: sha256 {sha[:12]}... is not among the lock's hashes of {d.name}=={d.version}; "
                                  "the index served another file: check the index, or remake the lock")
        wheels.append({"name": d.name, "version": d.version, "file": path.name, "size": path.stat().st_size,
                       "sha256": sha, "hash_checked": bool(expected)})
    return wheels


def _replace(out: Path, staged: Path, wheels: Sequence[Dict[str, object]]) -> None:
    """Swap the new wheels into `out`, removing only what an earlier wheelhouse left there."""
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("*.whl"), out / "manifest.json", out / "INSTALL.txt"]:
        old.unlink(missing_ok=True)
    for wheel in wheels:
        shutil.move(str(staged / str(wheel["file"])), str(out / str(wheel["file"])))


def install_line(out: Path, row_id: str, any_wheels: bool) -> str:
    """The one line the node runs in the repository's root: install the wheels beside its own, run the row."""
    steps = []
    if any_wheels:
        steps.append(f"python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target {SITE} "
                     f"{shlex.quote(_shown(out))}/*.whl")
        steps.append(f"export PYTHONPATH={SITE}:$PWD")
    else:
        steps.append("export PYTHONPATH=$PWD")
    steps.append(f"python3 -m harness.run {row_id} --quick")
    return " && ".join(steps)


def _shown(path: Path) -> str:
    """A path relative to the repository where it lies inside it (the node runs from the repository's root)."""
    path = Path(path).resolve()
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)
