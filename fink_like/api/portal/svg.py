"""Figures as inline SVG, drawn on the server: scatter plots with error bars, and bar charts.

No plotting library and no JavaScript are needed to see them; every mark carries
``data-*`` attributes (its values) so that the page's script and the tests can read them.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np

BAND_COLOURS = {"u": "#7b2cbf", "g": "#2a9d8f", "r": "#e63946", "i": "#f4a261",
                "z": "#6d597a", "y": "#264653"}
PALETTE = ("#1d3557", "#e63946", "#2a9d8f", "#f4a261", "#7b2cbf", "#6d597a", "#457b9d")


def colour(name: str, index: int = 0) -> str:
    return BAND_COLOURS.get(name, PALETTE[index % len(PALETTE)])


def ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering [lo, hi].

    Examples
    --------
    >>> ticks(0, 1)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
    span = hi - lo or 1.0
    step = 10 ** math.floor(math.log10(span / n))
    for mult in (1, 2, 5, 10):
        if span / (step * mult) <= n:
            step *= mult
            break
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step + 1e-9) + 1)]


class Plot:
    """An x-y plot of ``width`` x ``height`` pixels; add marks, then :meth:`svg`."""

    def __init__(self, xs, ys, width=720, height=320, invert_y=False, xlabel="", ylabel=""):
        xs, ys = np.asarray(xs, float), np.asarray(ys, float)
        xs, ys = xs[np.isfinite(xs)], ys[np.isfinite(ys)]
        self.x0, self.x1 = _span(xs)
        self.y0, self.y1 = _span(ys)
        self.w, self.h, self.invert = width, height, invert_y
        self.left, self.right, self.top, self.bottom = 56, 12, 12, 40
        self.xlabel, self.ylabel = xlabel, ylabel
        self.marks: list[str] = []

    def px(self, x: float) -> float:
        return self.left + (x - self.x0) / (self.x1 - self.x0) * (self.w - self.left - self.right)

    def py(self, y: float) -> float:
        frac = (y - self.y0) / (self.y1 - self.y0)
        frac = frac if self.invert else 1 - frac
        return self.top + frac * (self.h - self.top - self.bottom)

    def point(self, x, y, err=None, fill="#000", cls="pt", shape="circle", data=None) -> None:
        """One mark at (x, y) with an optional error bar; ``data`` become ``data-*`` attributes."""
        if not (np.isfinite(x) and np.isfinite(y)):
            return
        cx, cy = self.px(x), self.py(y)
        attrs = " ".join(f'data-{k}="{escape(str(v))}"' for k, v in (data or {}).items())
        if err is not None and np.isfinite(err) and err > 0:
            self.marks.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{self.py(y - err):.1f}" '
                              f'y2="{self.py(y + err):.1f}" stroke="{fill}" stroke-width="1"/>')
        if shape == "down":
            self.marks.append(f'<path class="{cls}" d="M{cx - 5:.1f},{cy - 4:.1f}h10l-5,8z" fill="none" '
                              f'stroke="{fill}" {attrs}><title>{_title(x, y)}</title></path>')
        elif shape == "square":
            self.marks.append(f'<rect class="{cls}" x="{cx - 3.5:.1f}" y="{cy - 3.5:.1f}" width="7" height="7" '
                              f'fill="none" stroke="{fill}" {attrs}><title>{_title(x, y)}</title></rect>')
        else:
            self.marks.append(f'<circle class="{cls}" cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{fill}" '
                              f'{attrs}><title>{_title(x, y)}</title></circle>')

    def line(self, xs, ys, stroke="#000", label="") -> None:
        pts = [(self.px(x), self.py(y)) for x, y in zip(xs, ys) if np.isfinite(x) and np.isfinite(y)]
        if len(pts) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            self.marks.append(f'<polyline points="{path}" fill="none" stroke="{stroke}" stroke-width="1.5">'
                              f"<title>{escape(label)}</title></polyline>")

    def svg(self, legend: dict[str, str] | None = None, cls: str = "plot") -> str:
        """The figure: axes, ticks, labels, marks and an optional legend ``{name: colour}``."""
        out = [f'<svg class="{cls}" viewBox="0 0 {self.w} {self.h}" width="{self.w}" height="{self.h}" '
               'xmlns="http://www.w3.org/2000/svg" role="img">',
               f'<rect x="{self.left}" y="{self.top}" width="{self.w - self.left - self.right}" '
               f'height="{self.h - self.top - self.bottom}" fill="#fff" stroke="#999"/>']
        for t in ticks(self.x0, self.x1):
            out.append(f'<text x="{self.px(t):.1f}" y="{self.h - self.bottom + 14}" text-anchor="middle" '
                       f'class="tick">{_fmt(t)}</text>')
        for t in ticks(self.y0, self.y1):
            out.append(f'<text x="{self.left - 4}" y="{self.py(t) + 4:.1f}" text-anchor="end" class="tick">'
                       f"{_fmt(t)}</text>")
        out.append(f'<text x="{(self.w + self.left) / 2:.0f}" y="{self.h - 4}" text-anchor="middle">'
                   f"{escape(self.xlabel)}</text>")
        out.append(f'<text transform="translate(12,{self.h / 2:.0f}) rotate(-90)" text-anchor="middle">'
                   f"{escape(self.ylabel)}</text>")
        out += self.marks
        for i, (name, fill) in enumerate((legend or {}).items()):
            x = self.left + 10 + 90 * i
            out.append(f'<circle cx="{x}" cy="{self.top + 12}" r="4" fill="{fill}"/>'
                       f'<text x="{x + 8}" y="{self.top + 16}">{escape(name)}</text>')
        out.append("</svg>")
        return "".join(out)


def bars(labels: list[str], values: list[float], width=520, height=220, xlabel="", ylabel="",
         cls: str = "bars") -> str:
    """A bar chart, one bar per label (histograms pass their bin edges as labels)."""
    n = max(len(values), 1)
    top = max(values) if values and max(values) > 0 else 1
    left, inner_w, inner_h = 48, width - 60, height - 52
    out = [f'<svg class="{cls}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           'xmlns="http://www.w3.org/2000/svg" role="img">']
    for i, (label, value) in enumerate(zip(labels, values)):
        bw = inner_w / n
        bh = inner_h * value / top
        x, y = left + i * bw, 12 + inner_h - bh
        out.append(f'<rect class="bar" x="{x + 1:.1f}" y="{y:.1f}" width="{max(bw - 2, 1):.1f}" height="{bh:.1f}" '
                   f'fill="#457b9d" data-label="{escape(str(label))}" data-value="{value}">'
                   f"<title>{escape(str(label))}: {_fmt(value)}</title></rect>")
        if n <= 12 or i % math.ceil(n / 12) == 0:
            out.append(f'<text class="tick" x="{x + bw / 2:.1f}" y="{12 + inner_h + 14}" '
                       f'text-anchor="middle">{escape(str(label))[:14]}</text>')
    for t in ticks(0, top, 4):
        y = 12 + inner_h - inner_h * t / top
        out.append(f'<text class="tick" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    out.append(f'<text x="{left + inner_w / 2:.0f}" y="{height - 4}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append(f'<text transform="translate(12,{height / 2:.0f}) rotate(-90)" text-anchor="middle">'
               f"{escape(ylabel)}</text></svg>")
    return "".join(out)


def _span(values: np.ndarray) -> tuple[float, float]:
    if not values.size:
        return 0.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    pad = (hi - lo) * 0.05 or 0.5
    return lo - pad, hi + pad


def _fmt(value: float) -> str:
    return f"{value:.10g}"


def _title(x: float, y: float) -> str:
    return f"{x:.5f}, {y:.4g}"
