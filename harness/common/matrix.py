"""Read and validate matrix.toml: rows, tiers and known failures.

Shared by the host (nox reads the matrix) and the worker side (a preinstalled run reads it in the row's
environment, Python 3.8 included): the standard library alone at import; tomllib (tomli before 3.11) and
packaging are imported when a file is read. Every problem is a `MatrixError` whose message is one line
naming the file, the row and the key, and saying how to fix it.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from harness.common.backends import APIS, BACKENDS

DEVICES = ("cpu", "cuda", "rocm")
PRECISIONS = ("float64", "float32")
ROW_KEYS = {
    "session": "nox session name",
    "pymc": "session parameter",
    "python": "interpreter version",
    "device": "one of " + ", ".join(DEVICES),
    "api": "one of " + ", ".join(APIS),
    "backends": "list of backend names",
    "baseline": "the backend whose speed the report compares the others against (one of the row's backends)",
    "packages": "table of exact pins",
    "find_links": "list of URLs or folders",
    "index_url": "an extra package index URL",
    "precision": "float64 (default) or float32: PyTensor floatX and jax x64 together",
    "extends": "id of an earlier row whose keys (and packages) this row starts from",
    "remove_packages": "with extends: names of the base row's packages this row leaves out",
    "as_of": "table of package = \"PEP 440 specifier\": what keeps the row itself when it is resolved as of a date",
    "note": "free text",
}
REQUIRED_ROW_KEYS = ("session", "python", "device", "api", "backends", "baseline", "packages")
TIER_KEYS = ("size", "chains", "tune", "draws", "timeout_s", "speed_rounds")
# Optional whole numbers (0: not set):
# - memory_limit_mb: the resident memory a cell's processes may use before the harness kills the cell;
#   0 means 80% of the machine's memory (harness.worker.handle);
# - max_draws: the run-length cap: a cell whose R-hat or ESS misses its gate samples longer, up to this many
#   draws per chain, before it is judged `did-not-mix`; 0 means no extension beyond `draws`;
# - budget_s: the wall time one CPU row of this tier should take on 2 cores, printed before a run starts;
# - fresh_budget_s: the same on a fresh machine (empty uv and compile caches: every wheel downloaded,
#   every compile paid), printed beside it.
TIER_OPTIONAL = {"memory_limit_mb": 0, "max_draws": 0, "budget_s": 0, "fresh_budget_s": 0}
# Optional switch: speed_alone = true times the speed rounds with no other cell evaluated beside them (cells
# run side by side otherwise: harness.worker.scheduler); for tiers whose timings feed change points.
TIER_FLAGS = {"speed_alone": False}
# Optional list: the built-in models the tier runs (default: every model); models from --models always run.
TIER_LISTS = ("models", "moved")
# `moved`: cells that cannot fit the tier's budget leave it for another tier, each with its reason:
#   moved = [{model = "discrete_cluster", backend = "pymc-jax", to = "full", reason = "..."}]
MOVE_KEYS = ("model", "backend", "to", "reason")
KNOWN_FAILURE_KEYS = ("row", "backend", "model", "reason", "link")
KNOWN_FAILURE_OPTIONAL = ("versions",)  # {package: "PEP 440 specifier"}: the installed versions it holds for
TOP_KEYS = ("rows", "tiers", "known_failures")
_SESSION_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_ROW_ID_RE = re.compile(r"^[a-z][a-z0-9-]*$")


def distribution(requirement: str) -> str:
    """A package name as pinned ("jax[cuda12]") without its extras: the distribution that installs."""
    return re.sub(r"\[.*\]", "", requirement)


class MatrixError(ValueError):
    """matrix.toml is wrong; the message is one line saying where and how to fix it."""


@dataclass(frozen=True)
class Row:
    id: str
    session: str
    python: str
    device: str
    api: str
    backends: Tuple[str, ...]
    baseline: str
    packages: Dict[str, str]
    pymc: Optional[str] = None
    find_links: Tuple[str, ...] = ()
    index_url: Optional[str] = None
    precision: str = "float64"
    note: str = ""
    as_of: Dict[str, str] = field(default_factory=dict)  # distribution -> specifier kept when resolved as of a date

    @property
    def session_name(self) -> str:
        """The name nox gives the session that runs this row."""
        return f"{self.session}(pymc={self.pymc!r})" if self.pymc else self.session

    @property
    def requirements(self) -> List[str]:
        return [f"{name}=={version}" for name, version in self.packages.items()]

    @property
    def dated_requirements(self) -> List[str]:
        """The row's packages (extras kept) without their pins, each with its `as_of` constraint: what the
        row is on any date (`pymc<6` stays a pymc 5 row in 2027)."""
        return [f"{name}{self.as_of.get(distribution(name), '')}" for name in self.packages]

    @property
    def on_gpu(self) -> bool:
        return self.device != "cpu"

    def to_dict(self) -> Dict[str, Any]:
        """The row as the run plan and every results file record it."""
        return {
            "id": self.id,
            "session": self.session_name,
            "python": self.python,
            "device": self.device,
            "api": self.api,
            "backends": list(self.backends),
            "baseline": self.baseline,
            "packages": dict(self.packages),
            "find_links": list(self.find_links),
            "index_url": self.index_url,
            "precision": self.precision,
            "as_of": dict(self.as_of),
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Row":
        """The inverse of to_dict (a plan's row); the session name splits back into session and pymc."""
        found = re.match(r"^([a-z][a-z0-9_]*)\(pymc='(\d+)'\)$", data["session"])
        session, pymc = (found.group(1), found.group(2)) if found else (data["session"], None)
        return cls(
            id=data["id"], session=session, pymc=pymc, python=data["python"], device=data.get("device", "cpu"),
            api=data["api"], backends=tuple(data["backends"]), baseline=data.get("baseline") or data["backends"][0],
            packages=dict(data.get("packages", {})), find_links=tuple(data.get("find_links") or ()),
            index_url=data.get("index_url"), precision=data.get("precision", "float64"),
            as_of=dict(data.get("as_of") or {}),
        )


@dataclass(frozen=True)
class Tier:
    name: str
    size: str
    chains: int
    tune: int
    draws: int
    timeout_s: int
    speed_rounds: int
    memory_limit_mb: int = 0
    max_draws: int = 0
    budget_s: int = 0
    fresh_budget_s: int = 0
    models: Optional[Tuple[str, ...]] = None
    moved: Tuple[Dict[str, str], ...] = ()
    speed_alone: bool = False

    def move_of(self, model: str, backend: str) -> Optional[Dict[str, str]]:
        """The entry that moves this cell out of the tier, or None."""
        return next((m for m in self.moved if (m["model"], m["backend"]) == (model, backend)), None)

    @property
    def draws_cap(self) -> int:
        """The most draws per chain a cell may take while its R-hat or ESS misses the gate."""
        return max(self.max_draws, self.draws)

    def to_dict(self) -> Dict[str, Any]:
        data = {"name": self.name, **{k: getattr(self, k) for k in (*TIER_KEYS, *TIER_OPTIONAL, *TIER_FLAGS)}}
        data["models"] = list(self.models) if self.models is not None else None
        data["moved"] = [dict(m) for m in self.moved]
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Tier":
        models = data.get("models")
        return cls(name=data["name"], **{k: data[k] for k in TIER_KEYS},
                   **{k: data.get(k, d) for k, d in {**TIER_OPTIONAL, **TIER_FLAGS}.items()},
                   models=tuple(models) if models is not None else None,
                   moved=tuple(dict(m) for m in data.get("moved") or ()))


@dataclass(frozen=True)
class KnownFailure:
    row: str
    backend: str
    model: str
    reason: str
    link: str
    versions: Dict[str, str] = field(default_factory=dict)  # package -> specifier the installed version must meet

    def matches(self, row: str, backend: str, model: str,
                installed: Optional[Mapping[str, Optional[str]]] = None) -> bool:
        """Does the entry hold for this cell? With `versions` it holds only where every named package's
        installed version (`installed`: package -> version, None when absent) meets its specifier; a
        package not installed, or versions not known, and the cell is judged normally."""
        if not all(fnmatch.fnmatchcase(value, pattern)
                   for value, pattern in ((row, self.row), (backend, self.backend), (model, self.model))):
            return False
        if not self.versions:
            return True
        from packaging.specifiers import SpecifierSet
        from packaging.utils import canonicalize_name

        found = {canonicalize_name(name): version for name, version in (installed or {}).items()}
        for package, specifier in self.versions.items():
            version = found.get(canonicalize_name(package))
            if version is None or not SpecifierSet(specifier).contains(version, prereleases=True):
                return False
        return True

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {k: getattr(self, k) for k in KNOWN_FAILURE_KEYS}
        if self.versions:
            data["versions"] = dict(self.versions)
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "KnownFailure":
        return cls(**{k: data[k] for k in KNOWN_FAILURE_KEYS}, versions=dict(data.get("versions") or {}))


@dataclass(frozen=True)
class Matrix:
    source: str
    rows: Dict[str, Row]
    tiers: Dict[str, Tier]
    known_failures: Tuple[KnownFailure, ...] = field(default_factory=tuple)

    def sessions(self) -> Dict[str, List[Row]]:
        """Rows grouped by nox session, in file order."""
        grouped: Dict[str, List[Row]] = {}
        for row in self.rows.values():
            grouped.setdefault(row.session, []).append(row)
        return grouped

    def row_for_session(self, session: str, pymc: Optional[str] = None) -> Row:
        for row in self.rows.values():
            if row.session == session and row.pymc == pymc:
                return row
        raise MatrixError(f"{self.source}: no row has session={session!r} and pymc={pymc!r}")

    def find_row(self, name: str) -> Optional[Row]:
        """The row with this id or this session name (`cuda-pymc6` or "cuda(pymc='6')"), or None."""
        return next((row for row in self.rows.values() if name in (row.id, row.session_name)), None)

    def known_failures_for(self, row_id: str) -> List[KnownFailure]:
        return [kf for kf in self.known_failures if fnmatch.fnmatchcase(row_id, kf.row)]


def load(path: Path | str) -> Matrix:
    """Read and validate a matrix file; raise MatrixError with a one-line message on any problem."""
    path = Path(path)
    name = path.name
    try:
        text = path.read_text()
    except OSError as exc:
        raise MatrixError(f"{name}: cannot read {path}: {exc.strerror}") from None
    _reject_duplicate_tables(text, name)
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        try:
            import tomli as tomllib
        except ImportError:
            raise MatrixError(f"{name}: reading it on Python < 3.11 needs tomli: `pip install tomli`") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MatrixError(f"{name}: not valid TOML: {exc}") from None
    return parse(data, name)


def _reject_duplicate_tables(text: str, name: str) -> None:
    """Name a duplicated row before the TOML parser gives its generic 'cannot declare twice' message."""
    seen: Dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        match = re.match(r"^\s*\[rows\.(\"[^\"]+\"|[A-Za-z0-9_-]+)\]\s*(#.*)?$", line)
        if not match:
            continue
        row_id = match.group(1).strip('"')
        if row_id in seen:
            raise MatrixError(
                f"{name}: row {row_id!r} is defined twice (lines {seen[row_id]} and {lineno}); "
                "row ids must be unique: rename or delete one"
            )
        seen[row_id] = lineno


def parse(data: Dict[str, Any], name: str = "matrix.toml") -> Matrix:
    for key in data:
        if key not in TOP_KEYS:
            raise MatrixError(f"{name}: unknown top-level key {key!r}; expected one of {', '.join(TOP_KEYS)}")
    rows_data = data.get("rows")
    if not isinstance(rows_data, dict) or not rows_data:
        raise MatrixError(f"{name}: no [rows.<id>] tables; add at least one row")
    rows = {row_id: _parse_row(row_id, spec, name) for row_id, spec in _expand_extends(rows_data, name).items()}
    _check_unique_sessions(rows, name)
    tiers = _parse_tiers(data.get("tiers"), name)
    known = tuple(
        _parse_known_failure(i, spec, rows, name) for i, spec in enumerate(data.get("known_failures", []))
    )
    return Matrix(source=name, rows=rows, tiers=tiers, known_failures=known)


def _expand_extends(rows_data: Dict[str, Any], name: str) -> Dict[str, Any]:
    """A row with `extends = "other"` starts from the other row's keys; its own keys and packages win.

    Packages merge by distribution: a pin of `jax[cuda12]` replaces the base row's `jax` (or any other
    extras variant of it) in place, so a GPU row never carries both. `remove_packages` drops base packages.
    """
    expanded: Dict[str, Any] = {}
    for row_id, spec in rows_data.items():
        if isinstance(spec, dict) and "extends" in spec:
            base_id = spec["extends"]
            if base_id not in expanded:
                raise MatrixError(f"{name}: rows.{row_id}.extends: {base_id!r} is not a row defined above this one")
            base = {k: v for k, v in expanded[base_id].items() if k != "note"}
            own = {k: v for k, v in spec.items() if k not in ("extends", "packages", "remove_packages")}
            spec = dict(base, **own, packages=_merge_packages(row_id, base.get("packages", {}), spec, name))
        elif isinstance(spec, dict) and "remove_packages" in spec:
            raise MatrixError(f"{name}: rows.{row_id}.remove_packages: only a row with `extends` can remove packages")
        expanded[row_id] = spec
    return expanded


def _merge_packages(row_id: str, base: Dict[str, Any], spec: Dict[str, Any], name: str) -> Dict[str, Any]:
    where = f"{name}: rows.{row_id}"
    own = spec.get("packages", {})
    if not isinstance(own, dict):
        raise MatrixError(f"{where}.packages: must be a table of package = \"exact version\" pins")
    removed = spec.get("remove_packages", [])
    if not isinstance(removed, list) or not all(isinstance(r, str) for r in removed):
        raise MatrixError(f"{where}.remove_packages: must be a list of package names, got {removed!r}")
    base_names = {distribution(package): package for package in base}
    for package in removed:
        if distribution(package) not in base_names:
            raise MatrixError(f"{where}.remove_packages: {package!r} is not a package of rows.{spec['extends']}; "
                              f"its packages: {', '.join(base)}")
        if distribution(package) in {distribution(p) for p in own}:
            raise MatrixError(f"{where}: {package!r} is both pinned and removed; keep one")
    replacing = {distribution(package): package for package in own}
    merged: Dict[str, Any] = {}
    for package, version in base.items():
        bare = distribution(package)
        if bare in {distribution(r) for r in removed}:
            continue
        if bare in replacing:  # the row's own pin (perhaps another extras variant) takes the base's place
            merged[replacing[bare]] = own[replacing[bare]]
        else:
            merged[package] = version
    merged.update({package: version for package, version in own.items() if package not in merged})
    return merged


def _parse_row(row_id: str, spec: Any, name: str) -> Row:
    where = f"{name}: rows.{row_id}"
    if not _ROW_ID_RE.match(row_id):
        raise MatrixError(f"{where}: row id must be lower-case letters, digits and '-' (e.g. cpu-pymc6)")
    _check_table(spec, ROW_KEYS, REQUIRED_ROW_KEYS, where)

    session = _string(spec, "session", where)
    if not _SESSION_RE.match(session):
        raise MatrixError(f"{where}.session: {session!r} must be a Python identifier in lower case (e.g. cpu)")
    pymc = spec.get("pymc")
    if pymc is not None and (not isinstance(pymc, str) or not pymc.isdigit()):
        raise MatrixError(f"{where}.pymc: must be a quoted major version such as \"6\", got {pymc!r}")
    python = _string(spec, "python", where)
    if not re.match(r"^3\.\d+$", python):
        raise MatrixError(f"{where}.python: {python!r} must be a version like \"3.12\"")
    device = _choice(spec, "device", DEVICES, where)
    api = _choice(spec, "api", APIS, where)
    backends = _string_list(spec, "backends", where)
    if not backends:
        raise MatrixError(f"{where}.backends: list at least one backend")
    for backend in backends:
        if backend not in BACKENDS:
            raise MatrixError(
                f"{where}.backends: unknown backend {backend!r}; known: {', '.join(sorted(BACKENDS))}"
            )
        if BACKENDS[backend].api != api:
            raise MatrixError(
                f"{where}.backends: {backend!r} is a {BACKENDS[backend].api} backend but the row has api={api!r}"
            )
    baseline = _string(spec, "baseline", where)
    if baseline not in backends:
        raise MatrixError(f"{where}.baseline: {baseline!r} is not one of the row's backends ({', '.join(backends)}); "
                          "name the backend the report compares the others against")
    packages = _parse_packages(spec.get("packages"), f"{where}.packages")
    as_of = _parse_specifiers(spec["as_of"], f"{where}.as_of", "pymc = \"<6\"") if "as_of" in spec else {}
    for package in as_of:
        if package not in {distribution(name) for name in packages}:
            raise MatrixError(f"{where}.as_of.{package}: not a package of the row; its packages: {', '.join(packages)}")
    precision = _choice(spec, "precision", PRECISIONS, where) if "precision" in spec else "float64"
    return Row(
        id=row_id,
        session=session,
        pymc=pymc,
        python=python,
        device=device,
        api=api,
        backends=tuple(backends),
        baseline=baseline,
        packages=packages,
        find_links=tuple(_string_list(spec, "find_links", where)) if "find_links" in spec else (),
        index_url=_string(spec, "index_url", where) if "index_url" in spec else None,
        precision=precision,
        note=_string(spec, "note", where) if "note" in spec else "",
        as_of=as_of,
    )


def _parse_packages(spec: Any, where: str) -> Dict[str, str]:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import InvalidVersion, Version

    if not isinstance(spec, dict) or not spec:
        raise MatrixError(f"{where}: must be a table of package = \"exact version\" pins")
    packages = {}
    for package, version in spec.items():
        if not isinstance(version, str):
            raise MatrixError(f"{where}.{package}: version must be a quoted string, got {version!r}")
        try:
            Version(version)
        except InvalidVersion:
            raise MatrixError(
                f"{where}.{package}: {version!r} is not a valid version (PEP 440); pin an exact release such as \"1.2.3\""
            ) from None
        try:
            Requirement(f"{package}=={version}")
        except InvalidRequirement:
            raise MatrixError(f"{where}: {package!r} is not a valid package name (extras go in brackets: jax[cuda12])") from None
        packages[package] = version
    return packages


def _parse_specifiers(spec: Any, where: str, example: str) -> Dict[str, str]:
    """A table of package = "PEP 440 specifier" (`as_of` of a row, `versions` of a known failure)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if not isinstance(spec, dict) or not spec:
        raise MatrixError(f"{where}: must be a table of package = \"PEP 440 specifier\" (e.g. {{{example}}}), got {spec!r}")
    for package, specifier in spec.items():
        try:
            Requirement(package)
        except InvalidRequirement:
            raise MatrixError(f"{where}: {package!r} is not a valid package name") from None
        if distribution(package) != package:
            raise MatrixError(f"{where}.{package}: name the package without extras ({distribution(package)!r})")
        try:
            valid = isinstance(specifier, str) and bool(SpecifierSet(specifier))
        except InvalidSpecifier:
            valid = False
        if not valid:
            raise MatrixError(f"{where}.{package}: {specifier!r} is not a PEP 440 version specifier; "
                              "write one such as \">=1.6\" or \"<6\"")
    return dict(spec)


def _check_unique_sessions(rows: Dict[str, Row], name: str) -> None:
    by_session: Dict[str, str] = {}
    for row in rows.values():
        other = by_session.setdefault(row.session_name, row.id)
        if other != row.id:
            raise MatrixError(
                f"{name}: rows.{row.id}: session {row.session_name} is already taken by rows.{other}; "
                "give one of them another session or pymc value"
            )


def _parse_tiers(spec: Any, name: str) -> Dict[str, Tier]:
    if not isinstance(spec, dict) or not {"quick", "full"} <= set(spec):
        raise MatrixError(f"{name}: needs [tiers.quick] and [tiers.full] tables")
    tiers = {}
    for tier_name, values in spec.items():
        where = f"{name}: tiers.{tier_name}"
        _check_table(values, (*TIER_KEYS, *TIER_OPTIONAL, *TIER_FLAGS, *TIER_LISTS), TIER_KEYS, where)
        numbers = {k: values[k] for k in TIER_KEYS[1:]}
        numbers.update({k: values.get(k, default) for k, default in TIER_OPTIONAL.items()})
        for key, value in numbers.items():
            lowest = 0 if key in TIER_OPTIONAL else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < lowest:
                raise MatrixError(f"{where}.{key}: must be a {'whole number >= 0' if lowest == 0 else 'positive whole number'}, got {value!r}")
        flags = {k: values.get(k, default) for k, default in TIER_FLAGS.items()}
        for key, value in flags.items():
            if not isinstance(value, bool):
                raise MatrixError(f"{where}.{key}: must be true or false, got {value!r}")
        models = tuple(_string_list(values, "models", where)) if "models" in values else None
        moved = tuple(_parse_move(i, m, spec, f"{where}.moved") for i, m in enumerate(values.get("moved", [])))
        backends = [m["backend"] for m in moved]
        twice = sorted({b for b in backends if backends.count(b) > 1})
        if twice:  # a tier keeps every backend on all but one of its models
            raise MatrixError(f"{where}.moved: at most one cell per backend may leave a tier; {', '.join(twice)} "
                              "moves more: give those models a smaller size for the tier instead")
        tiers[tier_name] = Tier(name=tier_name, size=_string(values, "size", where), models=models, moved=moved,
                                **numbers, **flags)
    return tiers


def _parse_move(index: int, move: Any, tiers: Dict[str, Any], where: str) -> Dict[str, str]:
    where = f"{where}[{index}]"
    _check_table(move, MOVE_KEYS, MOVE_KEYS, where)
    entry = {key: _string(move, key, where) for key in MOVE_KEYS}
    if entry["backend"] not in BACKENDS:
        raise MatrixError(f"{where}.backend: unknown backend {entry['backend']!r}; known: {', '.join(sorted(BACKENDS))}")
    if entry["to"] not in tiers:
        raise MatrixError(f"{where}.to: {entry['to']!r} is not a tier; tiers: {', '.join(tiers)}")
    return entry


def _parse_known_failure(index: int, spec: Any, rows: Dict[str, Row], name: str) -> KnownFailure:
    where = f"{name}: known_failures[{index}]"
    _check_table(spec, (*KNOWN_FAILURE_KEYS, *KNOWN_FAILURE_OPTIONAL), (), where)
    for key in KNOWN_FAILURE_KEYS:
        if not isinstance(spec.get(key), str) or not spec[key].strip():
            raise MatrixError(f"{where}: missing key {key!r} (every known failure needs row, backend, model, reason and link)")
    if not any(fnmatch.fnmatchcase(row_id, spec["row"]) for row_id in rows):
        raise MatrixError(f"{where}.row: {spec['row']!r} matches no row; known rows: {', '.join(rows)}")
    if not any(fnmatch.fnmatchcase(backend, spec["backend"]) for backend in BACKENDS):
        raise MatrixError(f"{where}.backend: {spec['backend']!r} matches no backend; known: {', '.join(sorted(BACKENDS))}")
    versions = _parse_specifiers(spec["versions"], f"{where}.versions", "blackjax = \">=1.6\"") if "versions" in spec else {}
    matched = [row for row_id, row in rows.items() if fnmatch.fnmatchcase(row_id, spec["row"])]
    for package in versions:  # only a row's own packages have their installed versions recorded
        if not any(package in {distribution(p) for p in row.packages} for row in matched):
            raise MatrixError(f"{where}.versions.{package}: not a package of any row the entry matches "
                              f"({', '.join(row.id for row in matched)}); only a row's packages have recorded versions")
    return KnownFailure(**{k: spec[k] for k in KNOWN_FAILURE_KEYS}, versions=versions)


def _check_table(spec: Any, allowed, required, where: str) -> None:
    """A table with no unknown keys and every required one."""
    if not isinstance(spec, dict):
        raise MatrixError(f"{where}: must be a table")
    for key in spec:
        if key not in allowed:
            raise MatrixError(f"{where}: unknown key {key!r}; allowed keys: {', '.join(allowed)}")
    for key in required:
        if key not in spec:
            detail = f" ({allowed[key]})" if isinstance(allowed, dict) else ""
            raise MatrixError(f"{where}: missing key {key!r}{detail}")


def _string(spec: Dict[str, Any], key: str, where: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not value:
        raise MatrixError(f"{where}.{key}: must be a non-empty string, got {value!r}")
    return value


def _string_list(spec: Dict[str, Any], key: str, where: str) -> List[str]:
    value = spec.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MatrixError(f"{where}.{key}: must be a list of strings, got {value!r}")
    return value


def _choice(spec: Dict[str, Any], key: str, choices: Tuple[str, ...], where: str) -> str:
    value = spec.get(key)
    if value not in choices:
        raise MatrixError(f"{where}.{key}: {value!r} is not one of {', '.join(choices)}")
    return value
