"""Which versions an environment holds, and how they differ from a row's pins.

Runs inside row environments (nox sessions call `python -c ...installed_versions`, preinstalled runs import
it): the standard library alone.
"""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Any, Dict, List, Optional

from harness.common.matrix import distribution


def installed_versions(packages: List[str]) -> Dict[str, Optional[str]]:
    """Python's version and each package's installed version (None when absent), keyed without extras."""
    found: Dict[str, Optional[str]] = {"python": sys.version.split()[0]}
    for name in packages:
        bare = distribution(name)
        try:
            found[bare] = metadata.version(bare)
        except metadata.PackageNotFoundError:
            found[bare] = None
    return found


def deviations(row: Any, versions: Dict[str, Optional[str]]) -> Dict[str, str]:
    """Packages whose installed version is not the row's pin: {name: "found X, row pins Y"}."""
    out = {}
    for name, pin in row.packages.items():
        bare = distribution(name)
        if versions.get(bare) != pin:
            out[bare] = f"found {versions.get(bare) or 'nothing'}, row pins {pin}"
    if ".".join(versions["python"].split(".")[:2]) != row.python:
        out["python"] = f"found {versions['python']}, row asks for {row.python}"
    return out
