"""The graphs of one session, and the files they are written to.

GraphStore keeps the graphs in memory by name ("Graph" is the current, unnamed one; others
come from name(x)), remembers which one is current, and calls `show` (a hook: None in batch
runs, a window or a temporary PNG in the REPL, an inline image in a notebook) when a command
draws one. export() and save() write atomically (a temporary file in the target's folder, then
os.replace), so a failure never leaves half a file.
"""
from __future__ import annotations

import io
import json
import os
import re
import tempfile
from typing import Callable

from hlmshell.errors import StataError
from hlmshell.graphics.model import Graph

EXPORT_FORMATS = {"png": "png", "svg": "svg", "pdf": "pdf", "eps": "eps", "ps": "ps",
                  "jpg": "jpg", "jpeg": "jpg", "tif": "tif", "tiff": "tif", "emf": "emf", "wmf": "wmf"}
FORMAT_NAMES = {"png": "PNG", "svg": "SVG", "pdf": "PDF", "eps": "EPS", "ps": "PS",
                "jpg": "JPEG", "tif": "TIFF", "emf": "Enhanced Metafile", "wmf": "Windows Metafile"}
ShowHook = Callable[[Graph, str], None]


class GraphStore:
    def __init__(self, show: ShowHook | None = None):
        self.graphs: dict[str, Graph] = {}
        self.current: str | None = None
        self.show: ShowHook | None = show

    # ---- memory -------------------------------------------------------------------------
    def check_name(self, name: str, replace: bool) -> None:
        """r(110) when `name` is taken and replace was not given (the current, unnamed Graph
        is always replaced)."""
        if name in self.graphs and not replace and name != "Graph":
            raise StataError(f"graph {name} already exists", 110)

    def add(self, graph: Graph, name: str = "Graph", *, draw: bool = True) -> None:
        self.graphs[name] = graph
        self.current = name
        if draw and self.show is not None:
            self.show(graph, name)

    def get(self, name: str | None = None) -> tuple[str, Graph]:
        if name is None:
            if self.current is None or self.current not in self.graphs:
                raise StataError("no graphs in memory", 111) if not self.graphs \
                    else StataError("graph Graph not found", 111)
            name = self.current
        if name not in self.graphs:
            raise StataError(f"graph {name} not found", 111)
        return name, self.graphs[name]

    def drop(self, names: list[str]) -> None:
        for n in names:
            if n not in self.graphs:
                raise StataError(f"graph {n} not found", 111)
        for n in names:
            del self.graphs[n]
            if self.current == n:
                self.current = None

    def drop_all(self) -> None:
        self.graphs.clear()
        self.current = None


# ---- files ------------------------------------------------------------------------------------
def export_format(path: str, as_: str | None = None) -> str:
    fmt = (as_ or os.path.splitext(path)[1].lstrip(".")).strip().lower()
    if not fmt:
        raise StataError("you must specify a file suffix or the as() option", 198)
    if fmt not in EXPORT_FORMATS:
        raise StataError(f"{fmt} is not a valid graph export format", 198)
    return EXPORT_FORMATS[fmt]


def check_new_file(path: str, replace: bool) -> None:
    if os.path.exists(path) and not replace:
        raise StataError(f"file {path} already exists", 602)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise StataError(f"file {path} could not be opened", 603)


def write_atomic(path: str, write: Callable, binary: bool = True) -> None:
    """write(fileobj) into a temporary file next to `path`, then rename it onto `path`."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".hlmgraph", dir=folder)
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError:
        _unlink(tmp)
        raise StataError(f"file {path} could not be opened", 603) from None
    except BaseException:
        _unlink(tmp)
        raise


def _unlink(p: str) -> None:
    try:
        os.unlink(p)
    except OSError:
        pass


def svg_pixel_size(svg: bytes, width: int, height: int) -> bytes:
    """An SVG whose width/height are the pixels asked for with width()/height() (Stata's
    svg export); its viewBox is kept, so the drawing scales to that size."""
    head, sep, rest = svg.partition(b"<svg ")
    tag, close, tail = rest.partition(b">")
    tag = re.sub(rb'\bwidth="[^"]*"', f'width="{width}px"'.encode(), tag, count=1)
    tag = re.sub(rb'\bheight="[^"]*"', f'height="{height}px"'.encode(), tag, count=1)
    return head + sep + tag + close + tail


def export(graph: Graph, path: str, fmt: str, width=None, height=None, quality=None) -> None:
    """Write the graph as an image file (png/svg/pdf/eps/jpg/tif; emf/wmf hold the drawn bitmap,
    see graphics.metafile)."""
    from hlmshell.graphics.render import draw

    mpl_fmt = {"jpg": "jpeg", "tif": "tiff"}.get(fmt, fmt)

    def write(f):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fig = draw(graph, width, height)
            if fmt in ("emf", "wmf"):
                from hlmshell.graphics import metafile
                rgb = metafile.figure_rgb(fig)
                f.write((metafile.emf_bytes if fmt == "emf" else metafile.wmf_bytes)(rgb, fig.dpi))
            elif fmt == "svg" and (width or height):
                buf = io.BytesIO()
                fig.savefig(buf, format="svg", dpi=fig.dpi, facecolor=fig.get_facecolor())
                w, h = (round(v * fig.dpi) for v in fig.get_size_inches())
                f.write(svg_pixel_size(buf.getvalue(), w, h))
            else:
                extra = {"pil_kwargs": {"quality": quality}} if quality is not None else {}
                fig.savefig(f, format=mpl_fmt, dpi=fig.dpi, facecolor=fig.get_facecolor(), **extra)

    try:
        write_atomic(path, write)
    except (ValueError, OverflowError, RuntimeError, TypeError, ZeroDivisionError) as exc:
        raise StataError(f"graph could not be drawn ({exc})", 498) from None


def png_bytes(graph: Graph, width=None, height=None) -> bytes:
    """The graph as PNG bytes (for a notebook's inline display)."""
    import io
    import warnings
    from hlmshell.graphics.render import draw

    fig = draw(graph, width, height)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.savefig(buf, format="png", dpi=fig.dpi, facecolor=fig.get_facecolor())
    return buf.getvalue()


def save(graph: Graph, path: str) -> None:
    """hlmshell's .gph: the graph description as JSON (never pickle)."""
    text = json.dumps(graph.to_dict(), allow_nan=False)
    write_atomic(path, lambda f: f.write(text), binary=False)


def load(path: str) -> Graph:
    if not os.path.isfile(path):
        raise StataError(f"file {path} not found", 601)
    try:
        with open(path, encoding="utf-8") as f:
            return Graph.from_dict(json.load(f))
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError):
        raise StataError(f"file {path} not a graph file (hlmshell .gph)", 610) from None
