"""Small server-side SVG charts for the PDF report: no JavaScript, no external URLs.

Every label is escaped; the output is markup built here from numbers and escaped text
only, so marking it safe is sound.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c")


def _num(value: Decimal | float | int) -> float:
    return float(value or 0)


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 1_000:
        return f"{value / 1_000:.1f}k"
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:.2f}"


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal | float | int]]],
    *,
    width: int = 680,
    height: int = 220,
) -> SafeString:
    """Grouped bars, one group per label, one bar per series."""
    pad_l, pad_b, pad_t = 48, 28, 24
    plot_w, plot_h = width - pad_l - 8, height - pad_b - pad_t
    values = [_num(v) for _, vals in series for v in vals] or [0.0]
    top = max(max(values), 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="9">'
    ]
    for i in range(5):
        y = pad_t + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{pad_l}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" stroke="#e5e7eb"/>'
            f'<text x="{pad_l - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#6b7280">'
            f"{_fmt(top * i / 4)}</text>"
        )
    n = max(len(labels), 1)
    group_w = plot_w / n
    bar_w = max(group_w * 0.8 / max(len(series), 1), 1)
    for gi, label in enumerate(labels):
        x0 = pad_l + gi * group_w + group_w * 0.1
        for si, (_, vals) in enumerate(series):
            v = max(_num(vals[gi]) if gi < len(vals) else 0.0, 0.0)
            h = plot_h * v / top
            parts.append(
                f'<rect x="{x0 + si * bar_w:.1f}" y="{pad_t + plot_h - h:.1f}" '
                f'width="{bar_w - 1:.1f}" height="{h:.1f}" fill="{PALETTE[si % len(PALETTE)]}"/>'
            )
        parts.append(
            f'<text x="{x0 + group_w * 0.4:.1f}" y="{height - pad_b + 12}" '
            f'text-anchor="middle" fill="#374151">{escape(label)}</text>'
        )
    parts.append(_legend(series, pad_l))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and escaped labels only


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal | float | int | None]]],
    *,
    width: int = 680,
    height: int = 220,
) -> SafeString:
    """Lines over the same x axis; a None value breaks nothing, it is just skipped."""
    pad_l, pad_b, pad_t = 56, 28, 24
    plot_w, plot_h = width - pad_l - 8, height - pad_b - pad_t
    values = [_num(v) for _, vals in series for v in vals if v is not None] or [0.0]
    top = max(max(values), 1.0)
    n = max(len(labels) - 1, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="9">'
    ]
    for i in range(5):
        y = pad_t + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{pad_l}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" stroke="#e5e7eb"/>'
            f'<text x="{pad_l - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#6b7280">'
            f"{_fmt(top * i / 4)}</text>"
        )
    step = max(len(labels) // 10, 1)
    for i, label in enumerate(labels):
        if i % step == 0 or i == len(labels) - 1:
            x = pad_l + plot_w * i / n
            parts.append(
                f'<text x="{x:.1f}" y="{height - pad_b + 12}" text-anchor="middle" '
                f'fill="#374151">{escape(label)}</text>'
            )
    for si, (_, vals) in enumerate(series):
        points = [
            f"{pad_l + plot_w * i / n:.1f},{pad_t + plot_h - plot_h * _num(v) / top:.1f}"
            for i, v in enumerate(vals)
            if v is not None
        ]
        if points:
            dash = ' stroke-dasharray="4 3"' if si > 0 else ""
            parts.append(
                f'<polyline fill="none" stroke="{PALETTE[si % len(PALETTE)]}" '
                f'stroke-width="2"{dash} points="{" ".join(points)}"/>'
            )
    parts.append(_legend(series, pad_l))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and escaped labels only


def _legend(series: Sequence[tuple[str, Sequence[object]]], x: int) -> str:
    out = []
    for si, (name, _) in enumerate(series):
        cx = x + si * 150
        out.append(
            f'<rect x="{cx}" y="6" width="10" height="10" fill="{PALETTE[si % len(PALETTE)]}"/>'
            f'<text x="{cx + 14}" y="15" fill="#111827">{escape(name)}</text>'
        )
    return "".join(out)
