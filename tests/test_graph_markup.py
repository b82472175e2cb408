"""Stata's text markup in graph text -- {&beta}, {&larr}, {sup:2}, {sub:ij}, {it:}, {bf:} --
drawn as symbols and mathtext; a plain $ stays a dollar sign (08_oecd: ytitle("{&beta}{sup:^}
RTI Score"); 45_grogan: "{&larr} variation in x {&rarr}")."""
from __future__ import annotations

import pytest
from test_graph_helpers import G, legend_texts

from hlmshell.graphics.markup import render_text


@pytest.mark.parametrize("typed,drawn", [
    ("{&beta}{sup:^} RTI Score", "\u03b2$^{\\mathregular{\u02c6}}$ RTI Score"),
    ("R{sup:2}", "R$^{\\mathregular{2}}$"),
    ("y{sub:ij}", "y$_{\\mathregular{ij}}$"),
    ("{&larr} x {&rarr}", "\u2190 x \u2192"),
    ("{&sigma}{sup:2}{sub:u}", "\u03c3$^{\\mathregular{2}}$$_{\\mathregular{u}}$"),
    ("{&Sigma} {&omega} {&Omega} {&le} {&plusmn}", "\u03a3 \u03c9 \u03a9 \u2264 \u00b1"),
    ("x{sup:{&alpha} b}", "x$^{\\mathregular{\u03b1\\ b}}$"),
    ("cost in $5 and $6", "cost in \\$5 and \\$6"),
    ("{&nosuch} {xx:y}", "{&nosuch} {xx:y}"),
    ("{it:x}", "$\\mathit{x}$"), ("{bf:N}", "$\\mathbf{N}$"),
    ("plain text", "plain text"),
])
def test_render_text(typed, drawn):
    assert render_text(typed) == drawn


def test_drawn_titles_and_legend():
    g = G()
    g.ok('twoway (scatter mathach ses in 1/20) (lfit mathach ses), '
         'ytitle("{&beta}{sup:^} RTI Score") xtitle("{&larr} SES {&rarr}") '
         'title("R{sup:2} in $") legend(order(1 "{&mu}" 2 "fit"))')
    fig = g.fig()
    ax = fig.axes[0]
    assert ax.get_ylabel().startswith("\u03b2$^")
    assert ax.get_xlabel() == "\u2190 SES \u2192"
    assert fig._suptitle.get_text() == "R$^{\\mathregular{2}}$ in \\$"
    assert legend_texts(fig) == ["\u03bc", "fit"]
    fig.canvas.draw()                       # mathtext parses: no error
    # the graph keeps the text as typed (graph save writes it so)
    assert g.graph().panels[0].yaxis.title == "{&beta}{sup:^} RTI Score"


def test_added_text_option():
    """text(y x "text", placement() orientation() box fcolor()) as 45_grogan writes it,
    repeated text() options all drawn, each at its data point."""
    g = G()
    g.ok('twoway function y = 1 + 2*x, text(1 .01 "variation in intercept", '
         'orientation(vertical) placement(north) box margin(l+1 t+1 b+1 r+1) fcolor(gs15)) '
         'text(2.5 .4 "variation in slope" .5 .5 "{&larr} x {&rarr}", box fcolor(gs15)) '
         'legend(off)')
    ax = g.fig().axes[0]
    got = {t.get_text(): t for t in ax.texts}
    assert set(got) == {"variation in intercept", "variation in slope", "\u2190 x \u2192"}
    v = got["variation in intercept"]
    assert v.get_position() == (0.01, 1) and v.get_rotation() == 90
    assert (v.get_ha(), v.get_va()) == ("center", "bottom")
    assert v.get_bbox_patch() is not None
    assert got["variation in slope"].get_position() == (0.4, 2.5)
    assert got["\u2190 x \u2192"].get_position() == (0.5, 0.5)
    assert len(g.graph().panels[0].texts) == 3
    for bad in ('text(1 "a")', 'text(1 2)', 'text(1 2 "a", placement(up))',
                'text(a 2 "x")', 'text(1 2 "a", orientation(diagonal))'):
        g.fails(f"twoway function y = x, {bad}", 198)
