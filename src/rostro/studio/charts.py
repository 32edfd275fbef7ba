"""The usage chart: calls per minute over the last hour as inline SVG (no script, no library).

Each minute is a bar as tall as its requests (calls admitted plus calls the tier refused); the
part that got an error answer is red, the rest blue. Each bar has a ``<title>`` (its time and
counts) that browsers and screen readers show.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from markupsafe import Markup

from rostro.store.history import MinuteUsage

WIDTH, HEIGHT = 720, 200
LEFT, RIGHT, TOP, BOTTOM = 36, 8, 10, 24


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50 ... at least ``value`` (at least 5)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= max(5, value):
                return step * factor
        step *= 10


def _clock(start: int) -> str:
    return datetime.fromtimestamp(start, tz=UTC).strftime("%H:%M")


def minute_chart(history: list[MinuteUsage], title: str, bar_label: str,
                 axis_label: str) -> Markup:
    """Return the SVG of ``history`` (oldest minute first). ``bar_label`` is a format string
    with ``{time}``, ``{calls}`` (requests) and ``{errors}`` for each bar's tooltip; ``title`` names the
    chart; ``axis_label`` (with ``{time}``) names the time axis in UTC."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_ceiling(max((m.requests for m in history), default=0))
    slot = plot_w / max(1, len(history))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 3:.1f}" text-anchor="end">'
                     f"{top * fraction:g}</text>")
    for index, minute in enumerate(history):
        x = LEFT + index * slot + slot * 0.15
        width = slot * 0.7
        errors = min(minute.errors, minute.requests)
        calls_h = plot_h * (minute.requests - errors) / top
        errors_h = plot_h * errors / top
        label = bar_label.format(time=_clock(minute.start), calls=minute.requests,
                                 errors=errors)
        parts.append(f'<g data-minute="{minute.start}"><title>{escape(label)}</title>')
        if calls_h:
            parts.append(f'<rect class="calls" x="{x:.1f}" y="{TOP + plot_h - calls_h:.1f}" '
                         f'width="{width:.1f}" height="{calls_h:.1f}"/>')
        if errors_h:
            parts.append(f'<rect class="errors" x="{x:.1f}" '
                         f'y="{TOP + plot_h - calls_h - errors_h:.1f}" width="{width:.1f}" '
                         f'height="{errors_h:.1f}"/>')
        parts.append("</g>")
    if history:
        for index in (0, len(history) // 2, len(history) - 1):
            x = LEFT + (index + 0.5) * slot
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
                         f"{_clock(history[index].start)}</text>")
        parts.append(f'<text x="{WIDTH - RIGHT}" y="{TOP + 8}" text-anchor="end">'
                     f"{escape(axis_label)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))
