"""Charts drawn on the server as inline SVG: a bar chart and a stacked bar chart.

Every label is escaped; the markup uses presentation attributes only (no `style`), so the page's CSP
needs no 'unsafe-inline'. Each bar carries a <title>, shown by the browser on hover.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

WIDTH = 480
HEIGHT = 170
PAD_LEFT = 44
PAD_BOTTOM = 22
PAD_TOP = 8
PALETTE = ("#3b6fd4", "#e07b39", "#3a9d5d", "#b04ac2", "#c9a227", "#d14b5a", "#4aa7b5", "#7a7a7a")
EMPTY_TEXT = "nothing in this window"


def _fmt(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _frame(label: str, top: float, fmt: Callable[[float], str], body: str, legend: str = "") -> Markup:
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    grid = []
    for i in range(3):
        value = top * i / 2
        y = PAD_TOP + plot_h - plot_h * i / 2
        grid.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ec"/>'
            f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="#667">'
            f"{escape(fmt(value))}</text>"
        )
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + (18 if legend else 0)}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"{''.join(grid)}{body}{legend}</svg>"
    )


def _empty(label: str) -> Markup:
    return Markup(
        f'<svg class="chart empty" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg"><rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#f6f7f9"/>'
        f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" font-size="13" fill="#889">'
        f"{escape(EMPTY_TEXT)}</text></svg>"
    )


def _x_labels(labels: Sequence[str], slot: float) -> str:
    step = max(1, -(-len(labels) // 7))  # at most 7 labels, so they never overlap
    parts = []
    for i, text in enumerate(labels):
        if i % step:
            continue
        x = PAD_LEFT + slot * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle" font-size="12" fill="#667">{escape(text)}</text>'
        )
    return "".join(parts)


def bar_chart(
    label: str,
    points: Sequence[tuple[str, float]],
    *,
    color: str = PALETTE[0],
    fmt: Callable[[float], str] = _fmt,
) -> Markup:
    """One bar per (x label, value); an 'empty' panel when every value is zero."""
    if not points or not any(v for _, v in points):
        return _empty(label)
    top = max(v for _, v in points) or 1
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = (WIDTH - PAD_LEFT) / len(points)
    bars = []
    for i, (x_label, value) in enumerate(points):
        h = plot_h * value / top
        x = PAD_LEFT + slot * i + slot * 0.15
        bars.append(
            f'<rect x="{x:.1f}" y="{PAD_TOP + plot_h - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{color}"><title>{escape(x_label)}: {escape(fmt(value))}</title></rect>'
        )
    return _frame(label, top, fmt, "".join(bars) + _x_labels([p[0] for p in points], slot))


def stacked_bar_chart(
    label: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    fmt: Callable[[float], str] = _fmt,
) -> Markup:
    """Bars stacked by series (name, one value per x label), with a legend."""
    totals = [sum(values[i] for _, values in series) for i in range(len(x_labels))]
    if not x_labels or not any(totals):
        return _empty(label)
    top = max(totals) or 1
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = (WIDTH - PAD_LEFT) / len(x_labels)
    bars = []
    for i, x_label in enumerate(x_labels):
        y: float = PAD_TOP + plot_h
        for k, (name, values) in enumerate(series):
            h = plot_h * values[i] / top
            if h <= 0:
                continue
            y -= h
            bars.append(
                f'<rect x="{PAD_LEFT + slot * i + slot * 0.15:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[k % len(PALETTE)]}">'
                f"<title>{escape(x_label)} {escape(name)}: {escape(fmt(values[i]))}</title></rect>"
            )
    legend = []
    x: float = PAD_LEFT
    for k, (name, _) in enumerate(series):
        legend.append(
            f'<rect x="{x}" y="{HEIGHT + 5}" width="10" height="10" fill="{PALETTE[k % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="{HEIGHT + 14}" font-size="12" fill="#445">{escape(name)}</text>'
        )
        x += 26 + 7 * min(len(name), 30)
    return _frame(label, top, fmt, "".join(bars) + _x_labels(x_labels, slot), "".join(legend))
