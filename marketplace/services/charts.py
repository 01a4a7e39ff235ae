"""Bar charts drawn on the server as SVG: no JavaScript, scale with their viewBox, print well.

Every label is escaped; the chart carries `role="img"`, an `aria-label` and a `<title>`, and
the page shows the same numbers in a table for screen readers. Colours are presentation
attributes and classes (the CSP allows no inline style).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup

BRAND = "#1f6f5c"
MUTED = "#4d5e58"
TEXT_COLOUR = "#1d2b26"
LINE = "#cfdad6"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif"

# Month bars: the drawing area of the viewBox.
COLUMN_WIDTH = 640
COLUMN_HEIGHT = 260
COLUMN_TOP = 28  # room for the largest value
COLUMN_BOTTOM = 36  # room for the month labels
MAX_COLUMN_LABELS = 12
MAX_COLUMN_VALUES = 13  # above this, values are in the table only

# Category bars: one row each, the label above its bar (room for long names on a phone).
ROW_WIDTH = 480
ROW_HEIGHT = 46
ROW_BAR = 18


@dataclass(frozen=True)
class Bar:
    label: str  # the full label: tooltip and table
    value: Decimal | int | float
    short_label: str | None = None  # under a column, when the full label is long


def _number(value: Decimal | int | float) -> str:
    return format(Decimal(str(value)).normalize(), "f") if value else "0"


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


SVG = Markup(
    '<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{id}" viewBox="0 0 {width} '
    '{height}" preserveAspectRatio="xMidYMid meet" role="img" aria-label="{title}" '
    'font-family="{font}"><title>{title}</title>{body}</svg>')
AXIS = Markup('<line class="chart-axis" x1="0" y1="{y}" x2="{width}" y2="{y}" stroke="{colour}" '
              'stroke-width="2"/>')
BAR = Markup('<rect class="chart-bar" x="{x}" y="{y}" width="{width}" height="{height}" '
             'fill="{colour}"><title>{label}: {value}</title></rect>')
TEXT = Markup('<text class="{class_}" x="{x}" y="{y}" text-anchor="{anchor}" '
              'font-size="{size}" fill="{colour}">{text}</text>')


def _svg(chart_id: str, title: str, width: int, height: int, body: list[Markup]) -> Markup:
    return SVG.format(id=chart_id, width=width, height=height, title=title, font=FONT,
                      body=Markup("").join(body))


def _text(class_: str, x: float, y: float, text: str, *, size: int, colour: str = MUTED,
          anchor: str = "start") -> Markup:
    return TEXT.format(class_=class_, x=_fmt(x), y=_fmt(y), anchor=anchor, size=size,
                       colour=colour, text=text)


def column_chart(bars: Sequence[Bar], *, title: str, chart_id: str,
                 format_value: Callable[[Decimal | int | float], str] = _number) -> Markup:
    """Vertical bars in order (months), the value written above each bar when they fit."""
    plot_height = COLUMN_HEIGHT - COLUMN_TOP - COLUMN_BOTTOM
    baseline = COLUMN_TOP + plot_height
    largest = max((float(bar.value) for bar in bars), default=0.0)
    step = COLUMN_WIDTH / max(len(bars), 1)
    bar_width = max(step * 0.7, 1.0)
    label_every = max(1, -(-len(bars) // MAX_COLUMN_LABELS))
    body = [AXIS.format(y=baseline, width=COLUMN_WIDTH, colour=LINE)]
    for index, bar in enumerate(bars):
        value = float(bar.value)
        height = plot_height * value / largest if largest > 0 else 0.0
        centre = index * step + step / 2
        shown = format_value(bar.value)
        body.append(BAR.format(x=_fmt(centre - bar_width / 2), y=_fmt(baseline - height),
                               width=_fmt(bar_width), height=_fmt(height), colour=BRAND,
                               label=bar.label, value=shown))
        if len(bars) <= MAX_COLUMN_VALUES and value > 0:
            body.append(_text("chart-value", centre, baseline - height - 6, shown, size=13,
                              anchor="middle"))
        if index % label_every == 0:
            body.append(_text("chart-label", centre, baseline + 22,
                              bar.short_label or bar.label, size=14, anchor="middle"))
    if len(bars) > MAX_COLUMN_VALUES and largest > 0:
        top = max(bars, key=lambda bar: float(bar.value))
        body.append(_text("chart-value", 0, 16, f"{top.label}: {format_value(top.value)}",
                          size=13))
    return _svg(chart_id, title, COLUMN_WIDTH, COLUMN_HEIGHT, body)


def row_chart(bars: Sequence[Bar], *, title: str, chart_id: str,
              format_value: Callable[[Decimal | int | float], str] = _number) -> Markup:
    """Horizontal bars (categories), each with its label above and its value at the end."""
    largest = max((float(bar.value) for bar in bars), default=0.0)
    value_room = 110
    body: list[Markup] = []
    for index, bar in enumerate(bars):
        top = index * ROW_HEIGHT
        width = (ROW_WIDTH - value_room) * float(bar.value) / largest if largest > 0 else 0.0
        shown = format_value(bar.value)
        body.append(_text("chart-label", 0, top + 16, bar.label, size=15, colour=TEXT_COLOUR))
        body.append(BAR.format(x=0, y=top + 22, width=_fmt(width), height=ROW_BAR,
                               colour=BRAND, label=bar.label, value=shown))
        body.append(_text("chart-value", width + 6, top + 36, shown, size=14))
    if not bars:
        body.append(_text("chart-value", 0, 20, "-", size=14))
    return _svg(chart_id, title, ROW_WIDTH, max(len(bars), 1) * ROW_HEIGHT + 4, body)
