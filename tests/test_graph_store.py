"""The graph store and files (issue 14): graph export (PNG size in pixels, SVG and PDF valid,
replace, atomic), graph save/use (JSON, never pickle), display/dir/drop/rename/copy, the REPL's
show hook, and that a do-file without exports never imports matplotlib."""
from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from hlmshell.graphics.model import Graph
from test_graph_helpers import G, scatter_points


@pytest.fixture()
def g(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return G()


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def test_export_png_size_and_formats(g, tmp_path):
    g.ok("scatter mathach ses || lfit mathach ses, title(T)")
    out = g.ok("graph export a.png, width(640)")
    assert out.strip().endswith("file a.png saved as PNG format")
    assert png_size("a.png") == (640, round(640 * 4 / 5.5))
    g.ok("graph export b.png, width(500) height(500)")
    assert png_size("b.png") == (500, 500)
    g.ok("graph export c.png, height(300)")
    assert png_size("c.png")[1] == 300
    g.fails("graph export a.png", 602, "file a.png already exists")
    g.ok("graph export a.png, replace width(100)")
    assert png_size("a.png")[0] == 100
    g.ok("graph export d.svg")
    root = ET.parse("d.svg").getroot()
    assert root.tag.endswith("svg")
    texts = "".join(root.itertext())
    assert "T" in texts or "<!--" in open("d.svg").read()
    g.ok("graph export w.svg, width(800)")                # pixels asked for, as Stata
    root = ET.parse("w.svg").getroot()
    assert (root.get("width"), root.get("height")) == ("800px", f"{round(800 * 4 / 5.5)}px")
    assert root.get("viewBox")                              # the drawing scales to it
    g.ok("graph export e.pdf")
    pdf = open("e.pdf", "rb").read()
    assert pdf[:5] == b"%PDF-" and pdf.rstrip().endswith(b"%%EOF")
    box = [float(v) for v in re.search(rb"MediaBox\s*\[([^\]]*)\]", pdf).group(1).split()]
    assert np.allclose(box[2:], [5.5 * 72, 4 * 72], atol=0.5)   # the graph's 5.5 x 4 inches
    g.ok("graph export f, as(svg)")
    assert os.path.exists("f.svg")
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".hlmgraph")]     # atomic
    g.fails("graph export g.xyz", 198)
    g.fails("graph export h.png, width(0)", 198)
    g.fails("graph export h.png, name(nosuch)", 111, "graph nosuch not found")
    g.fails("graph export h.png, bogus", 198, "option bogus not allowed")
    g.fails("graph export nodir/h.png", 603)
    assert not os.path.exists("h.png")


def test_export_named_graph_quoted(g):
    """name("g1") in quotes, as real do-files write it, finds graph g1."""
    g.ok("scatter mathach ses in 1/30, name(g1, replace)")
    g.ok("scatter mathach ses in 1/10, name(g2, replace)")
    g.ok('graph export "one.png", as(png) name("g1") width(300) replace')
    assert png_size("one.png")[0] == 300
    g.fails('graph export "one.png", name("g9") replace', 111, "graph g9 not found")


def test_export_without_graph():
    g = G()
    g.fails("graph export a.png", 111)


def test_svg_holds_the_points(g):
    g.ok("scatter mathach ses in 1/7, msymbol(S)")
    g.ok("graph export p.svg")
    svg = open("p.svg").read()
    assert svg.count("<use ") >= 7          # one marker per point


def test_save_use_roundtrip_is_json(g):
    g.ok("twoway (scatter mathach ses in 1/40) (lfit mathach ses), title(Saved) name(k)")
    out = g.ok("graph save k mine")
    assert "mine.gph" in out
    with open("mine.gph", encoding="utf-8") as f:
        d = json.load(f)                       # JSON, not pickle
    assert d["hlmshell_graph"] == 1
    g.fails("graph save k mine", 602)
    g.ok("graph drop _all")
    g.ok("graph use mine")
    back = g.graph()
    # Stata names a graph read by graph use after its file (path and .gph left out)
    assert back.title == "Saved" and g.s.graphs.current == "mine"
    out = g.ok("graph dir")
    assert out.split() == ["mine", "mine.gph"]           # memory, then .gph files on disk
    assert g.ok("graph dir, memory").split() == ["mine"]
    assert g.ok("graph dir, gph").split() == ["mine.gph"]
    assert g.ok("graph dir z*").split() == []
    g.ok("graph use mine, name(again)")
    assert g.s.graphs.current == "again"
    g.fails("graph use mine", 110)                       # mine exists: name(, replace) needed
    g.ok("graph use mine, name(mine, replace)")
    detail = g.ok("graph dir a*, memory detail")
    assert "again" in detail and "twoway (scatter mathach ses in 1/40)" in detail
    pts = scatter_points(g.fig().axes[0])[0]
    assert len(pts) == 40 and np.allclose(pts[:, 0], g.col("ses")[:40])
    g.ok("scatter mathach ses in 1/5, saving(other)")
    assert Graph.from_dict(json.load(open("other.gph"))).panels[0].series[0].x.shape == (5,)
    g.fails("scatter mathach ses in 1/5, saving(other)", 602)
    with open("bad.gph", "wb") as f:
        f.write(b"\x80\x04pickle")
    g.fails("graph use bad", 610)
    g.fails("graph use nosuchfile", 601)


def test_memory_commands(g):
    g.ok("scatter mathach ses in 1/5, name(a)")
    g.ok("graph copy a b")
    g.ok("graph rename b c")
    assert set(g.s.graphs.graphs) == {"a", "c"}
    g.fails("graph rename a c", 110)
    g.ok("graph close _all")
    assert "command:" in g.ok("graph describe a")
    g.ok("graph display c, scheme(s1mono)")
    assert g.graph("c").scheme == "s1mono"
    g.ok("graph drop a c")
    assert g.s.graphs.graphs == {}
    g.fails("graph nosuchsub", 198)
    g.fails("graph display", 111)


def test_repl_hook_writes_png_without_display(monkeypatch, tmp_path):
    from hlmshell.repl import graph_window

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(graph_window.sys, "platform", "linux")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    g = G()
    graph_window.install_graph_window(g.s)
    out = g.ok("scatter mathach ses in 1/10")
    line = [ln for ln in out.splitlines() if ln.startswith("(graph written to ")]
    assert len(line) == 1
    path = line[0][len("(graph written to "):-1]
    assert png_size(path)[0] > 0
    out = g.ok("scatter mathach ses in 1/10, nodraw")
    assert "graph written" not in out


def test_hook_receives_graphs():
    g = G()
    shown = []
    g.ok("scatter mathach ses in 1/3")
    g.s.graphs.show = lambda graph, name: shown.append((name, len(graph.panels)))
    g.ok("scatter mathach ses in 1/3, name(x)")
    g.ok("graph display Graph")
    assert shown == [("x", 1), ("Graph", 1)]


_PROBE = """
import json, sys
from hlmshell.cli import main
rc = main(sys.argv[1:])
json.dump({"rc": rc, "mpl": "matplotlib" in sys.modules}, open(sys.argv[0] + ".json", "w"))
"""


@pytest.mark.parametrize("text,mpl", [
    ("display 1\n", False),
    ("use hsb\nscatter mathach ses || lfit mathach ses\nhistogram ses\n", False),
    ("use hsb\nscatter mathach ses in 1/10\ngraph export x.png\n", True),
])
def test_matplotlib_only_when_drawing(tmp_path, text, mpl):
    (tmp_path / "t.do").write_text(text)
    probe = tmp_path / "probe.py"
    probe.write_text(_PROBE)
    proc = subprocess.run([sys.executable, str(probe), "t.do"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0 and proc.stderr == "", proc.stdout + proc.stderr
    info = json.loads((tmp_path / "probe.py.json").read_text())
    assert info == {"rc": 0, "mpl": mpl}, proc.stdout


_PTY_REPL = '''
import sys
from hlmshell.session import Session
from hlmshell.interpreter import Interpreter
from hlmshell.repl.app import run_repl

s = Session()
sys.exit(run_repl(s, Interpreter(s)))
'''


def test_repl_in_a_terminal_without_display_writes_a_png(tmp_path):
    """The real interactive shell, through a pseudo-terminal, with no DISPLAY: a graph
    command prints `(graph written to ...png)` and that file is the graph; nodraw writes
    nothing; the prompt comes back."""
    import os
    import sys
    from pathlib import Path

    pexpect = pytest.importorskip("pexpect")
    root = Path(__file__).resolve().parents[1]
    script = tmp_path / "repl.py"
    script.write_text(_PTY_REPL)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(PYTHONPATH=str(root), HLMSHELL_HISTORY=str(tmp_path / "h"), TERM="xterm",
               PROMPT_TOOLKIT_NO_CPR="1", TMPDIR=str(tmpdir))
    child = pexpect.spawn(sys.executable, [str(script)], env=env, encoding="utf-8",
                          timeout=60, dimensions=(24, 200))
    try:
        child.expect("Type exit to quit")
        child.send("use hsb\r")
        child.send("scatter mathach ses in 1/50, name(first)\r")
        child.expect(r"\(graph written to (\S+\.png)\)")
        path = Path(child.match.group(1))
        child.send("scatter mathach ses in 1/50, nodraw name(second)\r")
        child.send("display 6*7\r")
        child.expect("42")
        child.send("exit, clear\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert path.parent == tmpdir and path.name.startswith("hlmshell_first_")
    assert png_size(str(path))[0] > 0
    assert [p.name for p in tmpdir.iterdir()] == [path.name]     # nodraw showed nothing


def test_notebook_hook_gets_png_bytes_without_files(tmp_path, monkeypatch):
    """Drawing is apart from showing: a kernel's hook turns each graph into PNG bytes
    (store.png_bytes) and nothing is written to disk."""
    from hlmshell.graphics.store import GraphStore, png_bytes

    monkeypatch.chdir(tmp_path)
    g = G()
    g.s.graphs = g.s.graphs or GraphStore()          # what a kernel does at start
    images = []
    g.s.graphs.show = lambda graph, name: images.append((name, png_bytes(graph, width=320)))
    g.ok("scatter mathach ses in 1/30, name(nb)")
    g.ok("histogram mathach")
    assert [n for n, _ in images] == ["nb", "Graph"]
    for _, data in images:
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24])[0] == 320
    assert list(tmp_path.iterdir()) == []
