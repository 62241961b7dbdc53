"""The timeline section: per row, the stored points of history/ (harness.host.timeline) as a grid of dates x
backends per model, coloured by status with ESS/s; which backend worked when; and for each cell the first
date it broke or recovered next to the versions that changed at that point. A failure that `nox -s compare`
ran again at fresh seeds, all passing (the timeline replay's records), is told as the chance failure it
was and does not break the cell's run of passes; a break or recovery the replay attributed names the day
and the release. Speed is drawn per cell, not judged; what `nox -s compare` confirmed between two dates (an
interleaved A/B of seconds per gradient evaluation), and the release it named, is listed per row."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Collection, Optional

from harness.common.statuses import FAILED, PASSED
from harness.host.abtest import FASTER, SLOWER
from harness.host.report.comparison import NO_EVIDENCE, SpeedEvidence, chance_failure
from harness.host.report.loading import Run, ess_per_second, in_registry_order
from harness.host.report.rendering import (
    Block,
    Bullets,
    Cell,
    Heading,
    Para,
    Table,
    fmt_rate,
    sparkline,
    squash,
    status_css,
    text_sparkline,
)


def timeline_points(runs: list[Run]) -> dict[str, list[tuple[str, Run, dict]]]:
    """{row: [(date, run, versions)]} of the runs that are stored timeline points, oldest date first; versions:
    the row packages the point's install resolved (else the resolution stored with it)."""
    out: dict[str, list[tuple[str, Run, dict]]] = {}
    for run in runs:
        if run.point:
            out.setdefault(run.row, []).append((run.point, run, run.resolved))
    return {row: sorted(points, key=lambda p: p[0]) for row, points in sorted(out.items())}


def version_changes(before: Optional[dict], after: dict) -> str:
    if before is None:
        return ", ".join(f"{n} {v}" for n, v in sorted(after.items()))
    names = sorted(set(before) | set(after))
    moved = [f"{n} {before.get(n, '-')} -> {after.get(n, '-')}" for n in names if before.get(n) != after.get(n)]
    return ", ".join(moved) or "nothing"


def chance_failures(evidence: SpeedEvidence) -> dict[tuple[str, str, str, str], str]:
    """{(row, model, backend, date): what the comparison found} for each side of a `nox -s compare`
    (labelled by its date) that passed: at fresh seeds after failing at the suite's, or at the suite's seed
    itself. Where the stored point of that date failed, the failure was chance: fresh seeds passed, or the
    stored draws did not even repeat (numba compiles for the CPU it runs on: radon x pymc-numba's stored
    points, run on an AMD EPYC, failed where the same seed passed on an Intel Xeon)."""
    found = {}
    for c in sorted(evidence.comparisons, key=lambda c: str(c.get("finished") or c.get("started"))):
        for side, which in (("A", "baseline"), ("B", "candidate")):
            passed = (((c.get("status") or {}).get(side) or {}).get("status")) == PASSED
            said = chance_failure(c, side) or ("passed when run again" if passed else None)
            if said:
                found[(c.get("row"), c.get("model"), c.get("backend"), (c.get(which) or {}).get("label"))] = said
    return found


def failure_signature(reason: Optional[str]) -> str:
    """A failure's reason less what differs between two runs of the same failure: the day a run was as of
    and the paths in parentheses (where its environment lay)."""
    text = re.sub(r" as of \d{4}-\d{2}-\d{2}", "", squash(reason or ""))
    return re.sub(r" \([^()]*/[^()]*\)", "", text)


def failing_reason(before: Optional[dict], after: Optional[dict]) -> Optional[str]:
    """The reason of the side of a status change that did not pass (the later one where neither did)."""
    return (before or {}).get("reason") if (after or {}).get("status") == PASSED else (after or {}).get("reason")


@dataclass(frozen=True)
class Attributed:
    """A status change of a row's backend between two dates that `nox -s compare --attribute` placed: the
    first bad day (where it found one) and what it said, with the change and its failure to match it by."""

    row: str
    backend: str
    good: str  # the dates compared
    bad: str
    first_bad: Optional[str]
    said: str
    change: tuple[Optional[str], Optional[str]]  # the statuses at good and bad
    failure: str  # failure_signature of the side that did not pass

    def explains(self, row: str, backend: str, before: str, at: str, change: tuple[Optional[str], Optional[str]],
                 reason: Optional[str]) -> bool:
        """Whether this is what changed a cell between two adjacent points of the row: these very dates, or
        wider ones whose first bad day falls between these (points stored after it ran); for the same
        backend, or for another whose cell changed alike for the same failure (numpyro-parallel and
        numpyro-vectorized both fail where `import numpyro` does)."""
        day = self.first_bad
        between = (self.good, self.bad) == (before, at) or (day is not None and self.good <= before < day <= at <= self.bad)
        alike = backend == self.backend or (change == self.change and bool(self.failure)
                                           and failure_signature(reason) == self.failure)
        return row == self.row and between and alike


def attributions(evidence: SpeedEvidence) -> list[Attributed]:
    """The `nox -s compare --attribute` results between two dates whose status changed: the days, and the
    release (or that no single one reproduced the change). One attribution per backend and pair of dates
    stands for every model that changed alike, and for other backends that failed the same way; its first
    bad day places it between the points stored since (turns). The latest run of a pair of dates counts."""
    found: dict[tuple, Attributed] = {}
    for c in sorted(evidence.comparisons, key=lambda c: str(c.get("finished") or c.get("started"))):
        said, change = attribution_said(c), c.get("status_change")
        if said and change:  # a speed change's attribution goes with its ratio (speed_changes)
            sides = c.get("status") or {}
            good, bad = ((c.get(which) or {}).get("label") for which in ("baseline", "candidate"))
            found[(c.get("row"), c.get("backend"), good, bad)] = Attributed(
                c.get("row"), c.get("backend"), good, bad, (c.get("attribution") or {}).get("first_bad"),
                "; ".join(said), (change.get("before"), change.get("after")),
                failure_signature(failing_reason(sides.get("A"), sides.get("B"))))
    return list(found.values())


def attribution_said(comparison: dict) -> list[str]:
    """The lines of a comparison's attribution that say something: the days and the release (the list of
    everything that changed between the two days is left to the JSON)."""
    lines = [line.removeprefix("attribution: ") for line in (comparison.get("attribution") or {}).get("lines") or []]
    return [line for line in lines if not line.startswith("changed between them")]


def speed_changes(evidence: SpeedEvidence, row: str) -> list[list[Cell]]:
    """One table row per `nox -s compare` between two dates of the row whose interleaved A/B confirmed a
    change of seconds per gradient evaluation: the cell, B/A with its interval, what the attribution found."""
    out = []
    for c in sorted(evidence.comparisons, key=lambda c: (str((c.get("candidate") or {}).get("label")), str(c.get("backend")))):
        decision = (c.get("speed") or {}).get("decision") or {}
        if c.get("row") != row or decision.get("verdict") not in (SLOWER, FASTER) or "interval" not in decision:
            continue
        iv = decision["interval"]
        out.append([Cell(c.get("backend", "?")), Cell(c.get("model", "?")),
                    Cell(f"{(c.get('baseline') or {}).get('label')} -> {(c.get('candidate') or {}).get('label')}"),
                    Cell(f"{decision['verdict']}: B/A {iv['ratio']:.2f} [{iv['low']:.2f}, {iv['high']:.2f}] "
                         f"({iv['level']:.2%} interval, {decision.get('pairs')} pairs)"),
                    Cell("; ".join(attribution_said(c)) or "not attributed (nox -s compare ... --attribute)")])
    return out


def timeline_section(runs: list[Run], evidence: SpeedEvidence = NO_EVIDENCE) -> list[Block]:
    rows = timeline_points(runs)
    chance, attributed = chance_failures(evidence), attributions(evidence)
    if not rows:
        return []
    blocks: list[Block] = [Heading(2, "Timeline"), Para(
        "Each row as of many dates (nox -s timeline; stored under history/): per model a grid of backends x "
        "dates, coloured by status, with ESS/s. Speed is shown as a series; no change in it is judged here.")]
    for row, points in rows.items():
        dates = [date for date, _, _ in points]
        changed, before = [], None
        for _, _, versions in points:
            changed.append(version_changes(before, versions))
            before = versions
        blocks.append(Heading(3, f"{row}: {len(points)} points, {dates[0]} to {dates[-1]}"))
        blocks.append(Table(["date", "what changed since the point before"],
                            [[Cell(d), Cell(c)] for d, c in zip(dates, changed)]))
        backends = in_registry_order(b for _, run, _ in points for _, b in run.cells)
        confirmed = speed_changes(evidence, row)
        if confirmed:
            blocks.append(Heading(4, "Speed changes confirmed and attributed"))
            blocks.append(Table(["backend", "model", "dates", "seconds per gradient evaluation", "attribution"], confirmed))
        blocks.append(Heading(4, "Which backend worked when"))
        by_chance = {(m, b, d) for (r, m, b, d) in chance if r == row}
        blocks.append(Bullets([f"{backend}: {worked_when(points, backend, by_chance)}" for backend in backends]))
        for model in sorted({m for _, run, _ in points for m, _ in run.cells}):
            table_rows = []
            for backend in backends:
                cells = [run.cells.get((model, backend)) for _, run, _ in points]
                checked = {d for (m, b, d) in by_chance if (m, b) == (model, backend)}
                table_rows.append([Cell(backend)] + [grid_cell(cell) for cell in cells] + [
                    speed_series(dates, cells), Cell(turns(row, model, backend, dates, cells, changed, checked, attributed))])
            blocks.append(Heading(4, model))
            blocks.append(Table(["backend"] + dates + ["ESS/s over the points", "first broke / recovered"], table_rows))
    return blocks


def grid_cell(cell: Optional[dict]) -> Cell:
    if cell is None:
        return Cell("-")
    rate = ess_per_second(cell) if cell["status"] == PASSED else None
    text = cell["status"] + (f"\n{fmt_rate(rate)} ESS/s" if rate is not None else "")
    return Cell(text, note=f"{cell['status']}: {squash(cell['reason'])}" if cell.get("reason") else "",
                css=status_css(cell["status"]))


def speed_series(dates: list[str], cells: list[Optional[dict]]) -> Cell:
    """ESS/s of the passed points as a line, drawn, not judged."""
    rates = [ess_per_second(c) if c and c["status"] == PASSED else None for c in cells]
    points = [(rate, c["status"] if c else "not run", f"{date}: {fmt_rate(rate)} ESS/s")
              for date, rate, c in zip(dates, rates, cells)]
    return Cell("", svg=sparkline(points), sparkline=text_sparkline(rates))


def turns(row: str, model: str, backend: str, dates: list[str], cells: list[Optional[dict]], changed: list[str],
          by_chance: Collection[str] = (), attributed: Collection[Attributed] = ()) -> str:
    """The first date the cell stopped passing and the first it passed again, with that point's changes, and
    what an attribution that explains the change found (`attributed`: attributions()).
    `by_chance`: dates whose failure fresh seeds showed to be chance (chance_failures); they count as passes,
    and are told as such. An unchecked `failed` between two passing points is told as one event: a correct
    sampler fails a cell by chance in up to 1% of cells (docs/verdicts.md), so over a timeline's hundreds of
    cells a few such points are expected, and the command that checks it comes with it."""
    chance = [cell is not None and cell["status"] == FAILED and date in by_chance for date, cell in zip(dates, cells)]
    checked = [dict(cell, status=PASSED, reason=None) if lucky else cell for cell, lucky in zip(cells, chance)]
    passing = [cell is not None and cell["status"] == PASSED for cell in checked]
    out = [(i, f"failed {dates[i]}, passed when nox -s compare ran it again: a chance failure")
           for i in range(len(cells)) if chance[i]]
    i = 1
    while i < len(cells):
        if passing[i] != passing[i - 1]:
            cell = cells[i]
            if cell is not None and cell["status"] == FAILED and i + 1 < len(cells) and passing[i - 1] and passing[i + 1]:
                out.append((i, f"failed {dates[i]} only, passed before and after (a chance failure looks like this; "
                               f"check it: nox -s compare -- {row} --baseline {dates[i - 1]} --candidate {dates[i]} "
                               f"--model {model} --backend {backend} --no-speed; {changed[i]})"))
                i += 2
                continue
            was, now = checked[i - 1], checked[i]
            change = ((was or {}).get("status"), (now or {}).get("status"))
            found = next((a.said for a in attributed if a.explains(row, backend, dates[i - 1], dates[i], change,
                                                                  failing_reason(was, now))), "")
            out.append((i, f"{'recovered' if passing[i] else 'broke'} {dates[i]} "
                           f"({cell['status'] if cell else 'not run'}; {changed[i]})"
                           + (f" [attributed by nox -s compare: {found}]" if found else "")))
        i += 1
    return "; ".join(text for _, text in sorted(out)) or "no change"


def worked_when(points, backend: str, by_chance: Collection[tuple[str, str, str]] = ()) -> str:
    """Spans of dates over which every model of the backend passed, e.g. "2024-06-01 to 2024-10-01" (a
    failure in `by_chance`, as (model, backend, date), counts as a pass)."""
    spans, start, last = [], None, None
    for date, run, _ in points:
        statuses = [PASSED if (m, b, date) in by_chance else cell["status"]
                    for (m, b), cell in run.cells.items() if b == backend]
        ok = bool(statuses) and all(s == PASSED for s in statuses)
        if ok and start is None:
            start = date
        if not ok and start is not None:
            spans.append(f"{start} to {last}" if start != last else start)
            start = None
        last = date
    if start is not None:
        spans.append(f"{start} to {last}" if start != last else start)
    return "worked (every model passed) " + ", ".join(spans) if spans else "never worked on every model"
