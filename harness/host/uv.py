"""Finding uv, and reading what its resolver says when a row does not resolve."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from typing import List

INSTALL_TIMEOUT_S = 1800


class UvMissing(RuntimeError):
    """No uv executable; the message says how to get one."""


def uv_command() -> List[str]:
    """The uv executable: on PATH, or beside the Python running nox (a venv whose bin/ is not on PATH).
    Not `python -m uv`: under pipx, nox's Python has no uv module, while the uv on PATH works."""
    found = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if found is None:
        raise UvMissing("uv is not on PATH nor beside nox's Python: install it with `pip install uv` (or `pipx install uv`)")
    return [found]


def resolver_reason(output: str, limit: int = 600) -> str:
    """The resolver's explanation in one line: its error line and the cause lines that follow it."""
    lines = [re.sub(r"\s+", " ", re.sub(r"[╰─▶×│]", " ", line)).strip() for line in output.splitlines()]
    lines = [line for line in lines if line]
    start = next((i for i, line in enumerate(lines) if re.search(r"error|no solution|could not|failed", line, re.I)), None)
    picked = lines[start : start + 6] if start is not None else lines[-4:]
    return " ".join(picked)[:limit] or "installer failed without output"
