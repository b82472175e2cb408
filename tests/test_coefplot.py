"""coefplot (SSC coefplot, built in): the plotted points, interval ends, labels, positions and
order checked against estimates computed here with numpy (OLS by least squares, its
covariance s^2 (X'X)^-1, t or normal quantiles from scipy), and against e(b)/e(V) for
`mixed`, whose fit other tests check; images only as smoke tests."""
import numpy as np
import pytest
from scipy.stats import norm
from scipy.stats import t as tdist
from test_graph_helpers import G, legend_texts, scatter_points


def ols(y, cols):
    """b, se and residual df of y on the columns and a constant."""
    X = np.column_stack(cols + [np.ones(len(y))])
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    df = len(y) - X.shape[1]
    s2 = float(np.sum((y - X @ b) ** 2)) / df
    se = np.sqrt(np.diag(s2 * np.linalg.inv(X.T @ X)))
    return b, se, df


@pytest.fixture(scope="module")
def g():
    g = G()
    g.ok("quietly regress mathach ses sector")
    g.ok("estimates store r1")
    g.ok("quietly regress mathach ses minority female")
    g.ok("estimates store r2")
    return g


def _series(graph, panel=0):
    marks = [s for s in graph.panels[panel].series if s.kind == "scatter"]
    cis = [s for s in graph.panels[panel].series if s.kind in ("rspike", "rcap")]
    return marks, cis


def test_one_model_points_intervals_labels(g):
    g.ok("coefplot r1, drop(_cons) xline(0)")
    graph = g.graph()
    (m,), (ci,) = _series(graph)
    y, ses, sector = g.col("mathach"), g.col("ses"), g.col("sector")
    b, se, df = ols(y, [ses, sector])
    q = tdist.ppf(0.975, df)
    assert np.allclose(m.x, b[:2]) and np.allclose(m.y, [1, 2])          # horizontal
    assert np.allclose(ci.x, [1, 2]) and ci.style["horizontal"]
    assert np.allclose(ci.y, b[:2] - q * se[:2]) and np.allclose(ci.y2, b[:2] + q * se[:2])
    ax = graph.panels[0].yaxis
    assert ax.ticks == [1, 2] and ax.reverse and ax.range == [0.5, 2.5]
    assert ax.ticklabels == ["socio-economic status (standardized)",
                             "1 if Catholic school, 0 if public"]
    assert graph.panels[0].xlines == [0]
    assert graph.legend.show is False
    r = g.s.r
    assert r.scalars["n_plot"] == 1 and r.scalars["n_ci"] == 1 and r.scalars["n_subgr"] == 1
    fig = g.fig()
    assert len(scatter_points(fig.axes[0])[0]) == 2


def test_two_models_union_order_offsets_legend(g):
    g.ok("coefplot (r1, label(Model A)) (r2, label(Model B)), levels(90)")
    graph = g.graph()
    marks, cis = _series(graph)
    labels = graph.panels[0].yaxis.ticklabels
    # r1's coefficients first, then those only in r2, _cons last
    assert labels == ["socio-economic status (standardized)",
                      "1 if Catholic school, 0 if public", "1 if student is a minority",
                      "1 if student is female", "_cons"]
    y = g.col("mathach")
    b1, se1, df1 = ols(y, [g.col("ses"), g.col("sector")])
    b2, se2, df2 = ols(y, [g.col("ses"), g.col("minority"), g.col("female")])
    assert np.allclose(marks[0].y, [1 - 0.5 + 1 / 3, 2 - 0.5 + 1 / 3, 5 - 0.5 + 1 / 3])
    assert np.allclose(marks[1].y, [1 + 1 / 6, 3 + 1 / 6, 4 + 1 / 6, 5 + 1 / 6])
    assert np.allclose(marks[0].x, b1) and np.allclose(marks[1].x, b2)
    q = tdist.ppf(0.95, df2)
    assert np.allclose(cis[1].y2, b2 + q * se2)
    # keys numbered as in Stata (each plot's interval, then its marker): markers shown
    assert graph.legend.order == [2, 4]
    assert legend_texts(g.fig()) == ["Model A", "Model B"]
    g.ok('coefplot r1 r2, legend(order(4 "Second" 2 "First"))')
    assert legend_texts(g.fig()) == ["Second", "First"]
    assert g.s.r.scalars["n_plot"] == 2
    g.ok("coefplot r1 r2, nooffsets keep(ses)")
    marks, _ = _series(g.graph())
    assert np.allclose(marks[0].y, [1]) and np.allclose(marks[1].y, [1])


def test_levels_widths_recast_and_vertical(g):
    g.ok("coefplot r1, keep(ses) levels(99 95) vertical yline(0)")
    graph = g.graph()
    _m, cis = _series(graph)
    assert [c.style.get("lwidth") for c in cis] == ["*1", "*2"]
    b, se, df = ols(g.col("mathach"), [g.col("ses"), g.col("sector")])
    assert np.allclose(cis[0].y, b[0] - tdist.ppf(0.995, df) * se[0])
    assert np.allclose(cis[1].y, b[0] - tdist.ppf(0.975, df) * se[0])
    assert not cis[0].style.get("horizontal")
    m, _ = _series(graph)
    assert np.allclose(m[0].x, [1]) and np.allclose(m[0].y, b[0])          # vertical
    assert graph.panels[0].xaxis.ticks == [1] and not graph.panels[0].xaxis.reverse
    g.ok("coefplot r1, keep(ses) ciopts(recast(rcap) lcolor(red)) msymbol(D)")
    graph = g.graph()
    kinds = [s.kind for s in graph.panels[0].series]
    assert kinds == ["rcap", "scatter"]                 # intervals behind the markers
    assert graph.panels[0].series[0].style["lcolor"] == "red"
    assert graph.panels[0].series[1].style["marker"] == "D"
    g.ok("coefplot r1, keep(ses) citop")
    assert [s.kind for s in g.graph().panels[0].series] == ["scatter", "rspike"]
    g.fig()


def test_subgraphs(g):
    g.ok('coefplot r1 || r2, drop(_cons) bylabels("First" "Second")')
    graph = g.graph()
    assert [p.title for p in graph.panels] == ["First", "Second"]
    assert g.s.r.scalars["n_subgr"] == 2 and g.s.r.scalars["n_plot"] == 1
    m2, _ = _series(graph, 1)
    assert np.allclose(m2[0].y, [1, 3, 4])          # one categorical axis for both panels
    g.fig()


def test_order_rename_coeflabels_nolabels(g):
    g.ok("coefplot r2, drop(_cons) order(female ses) nolabels")
    assert g.graph().panels[0].yaxis.ticklabels == ["female", "ses", "minority"]
    g.ok('coefplot r2, drop(_cons) rename(minority = race) coeflabels(race = "Race" ses = "SES")')
    assert g.graph().panels[0].yaxis.ticklabels == ["SES", "Race", "1 if student is female"]
    g.ok("coefplot r2, keep(*i*) nolabels")
    assert g.graph().panels[0].yaxis.ticklabels == ["minority"]
    g.ok("coefplot r2, drop(_cons) order(female . ses)")
    marks, _ = _series(g.graph())
    b, _se, _df = ols(g.col("mathach"), [g.col("ses"), g.col("minority"), g.col("female")])
    assert np.allclose(marks[0].y, [1, 3, 4])        # female, a gap, ses, minority
    assert np.allclose(marks[0].x, [b[2], b[0], b[1]])


def test_eform_rescale_mlabel(g):
    g.ok("coefplot r1, keep(ses) eform mlabel format(%9.3f)")
    (m,), (ci,) = _series(g.graph())
    b, se, df = ols(g.col("mathach"), [g.col("ses"), g.col("sector")])
    q = tdist.ppf(0.975, df)
    assert np.allclose(m.x, np.exp(b[0])) and np.allclose(ci.y2, np.exp(b[0] + q * se[0]))
    assert m.style["mlabels"] == [f"{np.exp(b[0]):.3f}"]
    g.ok("coefplot r1, keep(ses) rescale(10)")
    (m,), (ci,) = _series(g.graph())
    assert np.allclose(m.x, 10 * b[0]) and np.allclose(ci.y, 10 * (b[0] - q * se[0]))


def test_factor_variables_base_levels():
    g = G()
    g.ok("quietly regress mathach ses i.sector c.ses#i.female")
    g.ok("coefplot, drop(_cons)")
    labels = g.graph().panels[0].yaxis.ticklabels
    assert labels == ["socio-economic status (standardized)",
                      "1 if Catholic school, 0 if public=1",
                      "1 if student is female=1 # socio-economic status (standardized)"]
    g.ok("coefplot, drop(_cons) baselevels")       # 0b.sector; 0b.female#co.ses is omitted
    assert len(g.graph().panels[0].yaxis.ticks) == 4
    g.ok("coefplot, drop(_cons) baselevels omitted")
    assert len(g.graph().panels[0].yaxis.ticks) == 5
    g.ok("label define sec 0 Public 1 Catholic")
    g.ok("label values sector sec")
    g.ok("coefplot, keep(*.sector) baselevels")
    assert g.graph().panels[0].yaxis.ticklabels == ["Public", "Catholic"]


@pytest.fixture(scope="module")
def gm():
    g = G()
    g.ok("quietly mixed mathach ses || id: ses, cov(unstructured)")
    return g


def test_mixed_fixed_equation_by_default(gm):
    gm.ok("coefplot")
    graph = gm.graph()
    (m,), (ci,) = _series(graph)
    e = gm.s.e
    b, se = np.asarray(e.b, float), np.sqrt(np.diag(np.asarray(e.V, float)))
    assert graph.panels[0].yaxis.ticklabels[-1] == "_cons" and len(m.x) == 2
    assert np.allclose(m.x, b[:2])
    z = norm.ppf(0.975)
    assert np.allclose(ci.y, b[:2] - z * se[:2]) and np.allclose(ci.y2, b[:2] + z * se[:2])


def test_mixed_random_effect_parameters_when_selected(gm):
    e = gm.s.e
    names = [f"{q}:{n}" for q, n in e.names]
    gm.ok("coefplot, keep(lns1_1_1: lnsig_e:)")
    graph = gm.graph()
    (m,), _ = _series(graph)
    want = [float(e.b[names.index("lns1_1_1:_cons")]), float(e.b[names.index("lnsig_e:_cons")])]
    assert np.allclose(m.x, want)
    ax = graph.panels[0].yaxis
    assert ax.ticklabels == ["{bf:lns1_1_1}", "_cons", "{bf:lnsig_e}", "_cons"]
    assert np.allclose(m.y, [1, 3])                   # a gap between the equations
    assert gm.s.r.macros["eqlabels"] == '0 "lns1_1_1" 2 "lnsig_e"'
    gm.ok("coefplot, keep(*:)")
    (m,), _ = _series(gm.graph())
    assert np.allclose(m.x, np.asarray(e.b, float))
    gm.ok("coefplot, keep(lnsig_e:) eform")
    (m,), _ = _series(gm.graph())
    assert np.allclose(m.x, np.exp(want[1]))


def test_margins_at(gm):
    gm.ok("quietly margins, at(ses=(-2(1)2)) post")
    e = gm.s.e
    gm.ok("coefplot, at recast(line)")
    graph = gm.graph()
    (line,) = [s for s in graph.panels[0].series if s.kind == "line"]
    (ci,) = [s for s in graph.panels[0].series if s.kind == "rspike"]
    assert np.allclose(line.x, [-2, -1, 0, 1, 2]) and np.allclose(line.y, np.asarray(e.b))
    se = np.sqrt(np.diag(np.asarray(e.V, float)))
    assert np.allclose(ci.y2, np.asarray(e.b) + norm.ppf(0.975) * se)
    assert graph.panels[0].xaxis.ticks is None        # a continuous axis


def test_errors(g):
    g.fails("coefplot nosuch", 111, "estimation result nosuch not found")
    g.fails("coefplot r1, foo", 198, "option foo not allowed")
    g.fails("coefplot (r1, title(x))", 198, "option title not allowed")
    g.fails("coefplot r1, horizontal vertical", 198)
    g.fails("coefplot r1, levels(5)", 198)
    g.fails("coefplot r1, by(sector)", 198)
    g.fails("coefplot r1, ciopts(recast(bar))", 198)
    e = G(setup=("use hsb",))
    e.fails("coefplot", 301, "last estimates not found")
    out = g.ok("coefplot r1, keep(nosuchcoef)")
    assert "(nothing to plot)" in out


def test_ssc_install_says_built_in(g):
    assert "built into hlmshell" in g.ok("ssc install coefplot, replace")


def test_export_smoke(g, tmp_path):
    g.ok("coefplot r1 r2, drop(_cons) xline(0) title(Models) legend(rows(1))")
    g.ok(f'graph export "{tmp_path / "c.png"}"')
    assert (tmp_path / "c.png").stat().st_size > 1000


def test_sort_skip_pnum_and_combined_models(g):
    g.ok("quietly regress mathach ses sector minority female")
    g.ok("estimates store r3")
    b, se, _df = ols(g.col("mathach"), [g.col(v) for v in ("ses", "sector", "minority",
                                                            "female")])
    names = np.array(["ses", "sector", "minority", "female"])
    g.ok("coefplot r3, drop(_cons) sort nolabels")
    assert g.graph().panels[0].yaxis.ticklabels == list(names[np.argsort(b[:4])])
    g.ok("coefplot r3, drop(_cons) sort(, descending by(se)) nolabels")
    assert g.graph().panels[0].yaxis.ticklabels == list(names[np.argsort(-se[:4])])
    # _skip counts as a plot: offsets -0.5 + 1/4 and -0.5 + 3/4; p#() options by number
    g.ok("coefplot r1 _skip r2, keep(ses) p1(msymbol(D) label(first)) p3(label(third))")
    marks, _ = _series(g.graph())
    assert np.allclose([m.y[0] for m in marks], [0.75, 1.25])
    assert marks[0].style["marker"] == "D" and [m.label for m in marks] == ["first", "third"]
    assert g.s.r.scalars["n_plot"] == 3
    # two models in one plot: one style, one legend key, both models' coefficients
    g.ok(r"coefplot (r1 \ r2, label(both)), drop(_cons)")
    marks, _ = _series(g.graph())
    assert len(marks) == 1 and len(marks[0].x) == 5 and marks[0].label == "both"


def test_headings_move_the_coefficients(g):
    g.ok('coefplot r3, drop(_cons) nolabels headings(ses = "Family" minority = "Student")')
    graph = g.graph()
    ax = graph.panels[0].yaxis
    assert list(zip(ax.ticks, ax.ticklabels)) == [
        (1, "Family"), (2, "ses"), (3, "sector"), (5, "Student"), (6, "minority"),
        (7, "female")]                              # a heading line, and a gap before later ones
    marks, _ = _series(graph)
    assert np.allclose(marks[0].y, [2, 3, 6, 7])
    assert g.s.r.macros["headings"] == '1 "Family" 5 "Student"'


def test_coeflabels_wrap_truncate_and_bad_positions(g):
    g.ok("coefplot r1, drop(_cons) coeflabels(, wrap(12))")
    assert g.graph().panels[0].yaxis.ticklabels[1] == "1 if\nCatholic\nschool, 0 if\npublic"
    g.ok('coefplot r1, coeflabels(_cons = "Constant term", truncate(10))')
    assert g.graph().panels[0].yaxis.ticklabels[1:] == ["1 if", "Constant"]
    g.fails("coefplot r1, mlabel mlabposition(13)", 198)
    g.fails("coefplot r1)", 198, "invalid syntax")
    g.fails("coefplot r1 [pw=ses]", 101, "weights not allowed")


def test_drawn_spikes_run_along_x(g):
    """The figure itself: markers at (b, position), each interval a horizontal segment."""
    from matplotlib.collections import LineCollection
    g.ok("coefplot r1, drop(_cons)")
    (m,), (ci,) = _series(g.graph())
    ax = g.fig().axes[0]
    assert np.allclose(scatter_points(ax)[0], np.column_stack([m.x, m.y]))
    segs = [c for c in ax.collections if isinstance(c, LineCollection)][0].get_segments()
    for seg, p, lo, hi in zip(segs, ci.x, ci.y, ci.y2):
        assert np.allclose(seg, [[lo, p], [hi, p]])
    assert ax.yaxis_inverted()
    g.ok("twoway rcap mathach ses id in 1/5, horizontal")
    ax = g.fig().axes[0]
    segs = [c for c in ax.collections if isinstance(c, LineCollection)][0].get_segments()
    y1, y2, idv = g.col("mathach")[:5], g.col("ses")[:5], g.col("id")[:5]
    assert np.allclose(segs[0], [[y1[0], idv[0]], [y2[0], idv[0]]])


def test_regress_and_mixed_equations_as_stata_names_them(g):
    """regress's e(b) has no equation names in Stata: with mixed's equations shown, its
    coefficients are an equation `_` of their own, not mixed's `mathach`."""
    g.ok("quietly mixed mathach ses || id:")
    g.ok("estimates store mx")
    g.ok("coefplot r1 mx, keep(*:)")
    ax = g.graph().panels[0].yaxis
    heads = [t for p, t in zip(ax.ticks, ax.ticklabels) if p in (0, 4, 7, 9)]
    assert heads == ["{bf:_}", "{bf:mathach}", "{bf:lns1_1_1}", "{bf:lnsig_e}"]


def test_noci_cionly_nokey(g):
    g.ok("coefplot r1 r2, drop(_cons) noci")
    graph = g.graph()
    assert [s.kind for s in graph.panels[0].series] == ["scatter", "scatter"]
    assert g.s.r.scalars["n_ci"] == 0 and graph.legend.order == [1, 2]
    g.ok("coefplot (r1, cionly) (r2, nokey), drop(_cons)")
    graph = g.graph()
    assert [s.kind for s in graph.panels[0].series] == ["rspike", "rspike", "scatter"]
    assert graph.legend.order == [1]                 # r1's interval is its key; r2 has none
    assert legend_texts(g.fig()) == ["r1"]


def test_option_placement(g):
    """m1, o1 || m2, o2 ||, o3: o1 and o2 belong to their subgraphs, o3 is global; in
    (m1, o1 \\ m2, o2) o2 applies to both models, in (m1, o1 \\ m2, o2 \\) to m2 alone."""
    g.ok("coefplot r1, keep(ses) bylabel(One) || r2, drop(_cons) bylabel(Two) ||, nolabels")
    graph = g.graph()
    assert [p.title for p in graph.panels] == ["One", "Two"]
    assert [[len(s.x) for s in p.series if s.kind == "scatter"] for p in graph.panels] == \
        [[1], [3]]
    g.ok(r"coefplot (r1, keep(ses) \ r1, keep(sector ses) \), nolabels")
    (m,), _ = _series(g.graph())
    assert len(m.x) == 3
    g.ok(r"coefplot (r1, keep(ses) \ r1, drop(sector)), nolabels")
    (m,), _ = _series(g.graph())
    assert len(m.x) == 1 + 2                          # ses; then ses and _cons


def test_matrix_mode():
    """matrix(mspec): estimates from a row (or column) of a user matrix; ci((# #)) and
    se(#) read other rows of it, ci((A[2] A[3])) / se(mspec) other matrices."""
    g = G()
    g.ok(r"matrix C = (12, 0.1, 1000 \ 11, -0.2, 900 \ 13, 0.3, 1100)")
    g.ok("matrix rownames C = median ll95 ul95")
    g.ok("matrix colnames C = mathach ses size")
    g.ok("coefplot matrix(C), ci((2 3))")
    graph = g.graph()
    (m,), (ci,) = _series(graph)
    assert np.allclose(m.x, [12, 0.1, 1000]) and np.allclose(ci.y, [11, -0.2, 900])
    assert np.allclose(ci.y2, [13, 0.3, 1100])
    assert graph.panels[0].yaxis.ticklabels[2] == "size"
    assert g.s.r.macros["legend"] == 'label(1 "C")'
    g.ok("coefplot matrix(C[1]), ci((C[2] C[3]))")
    (m2,), (ci2,) = _series(g.graph())
    assert np.allclose(ci2.y, ci.y) and np.allclose(m2.x, m.x)
    out = g.ok("coefplot matrix(C[.,2]), nolabels")    # a column: named by the row names
    (m3,), (ci3,) = _series(g.graph())
    assert np.allclose(m3.x, [0.1, -0.2, 0.3]) and np.all(np.isnan(ci3.y))
    assert "(C: could not determine CI1)" in out
    assert g.graph().panels[0].yaxis.ticklabels == ["median", "ll95", "ul95"]
    g.ok(r"matrix B = (1, 2 \ .5, .25)")
    g.ok("matrix colnames B = a b")
    g.ok("coefplot matrix(B), se(2) levels(90)")
    (m,), (ci,) = _series(g.graph())
    z = norm.ppf(0.95)
    assert np.allclose(ci.y, [1 - z * 0.5, 2 - z * 0.25])
    g.fails("coefplot matrix(Z)", 111)
    g.fails("coefplot matrix(B[5])", 503)
    g.fails("coefplot matrix(B), se(7)", 503)


def test_v_and_ci_from_e(g):
    """v(name) and ci(name) read e() matrices of the model (here e(V) itself)."""
    g.ok("coefplot r1, v(V) keep(ses)")
    (_m,), (ci,) = _series(g.graph())
    b, se, df = ols(g.col("mathach"), [g.col("ses"), g.col("sector")])
    assert np.allclose(ci.y2, b[0] + tdist.ppf(0.975, df) * se[0])
