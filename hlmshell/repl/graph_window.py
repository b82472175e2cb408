"""Where a graph appears in the interactive shell: the show hook of the session's GraphStore.

With a display (X11/Wayland, macOS, Windows) the graph is written to a temporary PNG and
opened in the system's image viewer (a window, without blocking the prompt); without one, the
PNG is written and its path printed: `(graph written to /tmp/...png)`. Batch runs install no
hook, so nothing is shown there; a notebook kernel installs its own hook (for instance
`session.graphs.show = lambda graph, name: display(Image(png_bytes(graph)))`, with
hlmshell.graphics.store.png_bytes)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

from hlmshell.graphics.store import GraphStore, export


def has_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _viewer() -> list[str] | None:
    if sys.platform == "darwin":
        return ["open"]
    if sys.platform.startswith("linux") and shutil.which("xdg-open"):
        return ["xdg-open"]
    return None


def show_in_window(out):
    """A show hook writing to `out` (the session's Output)."""
    def show(graph, name: str) -> None:
        fd, path = tempfile.mkstemp(prefix=f"hlmshell_{name}_", suffix=".png")
        os.close(fd)
        try:
            export(graph, path, "png")
        except Exception as exc:  # noqa: BLE001 -- a viewer problem must not end the command
            out.line(f"(graph could not be drawn: {exc})")
            return
        if has_display() and _open(path):
            return
        out.line(f"(graph written to {path})")

    return show


def _open(path: str) -> bool:
    if sys.platform == "win32":
        try:
            os.startfile(path)          # type: ignore[attr-defined]
            return True
        except OSError:
            return False
    viewer = _viewer()
    if viewer is None:
        return False
    try:
        subprocess.Popen(viewer + [path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
        return True
    except OSError:
        return False


def install_graph_window(session) -> None:
    """Give the session a graph store whose graphs are shown (called by run_repl)."""
    if session.graphs is None:
        session.graphs = GraphStore()
    session.graphs.show = show_in_window(session.out)
