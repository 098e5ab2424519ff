"""Small inline SVG charts (no JavaScript, no network): horizontal bars with optional intervals and
a reference line, point estimates with intervals, one small panel per coefficient, and a scatter
plot. Every label is escaped here; the template marks the returned SVG as safe.

Rules every chart keeps (pinned by tests/test_report.py and tests/test_report_browser.py):

- each mark sits inside the band of the label it belongs to: a label and its marks carry the same
  ``data-row`` attribute, and the label is centred on its band;
- the x axis has a title and round tick values (1, 2, 2.5 or 5 times a power of ten);
- the label column is as wide as its longest label, so no label is cut;
- quantities on different scales (regression coefficients) get a panel each, never a shared axis.

Charts are drawn at their pixel size (12 px labels) and shrink, never grow, with the page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import TypeGuard

PALETTE = ["#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b7791f", "#c53030", "#319795", "#4a5568"]

#: width of one character of a 12 px label, generous for a sans-serif face (DejaVu Sans, the widest
#: common default, averages about 7 px): the label column is sized from it so no label is cut
_CHAR_W = 7.4
_PLOT_W = 400


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v:.3f}" if abs(v) < 100 else f"{v:,.0f}"


def _finite(v: object) -> TypeGuard[float]:
    return v is not None and not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)


def _text_w(s: str, size: float = 12.0) -> float:
    return len(s) * _CHAR_W * size / 12.0


def nice_step(lo: float, hi: float, max_intervals: int = 8) -> float:
    """The smallest round step (1, 2, 2.5 or 5 times a power of ten) whose ticks cover [lo, hi]
    in at most ``max_intervals`` intervals."""
    span = hi - lo
    if not span > 0 or not math.isfinite(span):
        return 1.0
    mag = 10.0 ** math.floor(math.log10(span / max_intervals))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 25.0, 50.0):
        step = m * mag
        if math.ceil(hi / step - 1e-9) - math.floor(lo / step + 1e-9) <= max_intervals:
            return step
    return 100.0 * mag  # pragma: no cover


def nice_ticks(lo: float, hi: float, max_intervals: int = 8) -> list[float]:
    """Round tick values covering [lo, hi]: the first tick at or below lo, the last at or above hi."""
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        lo, hi = (lo - 1.0, hi + 1.0) if lo == 0 else (lo - abs(lo) * 0.1, hi + abs(hi) * 0.1)
    step = nice_step(lo, hi, max_intervals)
    first = math.floor(lo / step + 1e-9)
    last = math.ceil(hi / step - 1e-9)
    digits = _tick_digits(step) + 2
    return [round(k * step, digits) + 0.0 for k in range(first, last + 1)]


def _tick_digits(step: float) -> int:
    d = max(0, -math.floor(math.log10(step) + 1e-9))
    mant = round(step / 10.0 ** math.floor(math.log10(step) + 1e-9), 6)
    return d + (1 if mant == 2.5 else 0)


def tick_label(v: float, step: float) -> str:
    d = _tick_digits(step)
    s = f"{v:,.{d}f}"
    return "0" if float(v) == 0 else s


class _Axis:
    """A linear x axis from round ticks, drawn under the plot area with a title."""

    def __init__(self, lo: float, hi: float, left: float, width: float) -> None:
        # at least 50 px between ticks, so tick labels never run into each other
        self.ticks = nice_ticks(lo, hi, max(3, int(width // 50)))
        self.step = self.ticks[1] - self.ticks[0] if len(self.ticks) > 1 else 1.0
        self.lo, self.hi = self.ticks[0], self.ticks[-1]
        self.left, self.width = left, width

    def x(self, v: float) -> float:
        return self.left + (v - self.lo) / ((self.hi - self.lo) or 1.0) * self.width

    def draw(self, top: float, bottom: float, title: str, zero: bool = True) -> list[str]:
        out = []
        for t in self.ticks:
            xt = self.x(t)
            dash = ' stroke-dasharray="3,3"' if t == 0 and zero else ""
            color = "#718096" if t == 0 and zero else "#edf2f7"
            out.append(f'<line x1="{xt:.1f}" x2="{xt:.1f}" y1="{top}" y2="{bottom}" stroke="{color}"{dash}/>')
            out.append(f'<text x="{xt:.1f}" y="{bottom + 15}" text-anchor="middle" class="cv tick">{tick_label(t, self.step)}</text>')
        out.append(f'<line x1="{self.left}" x2="{self.left + self.width}" y1="{bottom}" y2="{bottom}" stroke="#a0aec0"/>')
        out.append(f'<text x="{self.left + self.width / 2:.1f}" y="{bottom + 33}" text-anchor="middle" '
                   f'class="cl axis-title">{escape(title)}</text>')
        return out


def _color(g: str, groups: Sequence[str], order: Sequence[str] | None) -> str:
    seq = order if order is not None and g in order else groups
    return PALETTE[list(seq).index(g) % len(PALETTE)]


def _svg_open(width: float, height: float, label: str) -> str:
    return (f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}">')


def hbar(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    lo: Sequence[float | None] | None = None,
    hi: Sequence[float | None] | None = None,
    ref: float | None = None,
    ref_label: str = "",
    xmax: float | None = None,
    xmin: float = 0.0,
    colors: Sequence[str] | None = None,
    title: str = "",
    xlabel: str = "",
) -> str:
    """Horizontal bars, one per label, optional interval whiskers and one vertical reference line."""
    n = len(labels)
    if n == 0:
        return ""
    row = 26
    left = max(80.0, max(_text_w(str(lab)) for lab in labels) + 16)
    right = 70
    top = (28 if title else 8) + (18 if _finite(ref) else 0)
    bottom = top + n * row
    vals = [float(v) for v in values if _finite(v)]
    his = [float(v) for v in (hi or []) if _finite(v)]
    los = [float(v) for v in (lo or []) if _finite(v)]
    vmax = max([*vals, *his, float(ref) if _finite(ref) else 0.0, xmax if xmax is not None else 0.0, 1e-9])
    vmin = min([xmin, *vals, *los])
    axis = _Axis(vmin, vmax, left, _PLOT_W)
    width = max(left + _PLOT_W + right, _text_w(title, 13) + 16)
    height = bottom + 44
    x = axis.x
    out = [_svg_open(width, height, title or xlabel)]
    if title:
        out.append(f'<text x="8" y="16" class="ct">{escape(title)}</text>')
    out.extend(axis.draw(top, bottom, xlabel or "value"))
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row
        color = colors[i] if colors is not None and i < len(colors) else PALETTE[0]
        out.append(f'<rect class="band" data-row="{i}" x="0" y="{y}" width="{left + _PLOT_W:.0f}" height="{row}" fill="none"/>')
        out.append(f'<text x="{left - 8:.1f}" y="{y + row / 2:.1f}" dominant-baseline="central" text-anchor="end" '
                   f'class="cl" data-row="{i}">{escape(str(lab))}</text>')
        if _finite(v):
            base = min(max(0.0, axis.lo), axis.hi)
            x0, x1 = x(base), x(float(v))
            out.append(f'<rect class="mark" data-row="{i}" x="{min(x0, x1):.1f}" y="{y + 5}" width="{abs(x1 - x0):.1f}" '
                       f'height="{row - 10}" fill="{color}" rx="2"><title>{escape(str(lab))}: {_fmt(float(v))}</title></rect>')
            end = x1
            lv = lo[i] if lo is not None and i < len(lo) else None
            hv = hi[i] if hi is not None and i < len(hi) else None
            if _finite(lv) and _finite(hv):
                a, b = x(float(lv)), x(float(hv))
                yc = y + row / 2
                out.append(f'<line class="mark" data-row="{i}" x1="{a:.1f}" x2="{b:.1f}" y1="{yc:.1f}" y2="{yc:.1f}" stroke="#1a202c" stroke-width="1.5"/>')
                out.append(f'<line x1="{a:.1f}" x2="{a:.1f}" y1="{yc - 5:.1f}" y2="{yc + 5:.1f}" stroke="#1a202c"/>'
                           f'<line x1="{b:.1f}" x2="{b:.1f}" y1="{yc - 5:.1f}" y2="{yc + 5:.1f}" stroke="#1a202c"/>')
                end = max(end, b)
            out.append(f'<text x="{end + 5:.1f}" y="{y + row / 2:.1f}" dominant-baseline="central" class="cv">{_fmt(float(v))}</text>')
        else:
            out.append(f'<text x="{left + 4:.1f}" y="{y + row / 2:.1f}" dominant-baseline="central" class="cv">n/a</text>')
    if _finite(ref):
        xr = x(float(ref))
        out.append(f'<line x1="{xr:.1f}" x2="{xr:.1f}" y1="{top - 4}" y2="{bottom}" stroke="#c53030" stroke-dasharray="5,3" stroke-width="2"/>')
        anchor = "end" if xr > left + _PLOT_W * 0.6 else "start"
        out.append(f'<text x="{xr + (-4 if anchor == "end" else 4):.1f}" y="{top - 6}" text-anchor="{anchor}" class="cr">'
                   f'{escape(ref_label)} {_fmt(float(ref))}</text>')
    out.append("</svg>")
    return "".join(out)


def scatter(
    points: Sequence[tuple[str, float, float, str]],
    *,
    xlabel: str,
    ylabel: str,
    height: int = 380,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
) -> str:
    """Points (label, x, y, group). Groups get a colour each, with a legend."""
    pts = [p for p in points if _finite(p[1]) and _finite(p[2])]
    if not pts:
        return '<p class="muted">No points to plot.</p>'
    groups = list(dict.fromkeys(p[3] for p in pts))
    left, bottom, top = 70, 56, 20
    right = max(60.0, max(_text_w(str(g)) for g in groups) + 44)
    pw = 440
    width = left + pw + right
    xs = [float(p[1]) for p in pts]
    ys = [float(p[2]) for p in pts]
    xa = _Axis(*(xlim or (min(0.0, *xs), max(xs))), left, pw)
    yt = nice_ticks(*(ylim or (min(0.0, *ys), max(ys))), max_intervals=6)
    ystep = yt[1] - yt[0] if len(yt) > 1 else 1.0
    ph = height - top - bottom

    def sy(v: float) -> float:
        return top + ph - (v - yt[0]) / ((yt[-1] - yt[0]) or 1.0) * ph

    out = [_svg_open(width, height, f"{ylabel} against {xlabel}")]
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#f7fafc" stroke="#cbd5e0"/>')
    for t in yt:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" stroke="{"#718096" if t == 0 else "#e2e8f0"}"/>')
        out.append(f'<text x="{left - 6}" y="{sy(t):.1f}" dominant-baseline="central" text-anchor="end" class="cv ytick">{tick_label(t, ystep)}</text>')
    out.extend(xa.draw(top, top + ph, xlabel))
    out.append(f'<text x="14" y="{top + ph / 2:.1f}" text-anchor="middle" class="cl axis-title" '
               f'transform="rotate(-90 14 {top + ph / 2:.1f})">{escape(ylabel)}</text>')
    for lab, xv, yv, g in pts:
        c = PALETTE[groups.index(g) % len(PALETTE)]
        out.append(f'<circle class="point" cx="{xa.x(float(xv)):.1f}" cy="{sy(float(yv)):.1f}" r="6" fill="{c}" fill-opacity="0.85">'
                   f'<title>{escape(lab)}: {escape(xlabel)} {_fmt(float(xv))}, {escape(ylabel)} {_fmt(float(yv))}</title></circle>')
    for i, g in enumerate(groups):
        c = PALETTE[i % len(PALETTE)]
        out.append(f'<circle cx="{left + pw + 18}" cy="{top + 10 + i * 20}" r="6" fill="{c}"/>'
                   f'<text x="{left + pw + 30}" y="{top + 10 + i * 20}" dominant-baseline="central" class="cl">{escape(g)}</text>')
    out.append("</svg>")
    return "".join(out)


def intervals(
    rows: Sequence[tuple[str, float | None, float | None, float | None, str]],
    *,
    title: str = "",
    xlabel: str = "",
    zero: bool = True,
    legend: bool = True,
    color_order: Sequence[str] | None = None,
    plot_w: int = _PLOT_W,
) -> str:
    """Point estimates with intervals on one axis: (label, estimate, low, high, group).

    Each label gets a band; the groups present for that label sit one under the other inside it,
    and the label is centred on the band (alternate bands are shaded)."""
    rows = [r for r in rows if _finite(r[1])]
    if not rows:
        return ""
    labels = list(dict.fromkeys(r[0] for r in rows))
    groups = list(dict.fromkeys(r[4] for r in rows))
    present = {lab: [g for g in groups if any(r[0] == lab and r[4] == g for r in rows)] for lab in labels}
    sub_h = 13
    bands: list[tuple[float, float]] = []
    left = max(80.0, max(_text_w(lab) for lab in labels) + 16)
    right = 30
    top = 28 if title else 8
    y = float(top)
    for lab in labels:
        h = max(24.0, 10 + sub_h * len(present[lab]))
        bands.append((y, h))
        y += h
    bottom = y
    show_legend = legend and len(groups) > 1
    vals = [float(v) for r in rows for v in r[1:4] if _finite(v)]
    lo_v, hi_v = min(vals + ([0.0] if zero else [])), max(vals + ([0.0] if zero else []))
    axis = _Axis(lo_v, hi_v, left, plot_w)
    legend_w = max((_text_w(g) for g in groups), default=0) + 40 if show_legend else 0
    width = max(left + plot_w + right, _text_w(title, 13) + 16, left + legend_w)
    height = bottom + 44 + (18 * len(groups) + 6 if show_legend else 0)
    x = axis.x
    out = [_svg_open(width, height, title or xlabel)]
    if title:
        out.append(f'<text x="8" y="16" class="ct">{escape(title)}</text>')
    for i, (by, bh) in enumerate(bands):
        fill = "#f7fafc" if i % 2 == 1 else "none"
        out.append(f'<rect class="band" data-row="{i}" x="0" y="{by:.1f}" width="{left + plot_w:.0f}" height="{bh:.1f}" fill="{fill}"/>')
    out.extend(axis.draw(top, bottom, xlabel or "value", zero=zero))
    for i, lab in enumerate(labels):
        by, bh = bands[i]
        out.append(f'<text x="{left - 8:.1f}" y="{by + bh / 2:.1f}" dominant-baseline="central" text-anchor="end" '
                   f'class="cl" data-row="{i}">{escape(lab)}</text>')
    for lab, est, lo, hi, g in rows:
        i = labels.index(lab)
        by, bh = bands[i]
        k = len(present[lab])
        j = present[lab].index(g)
        yc = by + (bh - k * sub_h) / 2 + (j + 0.5) * sub_h
        c = _color(g, groups, color_order)
        tip = f"{escape(lab)} ({escape(g)}): {_fmt(float(est))}"  # type: ignore[arg-type]
        if _finite(lo) and _finite(hi):
            tip += f" [{_fmt(float(lo))}, {_fmt(float(hi))}]"
            out.append(f'<line class="mark" data-row="{i}" x1="{x(float(lo)):.1f}" x2="{x(float(hi)):.1f}" '
                       f'y1="{yc:.1f}" y2="{yc:.1f}" stroke="{c}" stroke-width="2.5"/>')
        out.append(f'<circle class="mark" data-row="{i}" cx="{x(float(est)):.1f}" cy="{yc:.1f}" r="4.5" fill="{c}">'  # type: ignore[arg-type]
                   f"<title>{tip}</title></circle>")
    if show_legend:
        for gi, g in enumerate(groups):
            c = _color(g, groups, color_order)
            yy = bottom + 50 + gi * 18
            out.append(f'<circle cx="{left + 6:.1f}" cy="{yy:.1f}" r="5" fill="{c}"/>'
                       f'<text x="{left + 16:.1f}" y="{yy:.1f}" dominant-baseline="central" class="cl">{escape(g)}</text>')
    out.append("</svg>")
    return "".join(out)


def coef_panels(
    rows: Sequence[tuple[str, float | None, float | None, float | None, str]],
    *,
    xlabel: str = "coefficient (95% interval)",
) -> str:
    """One small panel per coefficient (rows: term, estimate, low, high, source), each with its own
    axis, so a coefficient on a small scale (age in years) is not squashed beside one on a large
    scale (a category's contrast). Inside a panel the sources are the rows, in a colour each."""
    terms = list(dict.fromkeys(r[0] for r in rows if _finite(r[1])))
    sources = list(dict.fromkeys(r[4] for r in rows))
    panels = []
    for term in terms:
        sub = [(r[4], r[1], r[2], r[3], r[4]) for r in rows if r[0] == term]
        # keep each source's colour the same in every panel
        ordered = sorted(sub, key=lambda r: sources.index(r[4]))
        panels.append(intervals(ordered, title=term, xlabel=xlabel, legend=False, color_order=sources, plot_w=200))
    return '<div class="panels">' + "".join(panels) + "</div>" if panels else ""
