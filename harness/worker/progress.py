"""What a person watching a row run sees: one line per finished cell with the row's ETA (on tiers that time
alone, also one when a cell's sampling is done, before its speed rounds), and a closing summary. The suites
print these instead of pytest's dots (`-q` after `--` leaves only the summary)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from typing import Any, Collection, Dict, List, Optional, Tuple

SLOWEST_SHOWN = 5


def clock(seconds: Optional[float]) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else f"{seconds // 60}:{seconds % 60:02d}"


CellKey = Tuple[str, str]  # (model, backend)


class Progress:
    """Counts finished cells of a row and estimates the time left: from what each cell took in the last
    complete run here, scaled by how this run compares so far; without it, from the cells that really ran.

    `expected`: {(model, backend): (evaluation, speed rounds)}, each as the wall time it adds to a run (its
    seconds over the cells running beside it). A cell's evaluation counts as done when `evaluated` tells it,
    so on tiers that evaluate a whole look-ahead before any speed rounds the estimate moves from the start."""

    def __init__(self, total: int, expected: Optional[Dict[CellKey, Tuple[float, float]]] = None):
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.ran: List[float] = []  # wall seconds of the cells that sampled (skipped cells cost next to nothing)
        self.expected = {key: list(parts) for key, parts in (expected or {}).items()}  # the parts not done yet
        self.expected_done = 0.0  # the expected seconds of the work done so far

    def finished(self, cell: Dict[str, Any], skipped: bool) -> str:
        """The progress line for a cell that just finished (correctness, plus speed when it ran)."""
        self.done += 1
        self.expected_done += sum(self.expected.pop((cell["model"], cell["backend"]), ()))
        wall = (cell.get("timings") or {}).get("cell_wall_s")
        if not skipped and wall is not None:
            self.ran.append(wall)
        left = self.eta_s()
        reason = "" if cell["status"] == "passed" else f"  {(cell.get('reason') or '')[:90]}"
        return (f"[{self.done:>3}/{self.total}] {cell['model']:<18} {cell['backend']:<20} {cell['status']:<14} "
                f"{'-' if wall is None else f'{wall:7.1f} s'}  elapsed {clock(time.monotonic() - self.started)}, "
                f"left ~{clock(left)}{reason}")

    def evaluated(self, cell: Dict[str, Any], speed_follows: bool) -> str:
        """The line for a cell whose sampling and verdict are done ahead of its turn. Tiers that time alone
        evaluate a whole look-ahead of cells before any of their speed rounds, so without these lines the
        first cell would be reported minutes after the run began."""
        parts = self.expected.get((cell["model"], cell["backend"]))
        if parts:
            self.expected_done += parts[0]
            parts[0] = 0.0
        left = self.eta_s()
        wall = (cell.get("timings") or {}).get("cell_wall_s")
        after = "speed rounds alone follow" if speed_follows else "no speed rounds"
        return (f"{'':8} {cell['model']:<18} {cell['backend']:<20} {cell['status']:<14} "
                f"{'-' if wall is None else f'{wall:7.1f} s'}  evaluated at {clock(time.monotonic() - self.started)}, "
                f"left ~{clock(left)}; {after}")

    def eta_s(self) -> Optional[float]:
        if self.done >= self.total:
            return 0.0
        if self.expected_done > 0:
            left = sum(sum(parts) for parts in self.expected.values())
            return left * (time.monotonic() - self.started) / self.expected_done
        if not self.ran:
            return None
        share_running = len(self.ran) / self.done  # the share of cells that sample rather than skip
        per_cell = (time.monotonic() - self.started) / len(self.ran)  # speed rounds and start-up included
        return (self.total - self.done) * share_running * per_cell


def closing_lines(cells: List[Dict[str, Any]], results_path: Any, elapsed_s: float) -> List[str]:
    """Status counts, the slowest cells, where the results are and how to build the report."""
    counts = Counter(cell["status"] for cell in cells)
    timed = sorted((c for c in cells if (c.get("timings") or {}).get("cell_wall_s")),
                   key=lambda c: -c["timings"]["cell_wall_s"])
    lines = [f"{len(cells)} cell{'' if len(cells) == 1 else 's'} in {clock(elapsed_s)}: " + ", ".join(f"{n} {s}" for s, n in counts.most_common())]
    if timed:
        lines.append("slowest: " + ", ".join(f"{c['model']} x {c['backend']} {c['timings']['cell_wall_s']:.0f} s"
                                             for c in timed[:SLOWEST_SHOWN]))
    lines += [f"moved: {c['model']} x {c['backend']}: {c['reason']}" for c in cells if c["status"] == "moved"]
    lines.append(f"results: {results_path}")
    lines.append(f"report:  nox -s report -- {results_path}")
    return lines


def run_seconds(payload: Dict[str, Any], wanted: Collection[Tuple[str, str]]) -> Optional[float]:
    """A finished run's wall time (start to finish: speed rounds and cells side by side included), in the
    share its `wanted` (model, backend) cells took of the summed cell times: what those cells cost."""
    def cell_s(cell: Dict[str, Any]) -> float:
        return (cell.get("timings") or {}).get("cell_wall_s") or 0.0

    try:
        wall = (datetime.fromisoformat(payload["finished"].replace("Z", "+00:00"))
                - datetime.fromisoformat(payload["started"].replace("Z", "+00:00"))).total_seconds()
    except (AttributeError, KeyError, ValueError):
        return None
    total = sum(cell_s(c) for c in payload["cells"])
    share = sum(cell_s(c) for c in payload["cells"] if (c["model"], c["backend"]) in wanted)
    return wall * share / total if total else None
