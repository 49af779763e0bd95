"""Charts as inline SVG: a report is one self-contained file (printable, e-mailable, no external assets).

One kind is enough for the annual report: grouped vertical bars with labelled values. Labels are escaped
here; the result is safe markup for the templates.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

# Colour-blind-safe pair (Okabe-Ito blue and orange), then greys.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#999999")
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 28, 64


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    maximum: float | None = None,
    unit: str = "",
) -> Markup:
    """Grouped bars: one group per label, one bar per series (a missing value draws no bar)."""
    values = [value for _, points in series for value in points if value is not None]
    top = maximum if maximum is not None else max([*values, 1.0])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(len(labels), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        f' class="chart" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="#333"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="10">{_number(top)}{unit}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" font-size="10">0</text>',
    ]
    for index, label in enumerate(labels):
        x0 = LEFT + index * group_w + group_w * 0.1
        for number, (name, points) in enumerate(series):
            value = points[index]
            if value is None:
                continue
            height = plot_h * (value / top if top else 0)
            x, y = x0 + number * bar_w, TOP + plot_h - height
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w * 0.92:.1f}" height="{height:.1f}"'
                f' fill="{PALETTE[number % len(PALETTE)]}"><title>{escape(name)}, {escape(label)}:'
                f" {_number(value)}{unit}</title></rect>"
            )
            parts.append(
                f'<text x="{x + bar_w * 0.46:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="9">'
                f"{_number(value)}</text>"
            )
        parts.append(
            f'<text x="{x0 + group_w * 0.4:.1f}" y="{TOP + plot_h + 14}" text-anchor="end" font-size="10"'
            f' transform="rotate(-35 {x0 + group_w * 0.4:.1f} {TOP + plot_h + 14})">{escape(label)}</text>'
        )
    for number, (name, _) in enumerate(series):
        x = LEFT + number * 150
        parts.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{PALETTE[number % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + 14}" y="15" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
