"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, works offline.

Each chart is an `<svg role="img">` with a `<title>` and a `<desc>` that says in words
what the lines show, so a screen reader (or a printout in grey) loses nothing: colour is
never the only signal (the target trajectory is dashed, the original target dotted,
loosened targets are triangles with their own title).
"""

import datetime as dt
import itertools
from collections.abc import Sequence
from decimal import Decimal
from html import escape  # Django's escape is this, wrapped for lazy strings; 2,500 calls a page

from django.utils.safestring import SafeString, mark_safe

from accountability.choices import RiskLevel
from metrics.health import expected_value
from metrics.selectors import parse_date, parse_decimal

_ids = itertools.count(1)

COLOURS = {
    "values": "#1d4ed8",
    "trajectory": "#334155",
    "original": "#94a3b8",
    "loosened": "#b45309",
    "as_of": "#64748b",
    "axis": "#cbd5e1",
    "text": "#334155",
}
RISK_BANDS = [
    (RiskLevel.LOW, 0, 25, "#ecfdf5"),
    (RiskLevel.ELEVATED, 25, 50, "#fefce8"),
    (RiskLevel.HIGH, 50, 75, "#fff7ed"),
    (RiskLevel.CRITICAL, 75, 100, "#fef2f2"),
]


def format_number(value: Decimal | float | int | None, unit: str = "") -> str:
    """62.5000 → "62.5", 1234567 → "1,234,567"; the unit appended ("%" without a space)."""
    if value is None:
        return "—"
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    text = f"{number:,.2f}".rstrip("0").rstrip(".") if number != number.to_integral() else f"{number:,.0f}"
    if not unit:
        return text
    if unit == "%":
        return f"{text}%"
    # A scale such as "1–7" reads as one: "4.6 (1–7)".
    return f"{text} ({unit})" if unit[0].isdigit() else f"{text} {unit}"


def _f(x: float) -> str:
    return f"{x:.1f}"


class _Scale:
    """Maps dates to x and values to y inside a plot box."""

    def __init__(self, box: tuple[float, float, float, float], start: dt.date, end: dt.date, lo: float, hi: float):
        self.left, self.top, self.right, self.bottom = box
        self.start, self.days = start, max(1, (end - start).days)
        self.lo, self.span = lo, (hi - lo) or 1.0

    def x(self, day: dt.date) -> float:
        return self.left + (self.right - self.left) * (day - self.start).days / self.days

    def y(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * (float(value) - self.lo) / self.span


def _svg(width: int, height: int, title: str, desc: str, body: str, css_class: str) -> SafeString:
    uid = next(_ids)
    # An f-string with the two texts escaped, not format_html: a hundred charts a page,
    # and format_html escapes every argument (ints and constants included) through a lazy wrapper.
    return mark_safe(  # body is built from numbers and escaped text only
        f'<svg class="{css_class}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="chart-t{uid} chart-d{uid}" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="chart-t{uid}">{escape(title)}</title>'
        f'<desc id="chart-d{uid}">{escape(desc)}</desc>{body}</svg>'
    )


def _trajectory(metric, start: dt.date, end: dt.date, target: Decimal | None, target_on: dt.date | None) -> list:
    """(date, expected) corners of the target trajectory inside [start, end], or [] without one."""
    if None in (metric.baseline, metric.baseline_on, target, target_on):
        return []
    days = sorted({start, end, *(d for d in (metric.baseline_on, target_on) if start <= d <= end)})
    return [
        (
            d,
            expected_value(
                baseline=metric.baseline, baseline_on=metric.baseline_on, target=target, target_on=target_on, on=d
            ),
        )
        for d in days
    ]


def metric_chart(metric, points: Sequence[tuple[dt.date, Decimal]], revisions: Sequence, as_of: dt.date) -> SafeString:
    """Values against the linear target trajectory, loosened targets marked.

    `points` are (period_end, value) in date order; `revisions` the metric's target and
    target_on revisions (objects with field, old_value, new_value, changed_on, loosened).
    The x-axis runs from the baseline (or first value) to as_of, or on to the target date
    when it falls within the coming year.
    """
    width, height = 400, 120
    unit = metric.unit or ""
    first = [d for d in (metric.baseline_on, points[0][0] if points else None) if d]
    start = min(first) if first else as_of - dt.timedelta(days=365)
    end = max([as_of, *(p[0] for p in points[-1:])])
    if metric.target_on and metric.target_on > end:
        end = min(metric.target_on, as_of + dt.timedelta(days=365))
    if end <= start:
        start = end - dt.timedelta(days=30)

    current = _trajectory(metric, start, end, metric.target, metric.target_on)
    target_revs = [r for r in revisions if r.field == "target"]
    deadline_revs = [r for r in revisions if r.field == "target_on"]
    original = []
    if any(r.loosened for r in revisions):
        original_target = parse_decimal(target_revs[0].old_value) if target_revs else metric.target
        original_on = parse_date(deadline_revs[0].old_value) if deadline_revs else metric.target_on
        original = _trajectory(metric, start, end, original_target, original_on)

    values = [float(v) for _, v in points] + [float(v) for _, v in current + original]
    if metric.baseline is not None:
        values.append(float(metric.baseline))
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (hi - lo) * 0.1 or abs(hi) * 0.1 or 1.0
    # Axis labels carry the unit only when it is "%": "seconds" or "USD" would not fit, and
    # the text beside the chart says them.
    axis_unit = "%" if unit == "%" else ""
    hi_label, lo_label = format_number(hi, axis_unit), format_number(lo, axis_unit)
    left = 10 + 6.5 * max(len(hi_label), len(lo_label))
    scale = _Scale((left, 10, width - 10, height - 22), start, end, lo - pad, hi + pad)

    parts = [
        f'<line x1="{_f(scale.left)}" y1="{_f(scale.bottom)}" x2="{_f(scale.right)}" y2="{_f(scale.bottom)}" '
        f'stroke="{COLOURS["axis"]}"/>',
        _text(scale.left - 4, scale.y(hi) + 4, hi_label, "end"),
        _text(scale.left - 4, scale.y(lo) + 4, lo_label, "end"),
        _text(scale.left, height - 6, f"{start:%b %Y}", "start"),
        _text(scale.right, height - 6, f"{end:%b %Y}", "end"),
    ]
    if start < as_of < end:
        x = _f(scale.x(as_of))
        parts.append(
            f'<line x1="{x}" y1="{_f(scale.top)}" x2="{x}" y2="{_f(scale.bottom)}" stroke="{COLOURS["as_of"]}" '
            f'stroke-width="1" stroke-dasharray="1 3"><title>As of {as_of:%d %b %Y}</title></line>'
        )
        if scale.left + 60 < scale.x(as_of) < scale.right - 60:  # a third tick, where it cannot collide
            parts.append(_text(scale.x(as_of), height - 6, f"{as_of:%b %Y}", "middle"))
    if original:
        parts.append(_polyline(scale, original, COLOURS["original"], "2 3", "Original target trajectory"))
    if current:
        parts.append(_polyline(scale, current, COLOURS["trajectory"], "6 4", "Target trajectory"))
    for r in revisions:
        if r.loosened and start <= r.changed_on <= end:
            parts.append(_loosened_marker(scale, r, unit))
    if points:
        # Each value's position is computed once, for its line, its dot and the last ring.
        xy = [(_f(scale.x(day)), _f(scale.y(value))) for day, value in points]
        parts.append(_polyline_at(xy, COLOURS["values"], None, "Recorded values"))
        first_dot = 0 if len(points) <= 36 else len(points) - 1
        unit_html = escape(unit)  # the number itself is digits, commas and a point: nothing to escape
        for (day, value), (x, y) in zip(points[first_dot:], xy[first_dot:], strict=True):
            parts.append(
                f'<circle cx="{x}" cy="{y}" r="2.2" fill="{COLOURS["values"]}">'
                f"<title>{format_number(value, unit_html)} on {day:%d %b %Y}</title></circle>"
            )
        x, y = xy[-1]
        parts.append(f'<circle cx="{x}" cy="{y}" r="3.5" fill="#fff" stroke="{COLOURS["values"]}" stroke-width="2"/>')
    return _svg(
        width,
        height,
        f"{metric.name}: values against the target",
        _metric_desc(metric, points, revisions),
        "".join(parts),
        "chart chart-metric",
    )


def _metric_desc(metric, points, revisions) -> str:
    unit = metric.unit or ""
    parts = []
    if points:
        parts.append(
            f"{len(points)} value{'s' if len(points) != 1 else ''} from {points[0][0]:%d %b %Y} to "
            f"{points[-1][0]:%d %b %Y}; latest {format_number(points[-1][1], unit)}."
        )
    else:
        parts.append("No values recorded yet.")
    if metric.target is not None:
        due = f" by {metric.target_on:%d %b %Y}" if metric.target_on else ""
        start = f" from {format_number(metric.baseline, unit)}" if metric.baseline is not None else ""
        parts.append(f"Target {format_number(metric.target, unit)}{due}{start}.")
    loosened = [r for r in revisions if r.loosened]
    if loosened:
        parts.append(f"Target loosened {len(loosened)} time{'s' if len(loosened) != 1 else ''}.")
    return " ".join(parts)


def _text(x: float, y: float, text: str, anchor: str, size: int = 11) -> str:
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{COLOURS["text"]}">{escape(text)}</text>'
    )


def _polyline(scale: _Scale, points, colour: str, dash: str | None, title: str) -> str:
    return _polyline_at([(_f(scale.x(d)), _f(scale.y(v))) for d, v in points], colour, dash, title)


def _polyline_at(xy: list[tuple[str, str]], colour: str, dash: str | None, title: str) -> str:
    coords = " ".join(f"{x},{y}" for x, y in xy)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr} '
        f'stroke-linejoin="round" stroke-linecap="round"><title>{escape(title)}</title></polyline>'
    )


def _loosened_marker(scale: _Scale, revision, unit: str) -> str:
    x = scale.x(revision.changed_on)
    what = "Target" if revision.field == "target" else "Deadline"
    old = format_number(parse_decimal(revision.old_value), unit) if revision.field == "target" else revision.old_value
    new = format_number(parse_decimal(revision.new_value), unit) if revision.field == "target" else revision.new_value
    title = f"{what} loosened on {revision.changed_on:%d %b %Y}: {old} → {new}. {revision.reason}"
    top = scale.top
    return (
        f'<g class="loosened"><title>{escape(title)}</title>'
        f'<line x1="{_f(x)}" y1="{_f(top)}" x2="{_f(x)}" y2="{_f(scale.bottom)}" stroke="{COLOURS["loosened"]}" '
        f'stroke-width="1.5" stroke-dasharray="3 2"/>'
        f'<path d="M{_f(x - 5)},{_f(top - 2)} L{_f(x + 5)},{_f(top - 2)} L{_f(x)},{_f(top + 6)} Z" '
        f'fill="{COLOURS["loosened"]}"/></g>'
    )


def risk_chart(history: Sequence[dict], title: str) -> SafeString:
    """Risk score over time on the four level bands (low, elevated, high, critical).

    `history` rows have as_of, score and level, in date order.
    """
    width, height = 640, 190
    if not history:
        return _svg(
            width,
            40,
            title,
            "No risk assessment yet.",
            _text(8, 24, "No risk assessment yet.", "start", 13),
            "chart chart-risk",
        )
    start, end = history[0]["as_of"], history[-1]["as_of"]
    if end <= start:
        start = end - dt.timedelta(days=1)
    scale = _Scale((36, 22, width - 96, height - 24), start, end, 0, 100)
    parts = []
    for level, lo, hi, fill in RISK_BANDS:
        y_top, y_bottom = scale.y(hi), scale.y(lo)
        parts.append(
            f'<rect x="{_f(scale.left)}" y="{_f(y_top)}" width="{_f(scale.right - scale.left)}" '
            f'height="{_f(y_bottom - y_top)}" fill="{fill}"/>'
        )
        label = f"{level.label} {lo}–{hi - 1 if hi < 100 else 100}"
        parts.append(_text(scale.right + 6, (y_top + y_bottom) / 2 + 4, label, "start", 11))
    for tick in (0, 25, 50, 75, 100):
        y = _f(scale.y(tick))
        parts.append(
            f'<line x1="{_f(scale.left)}" y1="{y}" x2="{_f(scale.right)}" y2="{y}" stroke="{COLOURS["axis"]}"/>'
        )
        parts.append(_text(scale.left - 6, scale.y(tick) + 4, str(tick), "end", 11))
    parts.append(_text(scale.left, height - 6, f"{start:%d %b %Y}", "start", 11))
    parts.append(_text(scale.right, height - 6, f"{end:%d %b %Y}", "end", 11))
    points = [(row["as_of"], row["score"]) for row in history]
    if len(points) > 1:
        parts.append(_polyline(scale, points, COLOURS["values"], None, "Risk score"))
    dots = points if len(points) <= 60 else points[-1:]
    for day, score in dots:
        parts.append(
            f'<circle cx="{_f(scale.x(day))}" cy="{_f(scale.y(score))}" r="3" fill="{COLOURS["values"]}">'
            f"<title>{score} on {day:%d %b %Y}</title></circle>"
        )
    last_day, last_score = points[-1]
    parts.append(_text(scale.x(last_day) - 6, scale.y(last_score) - 8, str(last_score), "end", 12))
    desc = (
        f"{len(points)} assessment{'s' if len(points) != 1 else ''} from {start:%d %b %Y} to {end:%d %b %Y}. "
        f"Lowest {min(s for _, s in points)}, highest {max(s for _, s in points)}, "
        f"latest {last_score} ({RiskLevel(history[-1]['level']).label.lower()})."
    )
    return _svg(width, height, title, desc, "".join(parts), "chart chart-risk")
