"""A line chart of an indicator as inline SVG, drawn on the server.

No JavaScript and nothing loaded from elsewhere, so it works under the strict CSP, prints,
and can go into PDF reports later. Every series differs by line pattern and marker shape as
well as colour (WCAG 1.4.1), and the page always shows the same numbers as a table.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from rodtrad.lib.swedish import format_decimal

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 40


@dataclass
class Series:
    key: str  # css class suffix: own, target, accepted, group, riket, projection
    label: str
    points: list[tuple[datetime.date, Decimal]] = field(default_factory=list)
    line: bool = True
    marker: str = "circle"  # circle | square | triangle | diamond | none
    dash: str = ""


def _marker(shape: str, x: float, y: float) -> SafeString:
    if shape == "square":
        return format_html(
            '<rect x="{}" y="{}" width="8" height="8"/>', f"{x - 4:.1f}", f"{y - 4:.1f}"
        )
    if shape == "triangle":
        return format_html(
            '<path d="M{} {}L{} {}L{} {}Z"/>',
            f"{x:.1f}",
            f"{y - 5:.1f}",
            f"{x + 5:.1f}",
            f"{y + 4:.1f}",
            f"{x - 5:.1f}",
            f"{y + 4:.1f}",
        )
    if shape == "diamond":
        return format_html(
            '<path d="M{} {}L{} {}L{} {}L{} {}Z"/>',
            f"{x:.1f}",
            f"{y - 5:.1f}",
            f"{x + 5:.1f}",
            f"{y:.1f}",
            f"{x:.1f}",
            f"{y + 5:.1f}",
            f"{x - 5:.1f}",
            f"{y:.1f}",
        )
    if shape == "circle":
        return format_html('<circle cx="{}" cy="{}" r="4"/>', f"{x:.1f}", f"{y:.1f}")
    return mark_safe("")


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering low..high: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = magnitude * 10
    for factor in (1, 2, 2.5, 5, 10):
        if magnitude * factor >= raw:
            step = magnitude * factor
            break
    ticks = [math.floor(low / step) * step]
    while ticks[-1] < high - step * 1e-9 and len(ticks) < 20:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def line_chart(series: list[Series], *, title_id: str, desc: str, decimals: int) -> SafeString:
    """An SVG chart of the series; empty string when there is nothing to draw."""
    drawn = [s for s in series if s.points]
    if not drawn:
        return mark_safe("")
    dates = [d for s in drawn for d, _v in s.points]
    values = [float(v) for s in drawn for _d, v in s.points]
    first, last = min(dates), max(dates)
    low, high = min(values), max(values)
    if low > 0 and high - low > high / 2:
        low = 0.0  # show the distance from zero when the series spans much of it
    ticks = _ticks(low, high)
    low, high = min(ticks[0], low), max(ticks[-1], high)
    span_days = max((last - first).days, 1)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def x_of(day: datetime.date) -> float:
        if first == last:
            return LEFT + plot_w / 2
        return LEFT + plot_w * (day - first).days / span_days

    def y_of(value: float) -> float:
        return TOP + plot_h * (1 - (value - low) / ((high - low) or 1))

    parts: list[SafeString] = []
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                f"{y:.1f}",
                f"{y:.1f}",
                LEFT - 6,
                f"{y + 4:.1f}",
                format_decimal(Decimal(str(tick)), decimals if abs(tick) < 100 else 0),
            )
        )
    years = sorted({d.year for d in dates})
    step = max(1, len(years) // 10 + (1 if len(years) % 10 else 0))
    for year in years[::step]:
        day = datetime.date(year, 12, 31)
        if first <= day <= last or len(years) == 1:
            x = x_of(min(max(day, first), last))
            parts.append(
                format_html(
                    '<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>',
                    f"{x:.1f}",
                    HEIGHT - BOTTOM + 18,
                    year,
                )
            )
    for s in drawn:
        coords = [(x_of(d), y_of(float(v))) for d, v in sorted(s.points)]
        group: list[SafeString] = []
        if s.line and len(coords) > 1:
            path = "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in coords)
            group.append(
                format_html(
                    '<path class="line" d="{}"{}/>',
                    path,
                    format_html(' stroke-dasharray="{}"', s.dash) if s.dash else "",
                )
            )
        group.extend(_marker(s.marker, x, y) for x, y in coords)
        parts.append(
            format_html(
                '<g class="series series-{}">{}</g>',
                s.key,
                format_html_join("", "{}", ((g,) for g in group)),
            )
        )
    legend = format_html_join(
        "",
        '<li class="legend-{}"><svg width="34" height="12" aria-hidden="true" '
        'focusable="false"><g class="series series-{}"><line class="line" x1="1" x2="33" '
        'y1="6" y2="6"{}/>{}</g></svg> {}</li>',
        (
            (
                s.key,
                s.key,
                format_html(' stroke-dasharray="{}"', s.dash)
                if s.dash
                else (mark_safe(' stroke-opacity="0"') if not s.line else ""),
                _marker(s.marker, 17, 6),
                s.label,
            )
            for s in drawn
        ),
    )
    return format_html(
        '<figure class="chart"><svg viewBox="0 0 {} {}" role="img" aria-labelledby="{}" '
        'aria-describedby="{}-desc" focusable="false" class="chart-svg"><desc id="{}-desc">'
        '{}</desc>{}</svg><ul class="chart-legend">{}</ul></figure>',
        WIDTH,
        HEIGHT,
        title_id,
        title_id,
        title_id,
        desc,
        mark_safe("".join(parts)),  # noqa: S308
        legend,
    )
