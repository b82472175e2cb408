"""Graphs (issue 14): a description of what is drawn, kept apart from where it is shown.

Modules (this package imports only numpy, hlmshell.errors and -- inside functions, when a
graph is actually drawn -- matplotlib with the Agg canvas; a do-file that never exports a
graph never imports matplotlib):

    model    Graph > Panel (one per by() group) > Series (scatter, line, connected, area, bar,
             rcap, rspike, rarea, rconnected, box); Axis, Legend. Plain data; to_dict() /
             Graph.from_dict() are the JSON of hlmshell's .gph files (graph save / graph use).
    render   draw(graph, width=None, height=None) -> matplotlib Figure in Stata's look
             (s2color / s1mono / stcolor); the only module that touches matplotlib.
    store    GraphStore (session.graphs: graphs by name, the current one, the `show` hook),
             export(graph, path, fmt, width, height), save(), load(), png_bytes(); files are
             written atomically (temporary file + os.replace).
    schemes  Stata's colors, marker symbols, sizes, line patterns and the three schemes.
    stats    lfit/qfit (+ CI), Stata's lowess, kernel densities, histogram bins.

Commands live in hlmshell/commands/graph_*.py: graph_common (graph options, the store,
finishing), graph_twoway (twoway/scatter/line and every plot type), graph_stat (histogram,
kdensity, qnorm, pnorm, rvfplot, xtline, graph box/bar/matrix/combine), graph_cmd (`graph`).

Where a graph appears: GraphStore.show(graph, name) is called when a command draws one (not
with nodraw). Batch runs leave it None (nothing shown; exports and saving() write files); the
REPL installs hlmshell.repl.graph_window (a viewer window, or a temporary PNG and
`(graph written to ...)`); a notebook kernel can install its own, e.g.
`session.graphs.show = lambda g, name: display(Image(store.png_bytes(g)))`.

How a command builds and shows a twoway-like graph (the recipe for marginsplot):

    from hlmshell.commands import graph_common as gc
    from hlmshell.graphics.model import Graph, Panel, Series
    from hlmshell.syntax.parser import parse_options

    OWN = {"noci": ("noci", False), "recast": ("recast", True)}   # name: (min abbrev, takes arg)

    def marginsplot(session, cmd):                     # registered with raw=True
        own, gopts = gc.split_options(parse_options(options_text), OWN)
        #   own: this command's options; gopts: title() subtitle() note() xtitle() ytitle()
        #   xlabel() ylabel() xscale() yscale() legend() by() scheme() name() saving() nodraw
        #   aspectratio() xline() yline() ...; any other option is r(198)
        gc.check_finish(session, gopts)                # name()/saving() errors before any work
        panel = Panel(series=[
            Series("rcap", x, lo, hi, label="95% CI", style={"pstyle": 0}),
            Series("connected", x, margin, label="Margins", style={"pstyle": 0})])
        #   style keys: pstyle (scheme color number, 0-based), color, mcolor, lcolor, fcolor,
        #   marker (Stata symbol: O D T S Oh ...), msize, lpattern, lwidth, barwidth, mlabels
        #   x/y NaN break a line; Series(legend=False) has no legend key
        graph = Graph(kind="marginsplot", panels=[panel],
                      title="Predictive margins with 95% CIs")
        graph.legend.show = False                      # None: shown when >= 2 keys
        gc.apply_text(graph, gopts)                    # titles, legend(), scheme(), aspect...
        gc.apply_axes(graph, gopts, ("x title", None), ("Linear prediction", None))
        #   (default axis title, Variable or None for valuelabel); xlabel/xscale/xline applied
        gc.finish(session, graph, gopts, cmd.text)     # store as Graph or name(), write
                                                       # saving(), call the show hook

One panel per group: graph_twoway.by_panels(session, gc.by_rule(gopts["by"], expand),
build(mask, title)). Categorical x axes: Panel.xcategories = ["a", "b"] labels x = 1, 2, ....
To add user plots (addplot()), graph_twoway.read_twoway(session, text) gives Plots and
graph_twoway.plot_series(session, plot, k, None) their Series.
"""
