"""Name the release behind a confirmed change between two dates of a row.

1. By date: every day between the good date and the bad one resolves (install_as_of), so the days are
   bisected with harness.host.bisection.search, the same search `nox -s bisect` runs over a package's
   releases. Days that resolve to the same versions share one probe: each day is first resolved with
   `uv pip compile` (seconds), and a probe runs only for a set of versions not seen yet.
2. By package, between the last good day and the first bad one: each package whose version differs is
   advanced alone to the bad day's version (resolved as of the bad day, every other changed package held at
   the good day's version). Where that does not install (jax 0.7.0 requires jaxlib 0.7.0, held at 0.6.2),
   the changed packages it depends on move with it: those in its own resolution as of the bad day. The
   packages whose advance reproduces the change are named, with both versions and what moved with them.

A probe answers bisection.PASS (like the good end), FAIL (like the bad end) or SKIP (does not install or
cannot tell). Where the two ends were measured by different harness commits (results files), the harness
is a suspect too, and the report says so.
"""

from __future__ import annotations

import datetime
import re
import subprocess
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from harness.host import bisection
from harness.host.install import exclude_newer
from harness.host.uv import INSTALL_TIMEOUT_S, uv_command

Resolution = Dict[str, str]


def days_between(good: str, bad: str) -> List[str]:
    """Every day from good to bad, both included, as YYYY-MM-DD."""
    start, end = datetime.date.fromisoformat(good), datetime.date.fromisoformat(bad)
    if end <= start:
        raise ValueError(f"the bad date {bad} must come after the good date {good}")
    return [str(start + datetime.timedelta(days=i)) for i in range((end - start).days + 1)]


def parse_compiled(text: str) -> Resolution:
    """{name: version} from `uv pip compile` output (name==version lines)."""
    out = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", line.strip())
        if match:
            out[match.group(1).lower().replace("_", "-")] = match.group(2)
    return out


def compile_as_of(requirements: Sequence[str], date: str, python: str, find_links: Sequence[str] = (),
                  index_url: Optional[str] = None) -> Optional[Resolution]:
    """What `requirements` resolve to as of the end of `date` (None where they do not resolve)."""
    cmd = uv_command() + ["pip", "compile", "-", "--quiet", "--no-header", "--no-annotate", "--python-version", python,
                          "--exclude-newer", exclude_newer(date)]
    for link in find_links:
        cmd += ["--find-links", link]
    if index_url:
        cmd += ["--extra-index-url", index_url]
    proc = subprocess.run(cmd, input="\n".join(requirements) + "\n", capture_output=True, text=True,
                          timeout=INSTALL_TIMEOUT_S)
    return parse_compiled(proc.stdout) if proc.returncode == 0 else None


def changed(good: Resolution, bad: Resolution, first: Sequence[str] = ()) -> List[Tuple[str, Optional[str], Optional[str]]]:
    """(name, good version, bad version) of every package that differs; the names in `first` (the row's
    own packages) lead, the rest follow alphabetically."""
    names = sorted(n for n in set(good) | set(bad) if good.get(n) != bad.get(n))
    lead = [n.lower() for n in first]
    names.sort(key=lambda n: (lead.index(n) if n in lead else len(lead), n))
    return [(n, good.get(n), bad.get(n)) for n in names]


def advance_one(requirements: Sequence[str], good: Resolution, moved: Sequence[Tuple[str, Optional[str], Optional[str]]],
                name: str, along: Sequence[str] = ()) -> List[str]:
    """The requirements that advance `name` alone: it at the bad day's version, every other changed package
    at the good day's (left free where the good day did not have it, or where it moves `along` with it),
    the rest as the row names them."""
    pins = [f"{n}=={g}" for n, g, _ in moved if n != name and n not in along and g is not None]
    bad_version = next(b for n, _, b in moved if n == name)
    return list(requirements) + pins + ([f"{name}=={bad_version}"] if bad_version else [])


def moving_with(name: str, version: Optional[str], moved: Sequence[Tuple[str, Optional[str], Optional[str]]],
                day: str, resolve: Callable[[Sequence[str], str], Optional[Resolution]]) -> List[str]:
    """The other changed packages in `name`'s own resolution at `version` as of `day`: what it depends on."""
    if version is None:
        return []
    own = resolve([f"{name}=={version}"], day) or {}
    return [n for n, _, _ in moved if n != name and n in own]


@dataclass
class Attribution:
    last_good: Optional[str] = None
    first_bad: Optional[str] = None
    probes: Dict[str, str] = field(default_factory=dict)  # day or package -> pass/fail/skip
    culprits: List[Dict[str, Optional[str]]] = field(default_factory=list)
    suspects: List[str] = field(default_factory=list)
    lines: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, object]:
        return dict(self.__dict__)


def bisect_days(good: str, bad: str, resolve: Callable[[str], Optional[Resolution]], probe: Callable[[str], str],
                log: Callable[[str], None] = print, known: Optional[Dict[str, str]] = None) -> Tuple[str, str, Dict[str, str]]:
    """(last good day, first bad day, {day: verdict}). `resolve(day)` gives the day's versions; a probe runs
    once per distinct set of versions. `known`: verdicts of days already measured (the two ends)."""
    by_resolution: Dict[Tuple[Tuple[str, str], ...], str] = {}
    verdicts: Dict[str, str] = dict(known or {})

    def check(day: str) -> str:
        if day in verdicts:
            return verdicts[day]
        versions = resolve(day)
        if versions is None:
            verdicts[day] = bisection.SKIP
            return bisection.SKIP
        key = tuple(sorted(versions.items()))
        if key not in by_resolution:
            by_resolution[key] = probe(day)
        else:
            log(f"attribute: {day} resolves as an earlier probe did: {by_resolution[key]}")
        verdicts[day] = by_resolution[key]
        return verdicts[day]

    days = days_between(good, bad)
    last_good, first_bad = bisection.search(days, bad, check, good, log=log)
    return last_good, first_bad, verdicts


def attribute(good: str, bad: str, requirements: Sequence[str], row_packages: Sequence[str],
              resolve: Callable[[Sequence[str], str], Optional[Resolution]],
              probe_day: Callable[[str], str], probe_set: Callable[[str, List[str], str], str],
              log: Callable[[str], None] = print, known: Optional[Dict[str, str]] = None,
              harness_versions: Tuple[Optional[str], Optional[str]] = (None, None),
              ends: Tuple[str, str] = ("good", "bad")) -> Attribution:
    """The whole search: days, then packages. `resolve(requirements, day)`; `probe_day(day)`;
    `probe_set(label, requirements, day)` installs `requirements` as of `day` and probes them.
    `harness_versions`: how the harness measured each end (harness.host.compare.harness_version).
    `ends`: what the lines call the two ends: ("broken", "fixed") where the change is a fix, ("slower",
    "faster") where it is a speed-up."""
    was, now = ends
    out = Attribution()
    if harness_versions[0] != harness_versions[1]:
        out.suspects.append(f"the harness: the good end was measured by {harness_versions[0]}, the bad end by "
                            f"{harness_versions[1]}; rerun both with one harness to rule it out")
    try:
        last_good, first_bad, verdicts = bisect_days(good, bad, lambda day: resolve(requirements, day), probe_day,
                                                     log=log, known=known)
    except bisection.BisectError as exc:
        out.lines.append(f"attribution: the days cannot be bisected: {exc}")
        return out
    out.last_good, out.first_bad = last_good, first_bad
    out.probes.update(verdicts)
    out.lines.append(f"attribution: last {was} day {last_good}, first {now} day {first_bad}")
    before, after = resolve(requirements, last_good) or {}, resolve(requirements, first_bad) or {}
    moved = changed(before, after, row_packages)
    out.lines.append("attribution: changed between them: " + (", ".join(f"{n} {g} -> {b}" for n, g, b in moved) or "nothing"))
    for name, old, new in moved:
        verdict = probe_set(name, advance_one(requirements, before, moved, name), first_bad)
        along = moving_with(name, new, moved, first_bad, resolve) if verdict == bisection.SKIP else []
        if along:  # it does not install with its changed dependencies held back: they move with it
            verdict = probe_set(name, advance_one(requirements, before, moved, name, along), first_bad)
        moved_along = ", ".join(f"{n} {b}" for n, _, b in moved if n in along)
        out.probes[f"{name} {new}" + (f" with {moved_along}" if along else "")] = verdict
        log(f"attribute: {name} {old} -> {new} {f'with {moved_along}' if along else 'alone'}: {verdict}")
        if verdict == bisection.FAIL:
            out.culprits.append({"package": name, "good": old, "bad": new, **({"with": moved_along} if along else {})})
    if out.culprits:
        for c in out.culprits:
            moved_too = f"; {c['with']} moved with it, as it requires" if c.get("with") else ""
            out.lines.append(f"attribution: first {now} release: {c['package']} {c['bad']} (last {was} {c['good']}{moved_too})")
    elif moved:
        out.lines.append("attribution: no single package's advance reproduces the change: an interaction of "
                         "several (try them in pairs), or the measurement is too noisy at this size")
    return out
