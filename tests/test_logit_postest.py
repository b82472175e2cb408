"""After logit/logistic/probit: estat classification (lstat), estat gof (lfit) Pearson and
Hosmer-Lemeshow, lroc, lsens -- against direct numpy/scipy/pandas computations on the
predicted probabilities, and R's pROC for the ROC area when R is there."""
import shutil
import subprocess

import numpy as np
import pytest

from test_graph_helpers import G


@pytest.fixture(scope="module")
def g():
    return G(setup=("use hsb", "keep in 1/1500", "quietly logit minority ses i.sector",
                    "predict double phat"))


def _yp(g):
    return (g.col("minority") != 0).astype(float), g.col("phat")


def test_classification(g):
    out = g.ok("estat classification")
    y, p = _yp(g)
    pos = p >= 0.5
    a, b = int(np.sum(pos & (y == 1))), int(np.sum(pos & (y == 0)))
    c, d = int(np.sum(~pos & (y == 1))), int(np.sum(~pos & (y == 0)))
    r = g.s.r.scalars
    assert np.isclose(r["P_corr"], 100 * (a + d) / len(y))
    if a + c:
        assert np.isclose(r["P_p1"], 100 * a / (a + c))
    assert np.isclose(r["P_n0"], 100 * d / (b + d))
    assert f"     +     |{a:>10}{b:>14}  |{a + b:>11}" in out
    assert "True D defined as minority != 0" in out and "Logistic model for minority" in out
    out = g.ok("estat class, cutoff(.25)")
    pos = p >= 0.25
    sens = 100 * np.sum(pos & (y == 1)) / np.sum(y == 1)
    assert f"Sensitivity                     Pr( +| D){sens:8.2f}%" in out
    assert "Classified + if predicted Pr(D) >= .25" in out
    out2 = g.ok("lstat, cutoff(.25)")
    assert out2 == out


def test_gof_pearson_and_hosmer_lemeshow(g):
    import pandas as pd
    from scipy.stats import chi2 as chi2d
    y, p = _yp(g)
    g.ok("estat gof")
    frame = pd.DataFrame({"ses": g.col("ses"), "sector": g.col("sector"), "y": y, "p": p})
    pat = frame.groupby(["ses", "sector"]).agg(m=("y", "size"), o=("y", "sum"), p=("p", "mean"))
    want = float(np.sum((pat.o - pat.m * pat.p) ** 2 / (pat.m * pat.p * (1 - pat.p))))
    r = g.s.r.scalars
    assert np.isclose(r["chi2"], want, rtol=1e-9) and r["m"] == len(pat) and r["df"] == len(pat) - 3
    assert np.isclose(r["p"], chi2d.sf(want, len(pat) - 3))
    out = g.ok("estat gof, group(10) table")
    # groups: p at or below the k/10 percentile (Stata's definition: the average of the two
    # order statistics when n k / 10 is whole)
    ps = np.sort(p)
    n = len(p)
    cuts = []
    for k in range(1, 10):
        pos = n * k / 10
        i = int(pos)
        cuts.append((ps[i - 1] + ps[i]) / 2 if pos == i else ps[i])
    grp = np.array([sum(pi > c for c in cuts) for pi in p])
    stat = 0.0
    for k in np.unique(grp):
        sel = grp == k
        o1, e1 = y[sel].sum(), p[sel].sum()
        o0, e0 = sel.sum() - o1, sel.sum() - e1
        stat += (o1 - e1) ** 2 / e1 + (o0 - e0) ** 2 / e0
    r = g.s.r.scalars
    assert np.isclose(r["chi2"], stat, rtol=1e-9) and r["df"] == len(np.unique(grp)) - 2
    assert "Table collapsed on quantiles of estimated probabilities" in out
    assert f"Hosmer–Lemeshow chi2({len(np.unique(grp)) - 2})" in out
    assert g.ok("lfit, group(10)").strip().endswith(out.strip().splitlines()[-1].strip())


def test_lroc_area_and_graph(g):
    from scipy.stats import mannwhitneyu
    y, p = _yp(g)
    out = g.ok("lroc")
    u = mannwhitneyu(p[y == 1], p[y == 0]).statistic / (np.sum(y == 1) * np.sum(y == 0))
    assert np.isclose(g.s.r.scalars["area"], u, rtol=1e-12)
    assert f"Area under ROC curve   = {u:8.4f}" in out
    graph = g.graph()
    curve = graph.panels[0].series[0]
    assert curve.x[0] == 0 and curve.x[-1] == 1 and curve.y[-1] == 1
    assert graph.note.startswith("Area under ROC curve")
    assert graph.panels[0].yaxis.title == "Sensitivity"
    g.ok("lroc if sector == 1, nograph")             # if/in: those observations
    sel = g.col("sector") == 1
    u = mannwhitneyu(p[sel & (y == 1)], p[sel & (y == 0)]).statistic / (
        np.sum(sel & (y == 1)) * np.sum(sel & (y == 0)))
    assert np.isclose(g.s.r.scalars["area"], u) and g.s.r.scalars["N"] == sel.sum()


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R not installed")
def test_lroc_against_pROC(g, tmp_path):
    y, p = _yp(g)
    f = tmp_path / "yp.csv"
    np.savetxt(f, np.column_stack([y, p]), delimiter=",", fmt="%.17g")
    code = (f"d <- read.csv('{f}', header=FALSE); if (!requireNamespace('pROC', quietly=TRUE)) "
            "quit(status=3); cat(format(as.numeric(pROC::auc(d$V1, d$V2, quiet=TRUE, "
            "direction='<')), digits=17))")
    res = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, timeout=120)
    if res.returncode == 3:
        pytest.skip("pROC not installed")
    g.ok("lroc, nograph")
    assert np.isclose(g.s.r.scalars["area"], float(res.stdout.strip()), rtol=1e-12)


def test_lsens_generates_curve(g):
    y, p = _yp(g)
    g.ok("lsens, genprob(cut) gensens(se) genspec(sp) replace")
    cut, se, sp = g.col("cut"), g.col("se"), g.col("sp")
    ok = ~np.isnan(cut)
    for c, a, b in list(zip(cut[ok], se[ok], sp[ok]))[::97]:
        assert np.isclose(a, np.mean(p[y == 1] >= c), atol=1e-6)
        assert np.isclose(b, np.mean(p[y == 0] < c), atol=1e-6)
    assert g.graph().panels[0].series[1].label == "Specificity"
    g.fails("lsens, genprob(cut) nograph", 110)
    g.fails("lsens, genprob(1bad) nograph", 198)


def test_errors_after_other_models():
    g = G(setup=("use hsb", "keep in 1/300", "quietly regress mathach ses"))
    g.fails("estat classification", 321)
    g.fails("lroc", 301)
    g.fails("lsens", 301)
    g.ok("quietly probit minority ses")
    assert "Probit model for minority" in g.ok("lroc, nograph")
    g.fails("lroc ses", 101)
    g.fails("estat gof, group(0)", 198)
