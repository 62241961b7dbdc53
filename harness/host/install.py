"""Install a matrix row into a nox session's environment, and find the interpreters rows ask for.

Runs on the host, inside nox. The install is one resolver call for the whole row so the environment is
exactly the row's pins; when it fails, the resolver's own words become the `unavailable` reason of every
cell, and only the suite's tools are installed so the session can still record that.

A row as of a date (`--as-of DATE`, `--latest` = today) is the row's package names, unpinned, with its
`as_of` constraints, resolved by uv against the index as it stood at the end of that day (UTC). The suite's
own tools are not dated. A package with no release by then is left out and the rest installed; the cells
whose backends need it are `unavailable` ("not released before DATE"), and so are those whose modules do
not import in the dated environment.
"""

from __future__ import annotations

import datetime
import glob
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from harness.common.backends import BACKENDS
from harness.host import locks
from harness.host.uv import INSTALL_TIMEOUT_S, resolver_reason, uv_command

# The backend registry's import names (`modules`) and the distributions each needs from the index: the one
# that provides it and those it cannot import without. An import name not listed comes from the
# distribution of the same name. A row names one of tfp's two distributions; either, left out, takes it.
MODULE_DISTRIBUTIONS = {
    "jax": ("jax", "jaxlib"),
    "tensorflow_probability": ("tfp-nightly", "tensorflow-probability"),
    "pymc3": ("pymc3", "theano-pymc"),
}
# What to import to see that a module works, where the bare name is not it (tensorflow_probability alone
# wants TensorFlow; the harness uses its JAX substrate).
IMPORT_CHECKS = {"tensorflow_probability": "tensorflow_probability.substrates.jax"}


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
    output = _install(session, requirements, find_links, index_url, python)
    return None if output is None else resolver_reason(output)


def _install(session, requirements: Sequence[str], find_links: Sequence[str] = (), index_url: Optional[str] = None,
             python: Optional[str] = None, options: Sequence[str] = (), warnings: Optional[List[str]] = None) -> Optional[str]:
    """None on success (the installer's output then goes to `warnings`), else the installer's whole output."""
    cmd = _installer(session, python) + list(requirements) + list(options)
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
        if warnings is not None:
            warnings.append(proc.stderr + "\n" + proc.stdout)
        return None
    return proc.stderr + "\n" + proc.stdout


def install_row(session, row, suite_requirements: Sequence[str], recording_requirements: Sequence[str],
                mode: str = "locked", as_of: Optional[str] = None) -> Tuple[Dict[str, str], Dict[str, Any]]:
    """Install the row with the suite's tools. Returns ({backend or '*': reason unavailable}, install record).

    mode "locked" installs the row's fresh lock file (falling back to its pins when there is none),
    "pinned" its pins; `as_of` (a date, YYYY-MM-DD) the row as of that date (install_as_of).
    When nothing installs, `recording_requirements` (the suite plus numpy and scipy) go in instead, so the
    session can still record every cell as `unavailable`.
    """
    if as_of is not None:
        return install_as_of(session, row, as_of, suite_requirements, recording_requirements)
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
    reason = install_requirements(session, requirements, row.find_links, row.index_url)
    if reason is None:
        return {}, record
    return _nothing_installs(session, row, record, reason, recording_requirements)


def _nothing_installs(session, row, record: Dict[str, Any], reason: str,
                      recording_requirements: Sequence[str]) -> Tuple[Dict[str, str], Dict[str, Any]]:
    session.warn(f"row {row.id}: does not install ({record['mode']}): {reason}")
    fallback = install_requirements(session, recording_requirements)
    if fallback is not None:
        session.error(f"row {row.id}: even the suite's own tools do not install: {fallback}")
    record["failed"] = reason
    return {"*": f"install failed: {reason}"}, record


# --------------------------------------------------------------------------------------------------------
# A row as of a date


def split_as_of(args: Sequence[str], option: str = "--as-of", latest: str = "--latest",
                today: Optional[datetime.date] = None) -> Tuple[Optional[str], List[str]]:
    """The date of `--as-of DATE` (or `--as-of=DATE`; `--latest` is today, UTC) and the other arguments.
    Raises ValueError with a one-line message for a missing or malformed date."""
    date, rest, args = None, [], list(args)
    while args:
        arg = args.pop(0)
        if arg == latest:
            value = str(today or datetime.datetime.now(datetime.timezone.utc).date())
        elif arg == option:
            if not args:
                raise ValueError(f"{option} needs a date: {option} 2024-10-01")
            value = args.pop(0)
        elif arg.startswith(option + "="):
            value = arg.split("=", 1)[1]
        else:
            rest.append(arg)
            continue
        if date is not None and value != date:
            raise ValueError(f"{option}/{latest} given twice ({date} and {value}); give one date")
        date = _checked_date(value, option)
    return date, rest


def _checked_date(value: str, option: str) -> str:
    try:
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
            raise ValueError
        return str(datetime.date.fromisoformat(value))
    except ValueError:
        raise ValueError(f"{option} {value!r}: not a date; write it as YYYY-MM-DD, e.g. {option} 2024-10-01") from None


def exclude_newer(date: str) -> str:
    """uv's cutoff for "as of DATE": whatever was uploaded by the end of that day, UTC. (uv reads a bare
    date the same way, but in the machine's time zone.)"""
    return f"{datetime.date.fromisoformat(date) + datetime.timedelta(days=1)}T00:00:00Z"


def _name(requirement: str) -> str:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    return canonicalize_name(Requirement(requirement).name)


def module_distributions(module: str) -> Tuple[str, ...]:
    """The distributions an import name of the backend registry needs (MODULE_DISTRIBUTIONS)."""
    return MODULE_DISTRIBUTIONS.get(module, (module.replace("_", "-"),))


def unavailable_backends(row, missing: Dict[str, str]) -> Dict[str, str]:
    """{backend: reason} for the row's backends whose modules need a distribution of `missing`
    ({distribution or requirement: why it is not there})."""
    why = {_name(requirement): reason for requirement, reason in missing.items()}
    out: Dict[str, str] = {}
    for backend in row.backends:
        reasons = [why[_name(dist)] for module in BACKENDS[backend].modules for dist in module_distributions(module)
                   if _name(dist) in why]
        if reasons:
            out[backend] = "; ".join(dict.fromkeys(reasons))
    return out


def backends_importing(row, failed: Dict[str, str]) -> Dict[str, str]:
    """{backend: reason} for the row's backends that import a module of `failed` ({module: why})."""
    out: Dict[str, str] = {}
    for backend in row.backends:
        reasons = [failed[module] for module in BACKENDS[backend].modules if module in failed]
        if reasons:
            out[backend] = "; ".join(reasons)
    return out


def not_released(output: str, requirements: Iterable[str]) -> Optional[str]:
    """Which of `requirements` the resolver found no release of before the cutoff, if that is why it failed:
    uv says "there are no versions of X and you require X" (or "only X<=1.2 is available and you require
    X>=2"), and hints that `X` was filtered by `exclude-newer`."""
    text = re.sub(r"\s+", " ", output)
    direct = re.search(r"there (?:are|is) no versions? of (\S+?) and you require \1[,.]", text) or \
        re.search(r"only \S+ is available and you require (\S+?), we can conclude that your requirements", text)
    if direct is None:
        return None
    wanted = {_name(r): r for r in requirements}
    name = _name(direct.group(1))
    if name not in wanted or not re.search(rf"`{re.escape(name)}` was filtered by `exclude-newer`", text, re.I):
        return None
    return wanted[name]


def missing_extras(output: str, requirements: Iterable[str], date: str) -> Dict[str, str]:
    """{requirement: why} for the extras (a GPU plugin: jax[rocm7-local]) the release of the date does not
    have yet; uv installs the package without them and warns."""
    out = {}
    for match in re.finditer(r"`([A-Za-z0-9._-]+)==(\S+?)` does not have an extra named `([^`]+)`", output):
        name, version, extra = match.groups()
        for requirement in requirements:
            if _name(requirement) == _name(name) and re.search(rf"\[[^\]]*\b{re.escape(extra)}\b", requirement):
                out[requirement] = f"{requirement} not released before {date} ({name} {version} has no extra {extra})"
    return out


def failed_to_build(output: str, requirements: Iterable[str]) -> Optional[str]:
    """Which of `requirements` did not build or download at install time (an sdist for a Python it predates)."""
    wanted = {_name(r): r for r in requirements}
    for match in re.finditer(r"Failed to (?:build|download|prepare)[^`]*`([A-Za-z0-9._-]+)(?:==|@| )", output):
        if _name(match.group(1)) in wanted:
            return wanted[_name(match.group(1))]
    return None


def uv_version() -> str:
    """The resolver's name and version, e.g. "uv 0.13.9"."""
    proc = subprocess.run(uv_command() + ["--version"], capture_output=True, text=True)
    return " ".join(proc.stdout.split()[:2]) or "uv (version unknown)"


def tool_closure(row, suite_requirements: Sequence[str]) -> List[str]:
    """The names of the suite's tools and of every package they depend on, as they resolve today. All of them
    are exempt from a dated install: with only the tools exempt, their dependencies stayed dated, and
    pytest-benchmark fell back to a release (5.2.3) that today's pytest (9.2) no longer runs, because the one
    that does needs py-cpuinfo2, which did not exist yet: every speed test of such a point failed."""
    names = [_name(r) for r in suite_requirements]
    cmd = uv_command() + ["pip", "compile", "-", "--quiet", "--no-header", "--no-annotate", "--python-version", row.python]
    proc = subprocess.run(cmd, input="\n".join(suite_requirements) + "\n", capture_output=True, text=True,
                          timeout=INSTALL_TIMEOUT_S)
    found = [_name(line.split("==")[0]) for line in proc.stdout.splitlines() if "==" in line] if proc.returncode == 0 else []
    return list(dict.fromkeys(names + found))


def install_as_of(session, row, date: str, suite_requirements: Sequence[str],
                  recording_requirements: Sequence[str]) -> Tuple[Dict[str, str], Dict[str, Any]]:
    """Install the row as of `date`. Returns ({backend or '*': reason unavailable}, install record).

    The row's dated requirements (Row.dated_requirements) resolve with uv's --exclude-newer; the suite's
    tools and everything they depend on are exempt (--exclude-newer-package NAME=false, `tool_closure`), so
    the harness is today's and the row the date's. A row package the resolver finds no release of by then is left
    out, and the rest installed; where the row does not resolve for another reason, each package is tried
    alone and those that fail alone are left out with the resolver's reason; what still fails is every
    cell's reason. Then every module the remaining backends need is imported in the environment.
    """
    cutoff = exclude_newer(date)
    undated = tool_closure(row, suite_requirements)
    record: Dict[str, Any] = {"mode": "as-of", "as_of": date, "exclude_newer": cutoff, "resolver": uv_version(),
                              "requirements": list(row.dated_requirements), "undated": list(suite_requirements)}
    python = str(Path(session.bin) / "python")  # always uv: pip cannot resolve as of a date
    options = ["--exclude-newer", cutoff, "--reinstall"]  # reinstall: a reused environment's newer releases must go
    options += [arg for name in undated for arg in ("--exclude-newer-package", f"{name}=false")]
    left_out: Dict[str, str] = {}
    probed = False
    installed: List[str] = []
    while True:
        kept = [r for r in row.dated_requirements if r not in left_out]
        output = _install(session, kept + list(suite_requirements), row.find_links, row.index_url, python, options, installed)
        if output is None:
            left_out.update(missing_extras(installed[-1], kept, date))
            break
        found = _culprits(output, kept, row, date)
        if not found and not probed:
            probed = True
            found = _fail_alone(row, kept, date, cutoff)
        if not found:  # the combination itself does not resolve
            record.update({"left_out": left_out} if left_out else {})
            unavailable, record = _nothing_installs(session, row, record, f"as of {date}: {resolver_reason(output)}",
                                                    recording_requirements)
            return dict(unavailable_backends(row, left_out), **unavailable), record
        session.warn(f"row {row.id} as of {date}: leaving out {', '.join(found)}: {'; '.join(found.values())}")
        left_out.update(found)
    if left_out:
        record["left_out"] = left_out
    unavailable = unavailable_backends(row, left_out)
    failed = import_failures(session, row, [b for b in row.backends if b not in unavailable], date)
    if failed:
        record["import_failed"] = failed
    return dict(unavailable, **backends_importing(row, failed)), record


def _culprits(output: str, requirements: Sequence[str], row, date: str) -> Dict[str, str]:
    """{requirement: why} for the row package the installer's failure names: no release by the date, or
    none that builds on the row's Python."""
    culprit = not_released(output, requirements)
    if culprit:
        return {culprit: f"{culprit} not released before {date} (for Python {row.python})"}
    culprit = failed_to_build(output, requirements)
    if culprit:
        return {culprit: f"{culprit} as of {date} does not install on Python {row.python}: {resolver_reason(output)}"}
    return {}


def _fail_alone(row, requirements: Sequence[str], date: str, cutoff: str) -> Dict[str, str]:
    """{requirement: why} for those that do not resolve even alone as of the date (uv pip compile, one each)."""
    out = {}
    for requirement in requirements:
        cmd = uv_command() + ["pip", "compile", "-", "--quiet", "--python-version", row.python, "--exclude-newer", cutoff]
        for link in row.find_links:
            cmd += ["--find-links", link]
        if row.index_url:
            cmd += ["--extra-index-url", row.index_url]
        proc = subprocess.run(cmd, input=requirement + "\n", capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
        if proc.returncode != 0:
            output = proc.stderr + "\n" + proc.stdout
            why = _culprits(output, [requirement], row, date)
            out[requirement] = why.get(requirement) or f"{requirement} does not resolve as of {date}: {resolver_reason(output)}"
    return out


def import_failures(session, row, backends: Sequence[str], date: str) -> Dict[str, str]:
    """{module: why} for the modules of `backends` that do not import in the session's environment."""
    modules = sorted({m for b in backends for m in BACKENDS[b].modules})
    if not modules:
        return {}
    code = (
        "import importlib, json, sys\n"
        "failed = {}\n"
        "for module, target in json.loads(sys.argv[1]).items():\n"
        "    try:\n"
        "        importlib.import_module(target)\n"
        "    except Exception as exc:\n"
        "        failed[module] = (type(exc).__name__ + ': ' + str(exc)).splitlines()[0][:300]\n"
        "print(json.dumps(failed))\n"
    )
    targets = json.dumps({m: IMPORT_CHECKS.get(m, m) for m in modules})
    env = dict(os.environ, JAX_PLATFORMS="" if row.on_gpu else "cpu")
    try:
        proc = subprocess.run([str(Path(session.bin) / "python"), "-c", code, targets], capture_output=True, text=True,
                              timeout=600, env=env)
        failed = json.loads(proc.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, ValueError, IndexError):
        return {}  # the cells import them again and say what goes wrong
    for module, why in failed.items():
        session.warn(f"row {row.id} as of {date}: import {IMPORT_CHECKS.get(module, module)} fails: {why}")
    return {module: f"import {IMPORT_CHECKS.get(module, module)} fails as of {date}: {why}" for module, why in failed.items()}


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
