"""Small inline SVG charts (no JavaScript, no network): horizontal bars with optional reference
lines and intervals, and a scatter plot. Every label is escaped here; the template marks the
returned SVG as safe."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import TypeGuard

PALETTE = ["#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b7791f", "#c53030", "#319795", "#4a5568"]


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v:.3f}" if abs(v) < 100 else f"{v:,.0f}"


def _finite(v: object) -> TypeGuard[float]:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v)


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
    width: int = 640,
) -> str:
    """Horizontal bars, one per label, optional interval whiskers and one vertical reference line."""
    n = len(labels)
    if n == 0:
        return ""
    row = 26
    left = 210
    right = 70
    top = 28 if title else 10
    h = top + n * row + 28
    vals = [v for v in values if _finite(v)]
    his = [v for v in (hi or []) if _finite(v)]
    vmax = xmax if xmax is not None else max([*vals, *his, ref if _finite(ref) else 0.0, 1e-9])
    vmin = min(xmin, *vals) if vals else xmin
    span = (vmax - vmin) or 1.0
    plot_w = width - left - right

    def x(v: float) -> float:
        return left + (v - vmin) / span * plot_w

    out = [f'<svg class="chart" role="img" viewBox="0 0 {width} {h}" width="100%">']
    if title:
        out.append(f'<text x="{left}" y="16" class="ct">{escape(title)}</text>')
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row
        color = (colors[i] if colors else PALETTE[0]) if colors is None or i < len(colors) else PALETTE[0]
        out.append(f'<text x="{left - 8}" y="{y + 17}" text-anchor="end" class="cl">{escape(str(lab))}</text>')
        if _finite(v):
            x0, x1 = x(max(vmin, min(0.0, float(v)))) if vmin < 0 else x(vmin), x(float(v))
            out.append(f'<rect x="{min(x0, x1):.1f}" y="{y + 5}" width="{abs(x1 - x0):.1f}" height="16" fill="{color}" rx="2"><title>{escape(str(lab))}: {_fmt(float(v))}</title></rect>')
            if lo is not None and hi is not None and _finite(lo[i]) and _finite(hi[i]):
                a, b = x(float(lo[i])), x(float(hi[i]))  # type: ignore[arg-type]
                out.append(f'<line x1="{a:.1f}" x2="{b:.1f}" y1="{y + 13}" y2="{y + 13}" stroke="#1a202c" stroke-width="1.5"/>')
                out.append(f'<line x1="{a:.1f}" x2="{a:.1f}" y1="{y + 8}" y2="{y + 18}" stroke="#1a202c"/><line x1="{b:.1f}" x2="{b:.1f}" y1="{y + 8}" y2="{y + 18}" stroke="#1a202c"/>')
            out.append(f'<text x="{max(x1, x(float(hi[i] or 0.0)) if hi is not None and _finite(hi[i]) else x1) + 5:.1f}" y="{y + 17}" class="cv">{_fmt(float(v))}</text>')
        else:
            out.append(f'<text x="{left + 4}" y="{y + 17}" class="cv">n/a</text>')
    if _finite(ref):
        xr = x(float(ref))
        out.append(f'<line x1="{xr:.1f}" x2="{xr:.1f}" y1="{top}" y2="{top + n * row}" stroke="#c53030" stroke-dasharray="5,3" stroke-width="2"/>')
        out.append(f'<text x="{xr:.1f}" y="{top + n * row + 16}" text-anchor="middle" class="cr">{escape(ref_label)} {_fmt(float(ref))}</text>')
    # axis
    out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + n * row}" y2="{top + n * row}" stroke="#a0aec0"/>')
    out.append("</svg>")
    return "".join(out)


def scatter(
    points: Sequence[tuple[str, float, float, str]],
    *,
    xlabel: str,
    ylabel: str,
    width: int = 640,
    height: int = 380,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
) -> str:
    """Points (label, x, y, group). Groups get a colour each, with a legend."""
    pts = [p for p in points if _finite(p[1]) and _finite(p[2])]
    if not pts:
        return '<p class="muted">No points to plot.</p>'
    left, bottom, top, right = 60, 50, 20, 170
    xs = [p[1] for p in pts]
    ys = [p[2] for p in pts]
    x0, x1 = xlim or (min(0.0, min(xs)), max(xs) * 1.1 or 1.0)
    y0, y1 = ylim or (min(0.0, min(ys)), max(ys) * 1.1 or 1.0)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y1 = y0 + 1
    pw, ph = width - left - right, height - top - bottom

    def sx(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * pw

    def sy(v: float) -> float:
        return top + ph - (v - y0) / (y1 - y0) * ph

    groups = list(dict.fromkeys(p[3] for p in pts))
    out = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%">']
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#f7fafc" stroke="#cbd5e0"/>')
    for t in range(5):
        xv = x0 + (x1 - x0) * t / 4
        yv = y0 + (y1 - y0) * t / 4
        out.append(f'<text x="{sx(xv):.1f}" y="{top + ph + 16}" text-anchor="middle" class="cv">{_fmt(xv)}</text>')
        out.append(f'<text x="{left - 6}" y="{sy(yv) + 4:.1f}" text-anchor="end" class="cv">{_fmt(yv)}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle" class="cl">{escape(xlabel)}</text>')
    out.append(f'<text x="14" y="{top + ph / 2}" text-anchor="middle" class="cl" transform="rotate(-90 14 {top + ph / 2})">{escape(ylabel)}</text>')
    for lab, xv, yv, g in pts:
        c = PALETTE[groups.index(g) % len(PALETTE)]
        out.append(f'<circle cx="{sx(xv):.1f}" cy="{sy(yv):.1f}" r="6" fill="{c}" fill-opacity="0.85"><title>{escape(lab)}: {escape(xlabel)} {_fmt(xv)}, {escape(ylabel)} {_fmt(yv)}</title></circle>')
    for i, g in enumerate(groups):
        c = PALETTE[i % len(PALETTE)]
        out.append(f'<circle cx="{left + pw + 18}" cy="{top + 10 + i * 20}" r="6" fill="{c}"/><text x="{left + pw + 30}" y="{top + 14 + i * 20}" class="cl">{escape(g)}</text>')
    out.append("</svg>")
    return "".join(out)


def intervals(
    rows: Sequence[tuple[str, float | None, float | None, float | None, str]],
    *,
    title: str = "",
    width: int = 640,
    zero: bool = True,
) -> str:
    """Point estimates with intervals on one axis: (label, estimate, low, high, group)."""
    rows = [r for r in rows if _finite(r[1])]
    if not rows:
        return ""
    labels = list(dict.fromkeys(r[0] for r in rows))
    n_groups = len(dict.fromkeys(r[4] for r in rows))
    n_rows = len(labels)
    row_h = max(22, 8 + 9 * n_groups)
    left, right = 230, 40
    top = 26 if title else 8
    h = top + n_rows * row_h + 30 + 16 * n_groups
    vals = [float(v) for r in rows for v in r[1:4] if _finite(v)]
    vmin, vmax = min(vals + ([0.0] if zero else [])), max(vals + ([0.0] if zero else []))
    if vmax == vmin:
        vmax = vmin + 1
    pad = (vmax - vmin) * 0.05
    vmin, vmax = vmin - pad, vmax + pad
    pw = width - left - right

    def x(v: float) -> float:
        return left + (v - vmin) / (vmax - vmin) * pw

    groups = list(dict.fromkeys(r[4] for r in rows))
    out = [f'<svg class="chart" role="img" viewBox="0 0 {width} {h}" width="100%">']
    if title:
        out.append(f'<text x="10" y="16" class="ct">{escape(title)}</text>')
    if zero and vmin < 0 < vmax:
        out.append(f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top}" y2="{top + n_rows * row_h}" stroke="#a0aec0" stroke-dasharray="3,3"/>')
    for i, lab in enumerate(labels):
        out.append(f'<text x="{left - 8}" y="{top + i * row_h + 15}" text-anchor="end" class="cl">{escape(lab)}</text>')
    for lab, est, lo, hi, g in rows:
        gi = groups.index(g)
        # one row per label; the groups sit side by side within it
        y = top + labels.index(lab) * row_h + 5 + (gi + 0.5) * (row_h - 8) / max(1, len(groups))
        c = PALETTE[gi % len(PALETTE)]
        if _finite(lo) and _finite(hi):
            out.append(f'<line x1="{x(float(lo)):.1f}" x2="{x(float(hi)):.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{c}" stroke-width="2.5"/>')
        out.append(f'<circle cx="{x(float(est)):.1f}" cy="{y:.1f}" r="4.5" fill="{c}"><title>{escape(lab)} ({escape(g)}): {_fmt(float(est))}'  # type: ignore[arg-type]
                   + (f" [{_fmt(float(lo))}, {_fmt(float(hi))}]" if _finite(lo) and _finite(hi) else "") + "</title></circle>")
    # legend
    for gi, g in enumerate(groups):
        c = PALETTE[gi % len(PALETTE)]
        yy = top + n_rows * row_h + 34 + gi * 16
        out.append(f'<circle cx="{left + 6}" cy="{yy - 4}" r="5" fill="{c}"/><text x="{left + 16}" y="{yy}" class="cl">{escape(g)}</text>')
    out.append(f'<line x1="{left}" x2="{left + pw}" y1="{top + n_rows * row_h}" y2="{top + n_rows * row_h}" stroke="#a0aec0"/>')
    for t in range(5):
        v = vmin + (vmax - vmin) * t / 4
        out.append(f'<text x="{x(v):.1f}" y="{top + n_rows * row_h + 16}" text-anchor="middle" class="cv">{_fmt(v)}</text>')
    out.append("</svg>")
    return "".join(out)
