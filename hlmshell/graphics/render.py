"""Draw a Graph (hlmshell.graphics.model) as a matplotlib Figure, in Stata's look.

matplotlib is imported here, inside the functions, and only when a graph is drawn; the
figure is a bare matplotlib.figure.Figure on the Agg canvas (no pyplot, no GUI), so drawing
works in batch runs and in threads. matplotlib's warnings are silenced.

Scatter series are drawn as PathCollections (ax.collections), lines as Line2D (ax.lines);
ranges and bars as collections/patches; the legend is a figure legend (fig.legends) or, with
legend(ring(0)), the axes' legend.
"""
from __future__ import annotations

import math
import re
import warnings

import numpy as np

from hlmshell.graphics import schemes
from hlmshell.graphics.markup import render_text
from hlmshell.graphics.model import Axis, Graph, Panel, Series

DEFAULT_WIDTH = 800          # pixels of an exported bitmap without width()/height()
FONT = 9.0

# clock position -> matplotlib loc, outside (figure legend) and inside (ring(0))
_OUTSIDE = {12: "outside upper center", 1: "outside right upper", 2: "outside right upper",
            3: "outside right center", 4: "outside right lower", 5: "outside right lower",
            6: "outside lower center", 7: "outside left lower", 8: "outside left lower",
            9: "outside left center", 10: "outside left upper", 11: "outside left upper",
            0: "outside lower center"}
_INSIDE = {12: "upper center", 1: "upper right", 2: "upper right", 3: "center right",
           4: "lower right", 5: "lower right", 6: "lower center", 7: "lower left",
           8: "lower left", 9: "center left", 10: "upper left", 11: "upper left", 0: "center"}


def figure_size(graph: Graph, width: float | None = None, height: float | None = None):
    """(figsize inches, dpi) so the canvas is width x height pixels (either may be None:
    kept in the graph's proportions)."""
    xs, ys = float(graph.xsize), float(graph.ysize)
    if width is None and height is None:
        width = DEFAULT_WIDTH
    if width is None:
        width = height * xs / ys
    if height is None:
        height = width * ys / xs
    dpi = width / xs
    eps = 1e-3                      # the canvas truncates: stay just above the integer
    return ((round(width) + eps) / dpi, (round(height) + eps) / dpi), dpi


def draw(graph: Graph, width: float | None = None, height: float | None = None):
    """A matplotlib Figure of the graph."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _draw(graph, width, height)


def _draw(graph: Graph, width, height):
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    sch = schemes.scheme(graph.scheme)
    size, dpi = figure_size(graph, width, height)
    fig = Figure(figsize=size, dpi=dpi, layout="constrained", facecolor=sch["graph_bg"])
    FigureCanvasAgg(fig)
    fig.get_layout_engine().set(w_pad=0.06, h_pad=0.06)
    _draw_graph(fig, graph, sch)
    return fig


def _draw_graph(fig, graph: Graph, sch: dict) -> None:
    """The graph into a figure or subfigure; graph combine draws each of its graphs whole
    (titles, legend, note, by() panels) into a cell of its grid."""
    body = _footer(fig, graph, sch)
    if graph.parts:
        _draw_parts(fig, body, graph, sch)
        return
    panels = graph.panels or [Panel()]
    nrows, ncols = _grid(len(panels), graph.rows, graph.cols)
    shared = len(panels) > 1 and graph.kind not in ("combine", "matrix")
    plots, keys_fig = body, None
    if shared:
        plots, keys_fig = _legend_row(body, graph, panels[0], sch)
    axes = []
    for k, panel in enumerate(panels):
        ax = plots.add_subplot(nrows, ncols, k + 1)
        _draw_panel(ax, panel, graph, sch, titled=len(panels) > 1 or bool(panel.title))
        axes.append(ax)
    if shared:
        _common_scales(graph, axes, ncols)
        _shared_titles(plots, axes, nrows, ncols)
    _titles(fig, graph, sch)
    if keys_fig is not None:
        _legend(keys_fig, axes, graph, sch, loc="center")
    else:
        _legend(body, axes, graph, sch)


def _draw_parts(fig, body, graph: Graph, sch: dict) -> None:
    """graph combine: each graph whole in a cell of the grid; grc1leg (legend_from): the
    parts without their legends and, below them, the legend of part legend_from."""
    holes = {int(h) for h in graph.holes or []}
    n_cells = len(graph.parts) + len(holes)
    nrows, ncols = _grid(n_cells, graph.rows, graph.cols)
    grid, keys_fig, shown = body, None, None
    if graph.legend_from is not None:
        from dataclasses import replace
        shown = replace(graph.parts[graph.legend_from], legend=graph.legend)
        first = shown.panels[0] if shown.panels else Panel()
        grid, keys_fig = _legend_row(body, shown, first, sch)
    cells = grid.subfigures(nrows, ncols, squeeze=False).ravel()
    scale = graph.iscale or max(nrows, ncols) ** -0.75     # Stata shrinks the parts' text
    used = [c for k, c in enumerate(cells, 1) if k not in holes]
    for cell, part in zip(used, graph.parts):
        psch = schemes.scheme(part.scheme)
        cell.set_facecolor(psch["graph_bg"])
        _draw_graph(cell, part, psch)
        _shrink_text(cell, scale)
    _titles(fig, graph, sch)
    if shown is not None:
        axes = used[graph.legend_from].get_axes() if graph.legend_from < len(used) else []
        _legend(keys_fig or body, axes[:1], shown, sch, loc="center" if keys_fig else None)


def _legend_row(body, graph: Graph, first: Panel, sch: dict):
    """by() graphs with a legend below: (subfigure for the panels and their shared x title,
    subfigure for the legend) so the two never overlap; else (body, None)."""
    lg = graph.legend
    n = len(lg.order) if lg.order else sum(1 for s in first.series if s.legend)
    show = lg.show if lg.show is not None else n >= 2
    if not show or n == 0 or lg.ring == 0 or lg.position not in (0, 5, 6, 7):
        return body, None
    cols = lg.cols or (math.ceil(n / lg.rows) if lg.rows else min(n, 2))
    rows = math.ceil(n / max(1, cols))
    height = body.bbox.height / body.dpi
    h = min(0.3, (rows * FONT * 0.85 * 1.8 + 12) / 72 / height)
    top, low = body.subfigures(2, 1, height_ratios=[1 - h, h])
    for sf in (top, low):
        sf.set_facecolor(sch["graph_bg"])
    return top, low


def _shrink_text(fig, scale: float) -> None:
    """Every text of a (sub)figure -- titles, labels, legend, note, tick labels -- scaled."""
    from matplotlib.text import Text

    if scale == 1:
        return
    ticks = set()
    for ax in fig.get_axes():
        ax.tick_params(labelsize=FONT * 0.9 * scale)
        for axis in (ax.xaxis, ax.yaxis):
            ticks.update(axis.get_ticklabels(which="both"))
            ticks.update(t.label1 for t in axis.get_major_ticks() + axis.get_minor_ticks())
            ticks.update(t.label2 for t in axis.get_major_ticks() + axis.get_minor_ticks())
    for t in set(fig.findobj(Text)) - ticks:
        t.set_fontsize(t.get_fontsize() * scale)


def _footer(fig, graph: Graph, sch: dict):
    """The figure itself, or (with a note or caption) its upper subfigure: the lower one holds
    the note, below the plots and the legend, as Stata places it."""
    foot = "\n".join(t for t in (graph.note, graph.caption) if t)
    if not foot:
        return fig
    lines = foot.count("\n") + 1
    height = fig.bbox.height / fig.dpi           # inches (a subfigure: its cell)
    h = min(0.3, (lines * FONT * 1.25 + 4) / 72 / height)
    top, bottom = fig.subfigures(2, 1, height_ratios=[1 - h, h])
    for sf in (top, bottom):
        sf.set_facecolor(sch["graph_bg"])
    bottom.text(0.01, 0.5, render_text(foot), fontsize=FONT * 0.8, color=sch["text"], ha="left",
                va="center")
    return top


def _common_scales(graph: Graph, axes, ncols: int) -> None:
    """by() graphs: Stata draws every panel on one x and one y scale (the union of the
    panels' ranges) unless by(, xrescale/yrescale); a common axis is labelled only on the
    outer panels -- y in the first column, x where no panel is below."""
    n = len(axes)
    drawn = [ax for ax in axes if ax.axison]
    for which, free in (("x", graph.xrescale), ("y", graph.yrescale)):
        if free or not drawn:
            continue
        get = "get_xlim" if which == "x" else "get_ylim"
        lims = [getattr(ax, get)() for ax in drawn]
        inverted = lims[0][0] > lims[0][1]
        lo = min(min(a, b) for a, b in lims)
        hi = max(max(a, b) for a, b in lims)
        for ax in drawn:
            (ax.set_xlim if which == "x" else ax.set_ylim)((hi, lo) if inverted else (lo, hi))
        for k, ax in enumerate(axes):
            if which == "x" and k + ncols < n:
                ax.tick_params(axis="x", labelbottom=False)
            if which == "y" and k % ncols:
                ax.tick_params(axis="y", labelleft=False)


def _shared_titles(body, axes, nrows: int, ncols: int) -> None:
    """by() graphs: the x and y titles once for the whole graph (below and left of the
    panels), as Stata draws them."""
    xt = next((ax.get_xlabel() for ax in axes if ax.get_xlabel()), "")
    yt = next((ax.get_ylabel() for ax in axes if ax.get_ylabel()), "")
    for ax in axes:
        ax.set_xlabel("")
        ax.set_ylabel("")
    if xt:
        body.supxlabel(xt, fontsize=FONT)
    if yt:
        body.supylabel(yt, fontsize=FONT)


def _grid(n: int, rows: int | None, cols: int | None) -> tuple[int, int]:
    if cols:
        return max(1, math.ceil(n / cols)), cols
    if rows:
        return rows, max(1, math.ceil(n / rows))
    if n <= 1:
        return 1, 1
    c = math.ceil(math.sqrt(n))
    return math.ceil(n / c), c


# ---- one panel ---------------------------------------------------------------------------
def _draw_panel(ax, panel: Panel, graph: Graph, sch: dict, titled: bool) -> None:
    ax.set_facecolor(sch["plot_bg"])
    if panel.label:
        ax.set_axis_off()
        ax.text(0.5, 0.5, render_text(panel.label), ha="center", va="center", transform=ax.transAxes,
                fontsize=FONT * 1.1, color=sch["text"])
        ax._hlm_keys = []
        return
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(sch["axis"])
        ax.spines[side].set_linewidth(0.6)
    ax.tick_params(labelsize=FONT * 0.9, colors=sch["axis"], width=0.6, length=3)
    handles = []
    for k, s in enumerate(panel.series):
        h = _draw_series(ax, s, sch, k)
        if isinstance(h, list):             # a pie: one legend key per slice
            handles.extend(h)
        elif s.legend and h is not None:
            handles.append((h, s.label))
    ax._hlm_keys = handles                  # the legend keys, in plot order
    for v in panel.xlines:
        ax.axvline(v, color=sch["axis"], linewidth=0.6, zorder=1)
    for v in panel.ylines:
        ax.axhline(v, color=sch["axis"], linewidth=0.6, zorder=1)
    for t in panel.texts:
        _added_text(ax, t, sch)
    hor = panel.horizontal
    _axis(ax, "x", panel.yaxis if hor else panel.xaxis, sch, grid_default=hor)
    _axis(ax, "y", panel.xaxis if hor else panel.yaxis, sch, grid_default=not hor)
    if panel.xcategories is not None:
        _categories(ax, "y" if hor else "x", panel.xcategories, panel.xaxis.angle)
    aspect = panel.aspect or graph.aspectratio
    if aspect:
        ax.set_box_aspect(aspect)
    if getattr(ax, "_hlm_pie", False):      # a pie has no axes
        ax.set_axis_off()
    if titled and panel.title:
        ax.set_title(render_text(panel.title), fontsize=FONT, color=sch["text"])


# text(..., placement()): where the text sits around its point (n: above it)
_PLACE_ALIGN = {"c": ("center", "center"), "n": ("center", "bottom"), "s": ("center", "top"),
                "e": ("left", "center"), "w": ("right", "center"), "ne": ("left", "bottom"),
                "nw": ("right", "bottom"), "se": ("left", "top"), "sw": ("right", "top")}
_TEXT_SIZES = {"vsmall": 0.7, "small": 0.8, "medsmall": 0.9, "medium": 1.0, "medlarge": 1.1,
               "large": 1.25, "vlarge": 1.5, "huge": 1.8, "tiny": 0.6}


def _added_text(ax, t: dict, sch: dict) -> None:
    """A text() item at its data point, aligned by placement(), turned by orientation()."""
    ha, va = _PLACE_ALIGN.get(t.get("place", "c"), ("center", "center"))
    box = None
    if t.get("box"):
        face = schemes.color(t["fcolor"]) if t.get("fcolor") else (1, 1, 1)
        box = {"boxstyle": "square,pad=0.3", "facecolor": face, "edgecolor": sch["axis"],
               "linewidth": 0.5}
    color = schemes.color(t["color"]) if t.get("color") else sch["text"]
    size = FONT * _TEXT_SIZES.get(t.get("size") or "medium", 1.0)
    ax.text(t["x"], t["y"], render_text(t["text"]), ha=ha, va=va, rotation=t.get("angle", 0),
            color=color, fontsize=size, bbox=box, zorder=5)


def _style_color(s: Series, sch: dict, k: int, key: str = "color"):
    """The color of a series' part (key: lcolor, mcolor, fcolor; else color(), else the
    scheme's color of its pstyle). `%30` (`*.5`) alone is that default color at 30% opacity
    (half intensity)."""
    c = s.style.get(key) or s.style.get("color")
    if c is None:
        return schemes.pcolor(sch, s.style.get("pstyle", k))
    if not isinstance(c, str):
        return tuple(c)
    for own, rgb in (("_histline", schemes.color(sch["hist"])), ("_hist", sch["histfill"])):
        if c.startswith(own):               # the scheme's histogram bars and their outline
            return schemes.color(c[len(own):], default=rgb) if c != own else rgb
    return schemes.color(c, default=schemes.pcolor(sch, s.style.get("pstyle", k)))


def _line_kw(s: Series, sch: dict, k: int) -> dict:
    lp = s.style.get("lpattern")
    if lp is None:
        pats = sch["lpatterns"]
        lp = pats[s.style.get("pstyle", k) % len(pats)]
    return {"color": _style_color(s, sch, k, "lcolor"), "linestyle": schemes.lpattern(lp),
            "linewidth": schemes.lwidth(s.style.get("lwidth", "medium"))}


def _marker_kw(s: Series, sch: dict, k: int) -> dict:
    sym = s.style.get("marker")
    if sym is None:
        syms = sch["symbols"]
        sym = syms[s.style.get("pstyle", k) % len(syms)]
    m, hollow = schemes.marker(sym)
    c = _style_color(s, sch, k, "mcolor")
    size = schemes.msize(s.style.get("msize", "medium"))
    return {"marker": m or "o", "visible": bool(m), "color": c, "hollow": hollow, "size": size}


def _draw_series(ax, s: Series, sch: dict, k: int):
    fn = _DRAW.get(s.kind)
    if fn is None or s.x is None:
        return None
    return fn(ax, s, sch, k)


def _scatter(ax, s, sch, k):
    mk = _marker_kw(s, sch, k)
    ok = ~(np.isnan(s.x) | np.isnan(s.y))
    face = "none" if mk["hollow"] else mk["color"]
    h = ax.scatter(s.x[ok], s.y[ok], s=mk["size"] ** 2, marker=mk["marker"], facecolors=face,
                   edgecolors=mk["color"], linewidths=0.7, zorder=3, visible=mk["visible"])
    labels = s.style.get("mlabels")
    if labels:
        pos = s.style.get("mlabpos", 3)
        pos = np.asarray(pos if isinstance(pos, list) else [pos] * len(s.x))[ok]
        c = mk["color"] if "mlabcolor" not in s.style else schemes.color(
            s.style["mlabcolor"], default=mk["color"])
        for xi, yi, t, p in zip(s.x[ok], s.y[ok], np.asarray(labels, dtype=object)[ok], pos):
            dx, dy, ha, va = clock_offset(int(p))
            ax.annotate(render_text(str(t)), (xi, yi), xytext=(dx, dy), textcoords="offset points",
                        fontsize=FONT * 0.75, color=c, ha=ha, va=va)
    return h


def clock_offset(pos: int, gap: float = 3.0) -> tuple[float, float, str, str]:
    """A marker label's offset (points) and alignment at clock position pos: 12 above, 3 to
    the right (Stata's default), 6 below, 9 to the left, 0 on the marker."""
    if pos == 0:
        return 0.0, 0.0, "center", "center"
    angle = math.radians(90 - 30 * pos)
    dx, dy = math.cos(angle), math.sin(angle)
    ha = "left" if dx > 0.3 else ("right" if dx < -0.3 else "center")
    va = "bottom" if dy > 0.3 else ("top" if dy < -0.3 else "center")
    return gap * dx, gap * dy, ha, va


def _line(ax, s, sch, k):
    kw = _line_kw(s, sch, k)
    (h,) = ax.plot(s.x, s.y, zorder=2, **kw)
    return h


def _connected(ax, s, sch, k):
    kw = _line_kw(s, sch, k)
    mk = _marker_kw(s, sch, k)
    kw["color"] = mk["color"] if "mcolor" in s.style and "lcolor" not in s.style else kw["color"]
    (h,) = ax.plot(s.x, s.y, marker=mk["marker"] if mk["visible"] else "",
                   markersize=mk["size"], markerfacecolor="none" if mk["hollow"] else mk["color"],
                   markeredgecolor=mk["color"], zorder=3, **kw)
    return h


def _area(ax, s, sch, k):
    c = _style_color(s, sch, k, "fcolor")
    h = ax.fill_between(s.x, s.base, s.y, color=c, alpha=s.style.get("alpha"),
                        linewidth=0, zorder=1)
    return h


def _categories(ax, which: str, names: list, angle: float | None = None) -> None:
    """Category names at 1, 2, ...; they read across unless over(, label(angle())) turns
    them (then anchored at their end, under their bar)."""
    axis = ax.yaxis if which == "y" else ax.xaxis
    axis.set_ticks(range(1, len(names) + 1))
    axis.set_ticklabels([render_text(str(c)) for c in names])
    ax.tick_params(axis=which, labelrotation=angle or 0)
    if angle and which == "x":
        for lab in axis.get_ticklabels():
            lab.set_horizontalalignment("right" if angle > 0 else "left")
            lab.set_rotation_mode("anchor")
    if which == "y":
        ax.set_ylim(len(names) + 0.6, 0.4)          # the first category on top, as Stata
    else:
        ax.set_xlim(0.4, len(names) + 0.6)
    ax.tick_params(axis=which, length=0)


def _bar(ax, s, sch, k):
    c = _style_color(s, sch, k, "fcolor")
    width = s.style.get("barwidth")
    if width is None:
        xs = np.unique(s.x[~np.isnan(s.x)])
        width = float(np.min(np.diff(xs))) if len(xs) > 1 else 1.0
    edge = _style_color(s, sch, k, "lcolor")
    if s.style.get("horizontal"):
        h = ax.barh(s.x, s.y - s.base, left=s.base, height=width, color=c, edgecolor=edge,
                    linewidth=0.5, zorder=2, align="center")
    else:
        h = ax.bar(s.x, s.y - s.base, bottom=s.base, width=width, color=c, edgecolor=edge,
                   linewidth=0.5, zorder=2, align="center")
    if s.style.get("blabels"):
        _bar_labels(ax, s, sch)
    return h


def _bar_labels(ax, s, sch) -> None:
    """graph bar's blabel(): a text per bar, above its end (outside), just inside its end
    (inside), at its base or its middle."""
    where = s.style.get("blabel_pos", "outside")
    hor = bool(s.style.get("horizontal"))
    if where == "outside":                   # room for the labels beyond the longest bar
        (ax.set_xmargin if hor else ax.set_ymargin)(0.08)
    for x, y, text in zip(s.x, s.y, s.style["blabels"]):
        if not text or np.isnan(y):
            continue
        at = {"base": s.base, "center": (s.base + y) / 2}.get(where, y)
        sign = 1 if y >= s.base else -1
        shift = {"outside": 3 * sign, "inside": -3 * sign}.get(where, 0)
        xy, off = ((at, x), (shift, 0)) if hor else ((x, at), (0, shift))
        if hor:
            ha = {"outside": "left" if sign > 0 else "right",
                  "inside": "right" if sign > 0 else "left"}.get(where, "center")
            va = "center"
        else:
            ha = "center"
            va = {"outside": "bottom" if sign > 0 else "top",
                  "inside": "top" if sign > 0 else "bottom"}.get(where, "center")
        ax.annotate(render_text(str(text)), xy, xytext=off, textcoords="offset points", ha=ha, va=va,
                    fontsize=FONT * 0.8, color=sch["text"], zorder=4)


def _rspike(ax, s, sch, k):
    """Ranges y..y2 at x; style horizontal: the range runs along the x axis at height x
    (twoway rspike's horizontal option; coefplot's default confidence spikes)."""
    kw = _line_kw(s, sch, k)
    draw = ax.hlines if s.style.get("horizontal") else ax.vlines
    return draw(s.x, s.y, s.y2, colors=[kw["color"]], linestyles=kw["linestyle"],
                linewidths=kw["linewidth"], zorder=2)


def _rcap(ax, s, sch, k):
    h = _rspike(ax, s, sch, k)
    kw = _line_kw(s, sch, k)
    xs = s.x[~np.isnan(s.x)]
    half = (float(np.min(np.diff(np.unique(xs)))) if len(np.unique(xs)) > 1 else 1.0) * 0.15
    caps = ax.vlines if s.style.get("horizontal") else ax.hlines
    caps(np.concatenate([s.y, s.y2]), np.concatenate([s.x, s.x]) - half,
         np.concatenate([s.x, s.x]) + half, colors=[kw["color"]],
         linewidths=kw["linewidth"], zorder=2)
    return h


def _rarea(ax, s, sch, k):
    c = _style_color(s, sch, k, "fcolor")
    fill = ax.fill_betweenx if s.style.get("horizontal") else ax.fill_between
    return fill(s.x, s.y, s.y2, color=c, alpha=s.style.get("alpha"), linewidth=0, zorder=1)


def _rconnected(ax, s, sch, k):
    h = _connected(ax, Series("connected", s.x, s.y, style=s.style), sch, k)
    _connected(ax, Series("connected", s.x, s.y2, style=s.style), sch, k)
    return h


def _box(ax, s, sch, k):
    c = _style_color(s, sch, k, "fcolor")
    stats = [{"med": b["med"], "q1": b["q1"], "q3": b["q3"], "whislo": b["lo"],
              "whishi": b["hi"], "fliers": b.get("out", []), "label": b.get("label", "")}
             for b in s.boxes]
    pos = [b["pos"] for b in s.boxes]
    art = ax.bxp(stats, positions=pos, widths=s.style.get("barwidth", 0.5), patch_artist=True,
                 showfliers=True, manage_ticks=False,
                 orientation="horizontal" if s.style.get("horizontal") else "vertical",
                 boxprops={"facecolor": c, "edgecolor": c}, medianprops={"color": "white"},
                 whiskerprops={"color": c}, capprops={"color": c},
                 flierprops={"marker": "o", "markeredgecolor": c, "markerfacecolor": "none",
                             "markersize": 4})
    return art["boxes"][0] if art["boxes"] else None


def _pie(ax, s, sch, k):
    """graph pie: wedges from angle0 (90: 12 o'clock), clockwise unless noclockwise, the
    scheme's colors in order (pie(#, color()) overrides), white edges, plabel() texts at 60%
    of the radius; returns the legend keys, one per slice."""
    st = s.style
    vals = np.nan_to_num(s.y)
    n = len(vals)
    colors = [schemes.color(c, default=schemes.pcolor(sch, j)) if c else schemes.pcolor(sch, j)
              for j, c in enumerate(st.get("colors") or [None] * n)]
    wedges, _ = ax.pie(vals, startangle=st.get("angle0", 90), counterclock=not st.get("clockwise", True),
                       colors=colors, explode=st.get("explode") or None,
                       wedgeprops={"edgecolor": "white", "linewidth": 0.8})
    for wdg, text in zip(wedges, st.get("plabels") or []):
        if text:
            mid = np.deg2rad((wdg.theta1 + wdg.theta2) / 2)
            r = 0.6 * wdg.r
            ax.text(wdg.center[0] + r * np.cos(mid), wdg.center[1] + r * np.sin(mid), render_text(text),
                    ha="center", va="center", fontsize=FONT * 0.9, color=sch["text"])
    ax.set_aspect("equal")
    ax._hlm_pie = True
    return list(zip(wedges, st.get("slices") or [""] * n))


_DRAW = {"scatter": _scatter, "line": _line, "connected": _connected, "area": _area,
         "bar": _bar, "rspike": _rspike, "rcap": _rcap, "rarea": _rarea,
         "rconnected": _rconnected, "box": _box, "pie": _pie}


# ---- axes -------------------------------------------------------------------------------------
def stata_number(v: float, fmt: str | None = None) -> str:
    """An axis label as Stata's %9.0g shows it: no trailing zeros, no leading 0 (.5, -.25)."""
    if fmt:
        m = re.fullmatch(r"%-?\d*\.(\d+)[fg]c?", fmt.strip())
        if m and fmt.rstrip("c").endswith("f"):
            return f"{v:.{int(m.group(1))}f}"
    if v == 0:
        return "0"
    t = f"{v:.8g}"
    if "e" not in t:
        t = t.rstrip("0").rstrip(".") if "." in t else t
        t = re.sub(r"^(-?)0\.", r"\1.", t)
    return t


def _axis(ax, which: str, axis: Axis, sch: dict, grid_default: bool = False) -> None:
    setlabel = ax.set_xlabel if which == "x" else ax.set_ylabel
    if axis.title:
        setlabel(render_text(axis.title), fontsize=FONT, color=sch["text"])
    if axis.log:
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    _limits(ax, which, axis)
    _ticks(ax, which, axis, sch.get("ylabel_angle", 0) if which == "y" else 0)
    grid = axis.grid if axis.grid is not None else grid_default
    if grid:
        ax.grid(True, axis=which, color=sch["grid"] if sch["grid"] != sch["plot_bg"]
                else (0.85, 0.85, 0.85), linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    if axis.reverse:
        (ax.invert_xaxis if which == "x" else ax.invert_yaxis)()
    if axis.off:
        ax.spines["bottom" if which == "x" else "left"].set_visible(False)
        (ax.set_xticks if which == "x" else ax.set_yticks)([])


def _limits(ax, which: str, axis: Axis) -> None:
    want = [v for v in (axis.range or []) + (axis.ticks or []) if v is not None]
    if not want:
        return
    lo, hi = (ax.get_xlim() if which == "x" else ax.get_ylim())
    lo, hi = min([lo] + want), max([hi] + want)
    if axis.ticks:
        lo, hi = min([lo] + axis.ticks), max([hi] + axis.ticks)
    (ax.set_xlim if which == "x" else ax.set_ylim)(lo, hi)


def _ticks(ax, which: str, axis: Axis, default: float = 0) -> None:
    """Tick positions and labels; `default` is the scheme's label angle (Stata 17's s2color
    and s1mono write the y labels vertically, stcolor horizontally), angle() overrides it."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ticks_axis = ax.xaxis if which == "x" else ax.yaxis
    if axis.ticks is not None:
        ticks_axis.set_ticks(axis.ticks)
        if axis.ticklabels:
            ticks_axis.set_ticklabels([render_text(str(t)) for t in axis.ticklabels])
        else:
            ticks_axis.set_ticklabels([stata_number(v, axis.fmt) for v in axis.ticks])
    elif not axis.log:
        ticks_axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
        ticks_axis.set_major_formatter(FuncFormatter(lambda v, _p: stata_number(v, axis.fmt)))
    angle = axis.angle if axis.angle is not None else default
    ax.tick_params(axis=which, labelrotation=angle)
    if not axis.labels:
        ax.tick_params(axis=which, labelleft=False, labelbottom=False)
    if not axis.tickmarks:
        ax.tick_params(axis=which, length=0)
    if axis.labsize:
        ax.tick_params(axis=which, labelsize=text_size(axis.labsize))


def text_size(style: str) -> float:
    """Points for a Stata textsizestyle: a name (small, vsmall, ...), `*#` (a multiple of the
    default) or a number (here: a multiple of the default, as Stata's relative size)."""
    t = style.strip().lower()
    if t in _TEXT_SIZES:
        return FONT * _TEXT_SIZES[t]
    try:
        return FONT * float(t.lstrip("*"))
    except ValueError:
        return FONT
    if which == "y" and angle == 90:
        for lab in ticks_axis.get_ticklabels():
            lab.set_verticalalignment("center")


# ---- text and legend -----------------------------------------------------------------------
def _titles(fig, graph: Graph, sch: dict) -> None:
    head = graph.title
    if graph.subtitle:
        head = (head + "\n" if head else "") + graph.subtitle
    if head:
        fig.suptitle(render_text(head), fontsize=FONT * 1.35, color=sch["text"])


def legend_entries(graph: Graph, keys: list) -> list:
    """(handle, text) in the legend's order: order() picks and orders keys (numbers from 1, a
    number followed by text relabels it), label(# text) relabels."""
    lg = graph.legend
    out = []
    order = lg.order if lg.order else list(range(1, len(keys) + 1))
    for item in order:
        num, text = (item if isinstance(item, (list, tuple)) else (item, None))
        if num == "-":                      # order(- "text"): text without a key
            from matplotlib.patches import Rectangle
            out.append((Rectangle((0, 0), 0, 0, visible=False), text or ""))
            continue
        if not 1 <= int(num) <= len(keys):
            continue
        h, label = keys[int(num) - 1]
        text = text if text is not None else lg.labels.get(int(num), label)
        out.append((h, text))
    return out


def _legend(fig, axes, graph: Graph, sch: dict, loc: str | None = None) -> None:
    lg = graph.legend
    keys = axes[0]._hlm_keys if axes else []
    entries = legend_entries(graph, keys)
    show = lg.show if lg.show is not None else len(keys) >= 2
    if not show or not entries:
        return
    handles, texts = zip(*entries)
    texts = [render_text(t) for t in texts]
    n = len(entries)
    cols = lg.cols or (math.ceil(n / lg.rows) if lg.rows else min(n, 2))
    kw = {"ncols": max(1, cols), "fontsize": FONT * 0.85, "frameon": True,
          "facecolor": (1, 1, 1), "edgecolor": sch["axis"], "fancybox": False,
          "title": render_text(lg.title) or None}
    if lg.ring == 0 and len(axes) == 1:
        leg = axes[0].legend(handles, texts, loc=_INSIDE.get(lg.position, "best"), **kw)
    else:
        leg = fig.legend(handles, texts,
                         loc=loc or _OUTSIDE.get(lg.position, "outside lower center"), **kw)
    leg.get_frame().set_linewidth(0.5)
