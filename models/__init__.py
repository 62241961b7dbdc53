"""The model registry: every `MODEL` defined in this folder, plus those in folders passed with --models."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Dict, Iterable

from models.spec import ModelSpec

BUILTIN_DIR = Path(__file__).resolve().parent
_SKIP = {"__init__", "spec"}


class ModelLoadError(ValueError):
    """A model file could not be loaded; the message names the file and what to fix."""


def _module_files(folder: Path) -> Iterable[Path]:
    return sorted(p for p in folder.glob("*.py") if p.stem not in _SKIP and not p.stem.startswith("_"))


def _import(path: Path, builtin: bool):
    if builtin:
        return importlib.import_module(f"models.{path.stem}")
    tag = hashlib.sha1(str(path.parent).encode()).hexdigest()[:8]
    spec = importlib.util.spec_from_file_location(f"user_models_{tag}.{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_models(extra_dirs: Iterable[str] = ()) -> Dict[str, ModelSpec]:
    """name -> ModelSpec for the built-in models and every model file in `extra_dirs`."""
    found: Dict[str, ModelSpec] = {}
    origins: Dict[str, Path] = {}
    folders = [(BUILTIN_DIR, True)] + [(Path(d).resolve(), False) for d in extra_dirs]
    for folder, builtin in folders:
        if not folder.is_dir():
            raise ModelLoadError(f"--models {folder}: no such folder; pass a folder of model files (see README, 'Add a model')")
        if not builtin and str(folder) not in sys.path:
            sys.path.append(str(folder))  # so model files can import helpers that live beside them
        for path in _module_files(folder):
            try:
                module = _import(path, builtin)
            except Exception as exc:  # a user's file may fail in any way; say which file
                raise ModelLoadError(f"{path}: cannot import it: {type(exc).__name__}: {exc}") from None
            model = getattr(module, "MODEL", None)
            if model is None:
                continue  # helpers may live beside models
            if not isinstance(model, ModelSpec) or not model.name:
                raise ModelLoadError(f"{path}: MODEL must be an instance of models.spec.ModelSpec with a name")
            if model.name in found:
                raise ModelLoadError(f"{path}: model name {model.name!r} is already defined in {origins[model.name]}; rename one")
            model.reference_dir = path.parent / "references"
            found[model.name] = model
            origins[model.name] = path
    return found
