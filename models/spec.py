"""The interface every model implements, built-in or from a user's `--models DIR`.

A model file defines `MODEL = SomeSpec()` where `SomeSpec` subclasses `ModelSpec` and fills in:

- `name`, `description`, `params` (the free variables the correctness suite checks, by name),
  `sizes` (tier size name -> knobs passed to `data`), and `discrete` when it has discrete free variables;
- `data(**knobs)`: the data set, generated deterministically (numpy's RandomState streams are frozen
  across numpy versions, so every row sees the same numbers);
- `build(pm, api, data)`: the model, given the imported `pymc3` or `pymc` module and its API family;
- the truth: either `analytic_truth(data)` returning {scalar name: {"mean", "sd"}}, or a reference file
  `references/<name>.json` beside the model file, written by `nox -s reference -- <name>`.

Runs inside every row's environment, Python 3.8 included: keep to the standard library and numpy at import.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

Truth = Dict[str, Dict[str, float]]
FALLBACK_SIZE = "quick"  # a model need define only quick and full; smoke and timeline tiers use quick


class ModelSpec:
    name: str = ""
    description: str = ""
    params: List[str] = []
    sizes: Dict[str, Dict[str, Any]] = {}
    discrete: bool = False
    target_accept: float = 0.8
    # For simulation-based calibration: observed variable name -> the data key it comes from.
    observed: Dict[str, str] = {}
    reference_dir: Optional[Path] = None  # set by the registry: the model file's folder / "references"

    def data(self, **knobs: Any) -> Dict[str, Any]:
        raise NotImplementedError

    def build(self, pm: Any, api: str, data: Dict[str, Any]) -> Any:
        raise NotImplementedError

    def simulator(self, pm: Any, data: Dict[str, Any]) -> Any:
        """The model simulation-based calibration draws parameters and data from: the model as intended.
        It is the fitted model itself, except for a mutant, whose simulator stays the original's."""
        return self.build(pm, "pymc", data)

    def analytic_truth(self, data: Dict[str, Any]) -> Optional[Truth]:
        """Closed-form posterior moments, for models that have them."""
        return None

    def reference_model(self, pm: Any, data: Dict[str, Any]) -> Any:
        """The model whose long run makes the reference (e.g. a marginalised form of a discrete model)."""
        return self.build(pm, "pymc", data)

    def knobs(self, size: str) -> Dict[str, Any]:
        """The data knobs of a tier's size; a tier whose size the model does not define uses `quick`."""
        if size not in self.sizes:
            size = FALLBACK_SIZE
        if size not in self.sizes:
            raise KeyError(f"model {self.name!r} has no size {size!r} (nor {FALLBACK_SIZE!r}); it has {sorted(self.sizes)}")
        return dict(self.sizes[size])

    def truth(self, size: str) -> Optional[Truth]:
        knobs = self.knobs(size)
        analytic = self.analytic_truth(self.data(**knobs))
        if analytic is not None:
            return analytic
        entry = self.reference(knobs)
        return entry["params"] if entry else None

    @property
    def reference_path(self) -> Optional[Path]:
        return self.reference_dir / f"{self.name}.json" if self.reference_dir else None

    def reference(self, knobs: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """The stored reference entry for these knobs, with its provenance, or None."""
        path = self.reference_path
        if path is None or not path.exists():
            return None
        for entry in json.loads(path.read_text())["entries"]:
            if entry["size"] == knobs:
                return entry
        return None
