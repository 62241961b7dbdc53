"""The run plan: what the suites need to know about a row and how it was installed, read once.

The host (a nox session, or a preinstalled run) writes it as JSON and passes `--plan`; the suites and every
worker read it back into a `Plan`, whose row, tier and known failures carry their defaults in one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from harness.common.matrix import KnownFailure, Matrix, Row, Tier, distribution

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class Plan:
    row: Row
    tiers: Dict[str, Tier]
    known_failures: List[KnownFailure] = field(default_factory=list)
    unavailable: Dict[str, str] = field(default_factory=dict)  # backend or "*" -> why it cannot run
    device_missing: Optional[str] = None
    install: Dict[str, Any] = field(default_factory=dict)
    tier_name: str = "full"  # which of `tiers` this run uses (the suites' --quick picks "quick")
    model_dirs: List[str] = field(default_factory=list)  # the user's --models folders
    cold_cache: Optional[str] = None  # --cold: the empty folder every compile cache of the run starts from

    @property
    def tier(self) -> Tier:
        return self.tiers[self.tier_name]

    def known_failure(self, model: str, backend: str) -> Optional[KnownFailure]:
        """The entry that holds for this cell, judged by the versions the row installed (the install record's
        `resolved`; where there is none, as for asv, the row's pins, which is what was installed)."""
        installed = self.install.get("resolved") or {distribution(name): v for name, v in self.row.packages.items()}
        return next((kf for kf in self.known_failures if kf.matches(self.row.id, backend, model, installed)), None)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "row": self.row.to_dict(),
            "tiers": {name: tier.to_dict() for name, tier in self.tiers.items()},
            "known_failures": [kf.to_dict() for kf in self.known_failures],
            "unavailable": dict(self.unavailable),
            "device_missing": self.device_missing,
            "install": dict(self.install),
            "tier_name": self.tier_name,
            "model_dirs": list(self.model_dirs),
            "cold_cache": self.cold_cache,
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Plan":
        return cls(
            row=Row.from_dict(data["row"]),
            tiers={name: Tier.from_dict(tier) for name, tier in data["tiers"].items()},
            known_failures=[KnownFailure.from_dict(kf) for kf in data.get("known_failures", [])],
            unavailable=dict(data.get("unavailable") or {}),
            device_missing=data.get("device_missing"),
            install=dict(data.get("install") or {}),
            tier_name=data.get("tier_name", "full"),
            model_dirs=list(data.get("model_dirs") or []),
            cold_cache=data.get("cold_cache"),
        )

    def save(self, path: Path) -> Path:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> "Plan":
        return cls.from_dict(json.loads(Path(path).read_text()))


def row_plan(matrix: Matrix, row: Row, unavailable: Dict[str, str], device_missing: Optional[str],
             install: Dict[str, Any]) -> Plan:
    """The plan of one row run, from the matrix and the install outcome."""
    return Plan(row=row, tiers=dict(matrix.tiers), known_failures=matrix.known_failures_for(row.id),
                unavailable=unavailable, device_missing=device_missing, install=install)


def suite_command(python: str, plan_path: Path, posargs: List[str]) -> List[str]:
    """The pytest call that runs the suites of a row over its plan."""
    return [python, "-m", "pytest", str(ROOT / "suites"), "-p", "no:cacheprovider", "-rN", "--tb=no",
            f"--plan={plan_path}", *posargs]
