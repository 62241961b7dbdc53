"""The blocks a report is made of, rendered to Markdown and to static HTML (inline CSS and SVG charts, no scripts
or external files), and the number formats both use."""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from harness.common.statuses import BROKEN, DID_NOT_MIX, KNOWN_FAILURE, PASSED, SKIPPED

# ------------------------------------------------------------------------------------------------ blocks
# Sections are built once as blocks and rendered to Markdown and to HTML.


@dataclass
class Cell:
    text: str  # lines separated by "\n"
    note: str = ""  # Markdown: footnote; HTML: hover title
    css: str = ""
    svg: str = ""  # HTML only
    sparkline: str = ""  # Markdown only, in place of the svg


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Para:
    text: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    header: list[str]
    rows: list[list[Cell]]


@dataclass
class Figure:
    svg: str


Block = Heading | Para | Bullets | Table | Figure

# --------------------------------------------------------------------------------------------- rendering


def render_markdown(blocks: list[Block]) -> str:
    footnotes: dict[str, str] = {}  # note -> label, shared by the whole document
    out = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"{'#' * block.level} {block.text}")
        elif isinstance(block, Para):
            out.append(block.text)
        elif isinstance(block, Bullets):
            out.append("\n".join(f"- {item}" for item in block.items))
        elif isinstance(block, Table):
            out.append(markdown_table(block, footnotes))
    return "\n\n".join(out) + "\n"


def markdown_table(table: Table, footnotes: dict[str, str]) -> str:
    new_notes = []

    def cell_text(cell: Cell) -> str:
        text = " · ".join(filter(None, [cell.sparkline] + cell.text.split("\n")))
        if cell.note:
            if cell.note not in footnotes:
                footnotes[cell.note] = str(len(footnotes) + 1)
                new_notes.append(cell.note)
            text += f" [^{footnotes[cell.note]}]"
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(table.header) + " |", "|" + "---|" * len(table.header)]
    lines += ["| " + " | ".join(cell_text(cell) for cell in row) + " |" for row in table.rows]
    if new_notes:
        lines.append("")
        lines += [f"[^{footnotes[note]}]: {note}" for note in new_notes]
    return "\n".join(lines)


def render_html(blocks: list[Block]) -> str:
    body = []
    for block in blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{esc(block.text)}</h{block.level}>")
        elif isinstance(block, Para):
            body.append(f"<p>{esc(block.text)}</p>")
        elif isinstance(block, Bullets):
            body.append("<ul>" + "".join(f"<li>{esc(item)}</li>" for item in block.items) + "</ul>")
        elif isinstance(block, Table):
            body.append(html_table(block))
        elif isinstance(block, Figure):
            body.append(f"<figure>{block.svg}</figure>")
    return HTML_PAGE.format(style=STYLE, body="\n".join(body))


def html_table(table: Table) -> str:
    def td(cell: Cell) -> str:
        attrs = (f' class="{cell.css}"' if cell.css else "") + (f' title="{esc(cell.note)}"' if cell.note else "")
        text = "<br>".join(esc(line) for line in cell.text.split("\n"))
        mark = " <sup>*</sup>" if cell.note else ""
        return f"<td{attrs}>{cell.svg}{text}{mark}</td>"

    head = "".join(f"<th>{esc(name)}</th>" for name in table.header)
    rows = "".join("<tr>" + "".join(td(cell) for cell in row) + "</tr>\n" for row in table.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{rows}</tbody></table>"


HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>PyMC sampler matrix</title>
<style>{style}</style></head>
<body>
{body}
</body></html>
"""

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; }
th { background: #f3f3f3; }
td[title] { cursor: help; }
.passed { background: #d9f2d9; }
.broken { background: #f6cccc; }
.known-failure { background: #fbe3bd; }
.did-not-mix { background: #e3dcf5; }
.skipped { background: #eeeeee; color: #666; }
figure { margin: 0 0 1em; }
svg text { font: 11px system-ui, sans-serif; fill: #222; }
.bar-passed { fill: #4a9d4a; }
.bar-other { fill: #aaaaaa; }
.spark { fill: none; stroke: #555; stroke-width: 1; }
.dot-passed { fill: #2e8b2e; }
.dot-broken { fill: #c83232; }
.dot-known-failure { fill: #e09a2a; }
.dot-did-not-mix { fill: #7b5fc4; }
.dot-skipped { fill: #999999; }
"""


def status_css(status: str) -> str:
    if status in (PASSED, KNOWN_FAILURE, DID_NOT_MIX):  # did-not-mix: too short a run, shown apart from wrong
        return status
    if status in BROKEN:
        return "broken"
    return "skipped" if status in SKIPPED else ""


def esc(text: str) -> str:
    return html.escape(str(text), quote=True)


# ----------------------------------------------------------------------------------------------- charts


def bar_chart(bars: list[tuple[str, float, bool, str]]) -> str:
    """Horizontal bars: (label, value, passed, tooltip) each, scaled to the largest value."""
    label_w, bar_w, value_w, step = 170, 380, 90, 20
    top = max(value for _, value, _, _ in bars) or 1.0
    parts = []
    for i, (label, value, passed, tooltip) in enumerate(bars):
        y = 4 + i * step
        width = max(1.0, bar_w * value / top)
        parts.append(
            f'<g><title>{esc(tooltip)}</title>'
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{esc(label)}</text>'
            f'<rect class="{"bar-passed" if passed else "bar-other"}" x="{label_w}" y="{y + 2}" '
            f'width="{width:.1f}" height="{step - 6}"/>'
            f'<text x="{label_w + width + 4:.1f}" y="{y + 13}">{esc(fmt_rate(value))}</text></g>')
    height = 8 + len(bars) * step
    return (f'<svg width="{label_w + bar_w + value_w}" height="{height}" role="img" '
            f'aria-label="ESS/s per backend">{"".join(parts)}</svg>')


def sparkline(points: list[tuple[Optional[float], str, str]]) -> str:
    """ESS/s over runs: (value or None, status, tooltip) each; runs without a value sit on the bottom."""
    width, height, pad = 140, 28, 4
    high = max((value for value, _, _ in points if value is not None), default=0.0) or 1.0
    step = (width - 2 * pad) / max(1, len(points) - 1)

    def y(value: Optional[float]) -> float:  # from zero, so noise of a few percent looks like it
        return height - 2 if value is None else pad + (height - 2 * pad) * (1 - value / high)

    coords = [(pad + i * step, y(value)) for i, (value, _, _) in enumerate(points)]
    line = " ".join(f"{x:.1f},{yy:.1f}" for (x, yy), (value, _, _) in zip(coords, points) if value is not None)
    dots = "".join(
        f'<circle class="dot-{status_css(status) or "skipped"}" cx="{x:.1f}" cy="{yy:.1f}" r="2.5">'
        f'<title>{esc(tooltip)}</title></circle>'
        for (x, yy), (_, status, tooltip) in zip(coords, points))
    return (f'<svg width="{width}" height="{height}" role="img" aria-label="ESS/s over runs">'
            f'<polyline class="spark" points="{line}"/>{dots}</svg><br>')


BLOCKS = "▁▂▃▄▅▆▇█"


def text_sparkline(values: list[Optional[float]]) -> str:
    high = max((value for value in values if value is not None), default=0.0)
    if not high:
        return ""

    def block(value: Optional[float]) -> str:  # from zero, as the svg sparkline
        return "·" if value is None else BLOCKS[round(value / high * (len(BLOCKS) - 1))]

    return "".join(map(block, values))


# ---------------------------------------------------------------------------------------------- formats


def fmt_rate(value: Optional[float]) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 1 else f"{value:.2g}"


def fmt_seconds(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.3g} s"


def status_trail(statuses: list[str]) -> str:
    """"passed x3 -> failed": consecutive runs with the same status counted once."""
    groups: list[list] = []
    for status in statuses:
        if groups and groups[-1][0] == status:
            groups[-1][1] += 1
        else:
            groups.append([status, 1])
    return " -> ".join(status + (f" x{n}" if n > 1 else "") for status, n in groups)


def squash(text: Any) -> str:
    return " ".join(str(text).split())


def shorten(text: Any, width: int = 160) -> str:
    return textwrap.shorten(squash(text), width=width, placeholder=" ...")


def utc_now(fmt: str = "%Y-%m-%dT%H:%M:%SZ") -> str:
    return datetime.now(timezone.utc).strftime(fmt)
