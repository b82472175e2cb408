"""The teaching do-files in sample_dofiles/ run to the end and print sound numbers.

Where possible each key number is checked against something computed here independently
of hlmshell's engine (numpy on the data file): the within-school slope, the random-intercept
log likelihood at the printed estimates, the BLUPs, LR statistics from the printed
likelihoods. The ICC is the classic Raudenbush & Bryk figure 8.614/(8.614+39.148) = .1803.
"""
from __future__ import annotations

import math
import os
import re

import numpy as np
import pandas as pd
import pytest

from hlmshell.check.tables import parse_ic, parse_lrtest, parse_mixed, parse_test
from hlmshell.check.transcript import split_blocks

pytest.importorskip("hlmshell.interpreter")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "sample_dofiles")
DATA = os.path.join(ROOT, "hlmshell", "sample_data", "hsb.dta")
DOFILES = sorted(f for f in os.listdir(SAMPLES) if re.match(r"\d\d_.*\.do$", f))


def run(name: str, workdir=None):
    from hlmshell.interpreter import Interpreter
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session

    import tempfile
    out = Capture()
    session = Session(out=out)
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(workdir or tmp)    # what a do-file exports goes there, not into the project
        try:
            rc = Interpreter(session).run_dofile(os.path.join(SAMPLES, name), echo=True)
        finally:
            os.chdir(cwd)
    return rc, out.getvalue(), session


_CACHE: dict = {}


def blocks_of(name: str):
    if name not in _CACHE:
        rc, text, session = run(name)
        assert rc == 0, text
        _CACHE[name] = (split_blocks(text), session, text)
    return _CACHE[name][0]


def block(name: str, command_start: str, nth: int = 0):
    found = [b for b in blocks_of(name) if b.command.startswith(command_start)]
    assert len(found) > nth, f"{command_start!r} not run in {name}"
    return found[nth].lines


@pytest.fixture(scope="module")
def hsb():
    return pd.read_stata(DATA, convert_categoricals=False)


def test_the_teaching_files_exist():
    assert [f[:2] for f in DOFILES][:7] == ["01", "02", "03", "04", "05", "06", "07"]
    assert "10_binary_and_count.do" in DOFILES


@pytest.mark.parametrize("name", DOFILES)
def test_runs_without_error(name):
    _, _, text = (blocks_of(name), None, _CACHE[name][2])
    assert not re.search(r"^r\(\d+\);", text, re.M), text
    assert "Traceback" not in text


def _icc(lines):
    row = next(l for l in lines if re.match(r"^\s*id \|", l))
    return [float(x) for x in row.split("|")[1].split()]


def _ri_loglik(df: pd.DataFrame, beta0: float, tau2: float, sigma2: float) -> float:
    """ML log likelihood of the empty random-intercept model, group by group (closed form)."""
    ll = 0.0
    for _, g in df.groupby("id"):
        e = g["mathach"].to_numpy(float) - beta0
        n = len(e)
        d = sigma2 + n * tau2
        logdet = (n - 1) * math.log(sigma2) + math.log(d)
        quad = (e @ e - tau2 * e.sum() ** 2 / d) / sigma2
        ll += -0.5 * (n * math.log(2 * math.pi) + logdet + quad)
    return ll


def test_01_empty_model_icc(hsb):
    name = "01_empty_model_icc.do"
    reml = parse_mixed(block(name, "mixed mathach || id:, reml"))
    icc, se, lo, hi = _icc(block(name, "estat icc", 0))
    assert icc == pytest.approx(8.614 / (8.614 + 39.148), abs=2e-5)  # R&B: .1803
    tau, sig = reml["re"]["var(_cons)"][0], reml["re"]["var(Residual)"][0]
    assert tau == pytest.approx(8.614, abs=5e-4) and sig == pytest.approx(39.148, abs=5e-4)
    assert icc == pytest.approx(tau / (tau + sig), abs=1e-6)
    assert lo < icc < hi and se > 0
    # ML: the printed log likelihood is the likelihood at the printed estimates
    ml = parse_mixed(block(name, "mixed mathach || id:", 1))
    ll = _ri_loglik(hsb, ml["coef"]["_cons"][0], ml["re"]["var(_cons)"][0], ml["re"]["var(Residual)"][0])
    assert ll == pytest.approx(ml["ll"], abs=2e-3)
    assert _icc(block(name, "estat icc", 1))[0] == pytest.approx(
        ml["re"]["var(_cons)"][0] / (ml["re"]["var(_cons)"][0] + ml["re"]["var(Residual)"][0]), abs=1e-6)


def test_02_group_mean_centering(hsb):
    name = "02_group_mean_centering.do"
    m = parse_mixed(block(name, "mixed mathach ses_c meanses_g"))
    # with the group mean in the model, the within slope is the fixed-effects (within) estimator
    x, y = hsb["ses"].astype(float), hsb["mathach"].astype(float)
    xc = x - x.groupby(hsb["id"]).transform("mean")
    yc = y - y.groupby(hsb["id"]).transform("mean")
    within = float((xc * yc).sum() / (xc * xc).sum())
    assert m["coef"]["ses_c"][0] == pytest.approx(within, rel=1e-5)
    assert m["coef"]["ses_c"][0] == pytest.approx(2.191, abs=6e-4)        # R&B: 2.191
    assert m["coef"]["meanses_g"][0] == pytest.approx(5.866, abs=6e-4)    # R&B: 5.866
    raw = parse_mixed(block(name, "mixed mathach ses ||"))
    assert within < raw["coef"]["ses"][0] < m["coef"]["meanses_g"][0]


def test_03_level2_and_cross_level():
    name = "03_level2_cross_level.do"
    l2 = parse_mixed(block(name, "mixed mathach ses sector meanses"))
    cl = parse_mixed(block(name, "mixed mathach c.ses##c.sector meanses"))
    b, se = cl["coef"]["c.ses#c.sector"][:2]
    assert b < 0  # the ses slope is flatter in Catholic schools
    wald = parse_test(block(name, "test c.ses#c.sector"))
    assert wald["df"] == 1 and wald["chi2"] == pytest.approx((b / se) ** 2, abs=0.02)
    lr = parse_lrtest(block(name, "lrtest crosslevel level2"))
    assert lr["df"] == 1 and lr["chi2"] == pytest.approx(2 * (cl["ll"] - l2["ll"]), abs=0.006)
    assert lr["assumption"] == "level2 nested within crosslevel"


def test_04_random_slope_covariance_structures():
    name = "04_random_slopes_covariances.do"
    fits = {s: parse_mixed(block(name, f"mixed mathach ses || id: ses, covariance({s})"))
            for s in ("independent", "exchangeable", "unstructured")}
    ri = parse_mixed(block(name, "mixed mathach ses || id:"))
    assert set(fits["independent"]["re_levels"]) == {"id: Independent"}
    assert set(fits["exchangeable"]["re_levels"]) == {"id: Exchangeable"}
    assert fits["unstructured"]["re_levels"]["id: Unstructured"] == ["var(ses)", "var(_cons)", "cov(ses,_cons)"]
    # each structure contains the previous one: the likelihood can only go up
    assert fits["unstructured"]["ll"] >= fits["independent"]["ll"] - 1e-3 >= ri["ll"] - 2e-3
    assert fits["unstructured"]["ll"] >= fits["exchangeable"]["ll"] - 1e-3
    for cmd, big, small in (("lrtest independent intercept", fits["independent"], ri),
                            ("lrtest unstructured independent", fits["unstructured"], fits["independent"]),
                            ("lrtest unstructured exchangeable", fits["unstructured"], fits["exchangeable"])):
        lr = parse_lrtest(block(name, cmd))
        assert lr["df"] == 1, cmd
        assert lr["chi2"] == pytest.approx(2 * (big["ll"] - small["ll"]), abs=0.006), cmd
    rows = {r["model"]: r for r in parse_ic(block(name, "estimates stats"))}
    assert {k: r["df"] for k, r in rows.items()} == {"intercept": 4, "independent": 5, "exchangeable": 5,
                                                     "unstructured": 6}
    for r in rows.values():
        assert r["AIC"] == pytest.approx(-2 * r["ll_model"] + 2 * r["df"], abs=0.02)
        assert r["BIC"] == pytest.approx(-2 * r["ll_model"] + math.log(7185) * r["df"], abs=0.02)


def test_05_ml_versus_reml():
    name = "05_ml_vs_reml.do"
    reml_lines = block(name, "mixed mathach ses sector || id:, reml")
    reml, ml = parse_mixed(reml_lines), parse_mixed(block(name, "mixed mathach ses sector || id:, mle"))
    assert any("Mixed-effects REML regression" in l for l in reml_lines)
    assert any("Log restricted-likelihood" in l for l in reml_lines)
    # REML's variance components are larger: it allows for the estimated fixed effects
    assert reml["re"]["var(_cons)"][0] > ml["re"]["var(_cons)"][0]
    assert reml["re"]["var(Residual)"][0] > ml["re"]["var(Residual)"][0]
    red = parse_mixed(block(name, "mixed mathach ses || id:, mle"))
    lr = parse_lrtest(block(name, "lrtest ml_full ml_reduced"))
    assert lr["df"] == 1 and lr["chi2"] == pytest.approx(2 * (ml["ll"] - red["ll"]), abs=0.006)
    shown = "\n".join(block(name, "display"))
    m = re.search(r"return code (\d+)", shown)
    assert m and int(m.group(1)) != 0  # ML against REML refused


def test_06_blups_match_an_independent_computation(hsb):
    name = "06_blups.do"
    m = parse_mixed(block(name, "mixed mathach ses || id: ses"))
    b_ses, b0 = m["coef"]["ses"][0], m["coef"]["_cons"][0]
    v1, v0, c10 = (m["re"][k][0] for k in ("var(ses)", "var(_cons)", "cov(ses,_cons)"))
    s2 = m["re"]["var(Residual)"][0]
    G = np.array([[v1, c10], [c10, v0]])  # effects in the model's order: ses, _cons
    rows = [l for l in block(name, "list id u0") if re.match(r"^\s*\|\s*\d", l)]
    assert 3 <= len(rows) <= 12
    for row in rows:
        ident, u0, se0, u1, se1 = (float(x) for x in row.strip(" |").split())
        g = hsb[hsb["id"] == ident]
        x = g["ses"].to_numpy(float)
        Z = np.column_stack([x, np.ones_like(x)])
        r = g["mathach"].to_numpy(float) - b0 - b_ses * x
        V = Z @ G @ Z.T + s2 * np.eye(len(x))
        u = G @ Z.T @ np.linalg.solve(V, r)  # E[u | y] at the estimates
        assert u1 == pytest.approx(u[0], abs=2e-5 + 2e-4 * abs(u[0])), ident
        assert u0 == pytest.approx(u[1], abs=2e-5 + 2e-4 * abs(u[1])), ident
        assert 0 < se0 < math.sqrt(v0) and 0 < se1 < math.sqrt(v1)


def test_07_growth_curves():
    """Orthodont reshaped to long; the unstructured marginal model is nlme's
    gls(distance ~ age + female, corSymm + varIdent(~1|occ), REML) on the same data (its
    log restricted-likelihood -214.34726060769836; tests/data/resid/nlme_reference.json)."""
    name = "07_growth_curves.do"
    reshape = "\n".join(block(name, "reshape long dist"))
    assert "Number of observations               27   ->   108" in reshape
    slope = parse_mixed(block(name, "mixed dist age11 female || subject: age11, covariance(unstructured) reml"))
    ar1_lines = block(name, "mixed dist age11 female || subject: age11", nth=1)
    ar1 = parse_mixed(ar1_lines)
    assert any(l.startswith("Residual: AR(1)") for l in ar1_lines)
    lr = parse_lrtest(block(name, "lrtest slope ar1"))
    assert lr["df"] == 1 and lr["chi2"] == pytest.approx(2 * (ar1["ll"] - slope["ll"]), abs=0.006)
    un = parse_mixed(block(name, "mixed dist age11 female || subject:, noconstant"))
    assert un["ll"] == pytest.approx(-214.34726060769836, abs=1e-5)
    cov = [l for l in block(name, "estat wcorrelation, covariance") if re.match(r"^\s+\d \|", l)]
    diag = [float(l.split("|")[1].split()[-1]) for l in cov]
    assert diag == pytest.approx([un["re"][f"var(e{a})"][0] for a in (8, 10, 12, 14)], rel=1e-6)


def test_10_binary_and_count():
    """Contraception (mlmRev) and melanoma mortality (mlmRev's Mmmec): the random-intercept
    melogit is glmer's 7-point fit to the quadratures' agreement (-1250.0625762157983, nAGQ = 7;
    the adaptations differ), the ICC its latent-variable formula, the LR test twice the
    log-likelihood difference; mepoisson with exposure near glmer's Laplace fit (uvb
    -0.0344307411635, var(_cons) 0.169681453097^2... as glmer's theta^2)."""
    name = "10_binary_and_count.do"
    ri = block(name, "melogit use age urban || district:")
    ll = float(next(l for l in ri if l.startswith("Log likelihood")).split("=")[1].split()[0])
    assert ll == pytest.approx(-1250.0625762157983, abs=2e-3)
    icc = block(name, "estat icc")
    row = next(l for l in icc if l.strip().startswith("district |"))
    var = float(next(l for l in ri if "var(_cons)|" in l).split("|")[1].split()[0])
    assert float(row.split("|")[1].split()[0]) == pytest.approx(var / (var + math.pi ** 2 / 3), abs=1e-6)
    lr = parse_lrtest(block(name, "lrtest ri rs"))
    assert lr["df"] == 2
    pois = block(name, "mepoisson deaths uvb || region:, exposure(expected)")
    uvb = float(next(l for l in pois if l.strip().startswith("uvb |")).split("|")[1].split()[0])
    assert uvb == pytest.approx(-0.0344307411635, rel=2e-2)
    assert any("IRR" in l for l in block(name, "mepoisson, irr"))


def _printed(lines, label):
    return float(next(l for l in lines if l.strip().startswith(label + " |")).split("|")[1].split()[0])


def _nested_loglik(b, v_comm, v_mom, n=40):
    """The three-level logistic model's log likelihood by brute force: Gauss-Hermite (n fixed
    nodes) over each mother's effect inside each community's, numpy on the shipped data.
    (40 nodes agree with 80 to 1e-6 here.)"""
    d = pd.read_stata(os.path.join(ROOT, "hlmshell", "sample_data", "guimmun.dta"))
    X = np.column_stack([d.kid2p, d.mom25p, d.rural, d.pcind81, np.ones(len(d))])
    x, w = np.polynomial.hermite.hermgauss(n)
    w = w / math.sqrt(math.pi)
    e = ((X @ b)[:, None, None] + math.sqrt(2 * v_comm) * x[None, :, None]
         + math.sqrt(2 * v_mom) * x[None, None, :])
    y = d.immun.to_numpy()[:, None, None]
    lp = np.where(y == 1, -np.logaddexp(0, -e), -np.logaddexp(0, e))
    _, mom = np.unique(d.mom.to_numpy(), return_inverse=True)
    _, comm = np.unique(d.community.to_numpy(), return_inverse=True)
    S = np.zeros((mom.max() + 1, n, n))
    np.add.at(S, mom, lp)
    M = np.log(np.exp(S) @ w)                 # each mother's integral, per community node
    comm_of_mom = np.zeros(mom.max() + 1, dtype=int)
    comm_of_mom[mom] = comm
    C = np.zeros((comm.max() + 1, n))
    np.add.at(C, comm_of_mom, M)
    return float(np.sum(np.log(np.exp(C) @ w)))


def test_10_three_levels():
    """guImmun (shipped as guimmun.dta): the 7-point fit's log likelihood is the nested
    integral (brute force here) at its printed estimates to the quadrature's error (0.07 at
    7 points; hlmshell with 30 points agrees with the brute force to 1e-9); estat icc is its
    formula on the printed variances; the Laplace fit under xtmelogit is glmer's
    (immun ~ kid2p + mom25p + rural + pcInd81 + (1 | cluster/mom): -1366.57611108743,
    variances 1.19071581 (mother) and 0.52339830 (community))."""
    name = "10_binary_and_count.do"
    agq = block(name, "melogit immun kid2p mom25p rural pcind81 || community: || mom:")
    ll = float(next(l for l in agq if l.startswith("Log likelihood")).split("=")[1].split()[0])
    b = np.array([_printed(agq, v) for v in ("kid2p", "mom25p", "rural", "pcind81", "_cons")])
    v_comm, v_mom = [float(l.split("|")[1].split()[0]) for l in agq if "var(_cons)|" in l]
    assert _nested_loglik(b, v_comm, v_mom) == pytest.approx(ll, abs=0.1)
    icc = block(name, "estat icc", nth=1)
    den = v_comm + v_mom + math.pi ** 2 / 3
    rows = [float(l.split(" |")[1].split()[0]) for l in icc if l.strip().startswith("community")]
    assert rows == pytest.approx([v_comm / den, (v_comm + v_mom) / den], abs=2e-6)
    lap = block(name, "xtmelogit immun")
    ll = float(next(l for l in lap if l.startswith("Log likelihood")).split("=")[1].split()[0])
    assert ll == pytest.approx(-1366.57611108743, abs=1e-4)
    sds = [float(l.split("|")[1].split()[0]) for l in lap if "sd(_cons)" in l]
    assert [v * v for v in sds] == pytest.approx([0.523398300743282, 1.19071581055638], rel=1e-4)
    assert v_mom > 3 * sds[1] ** 2           # Laplace's understatement the comment points at


def test_08_simulate_and_describe(tmp_path, monkeypatch):
    """The simulated schools: statsby's per-school OLS slopes equal numpy's least squares on
    the students (kept in snapshot 1), the BLUP slopes are shrunk (smaller spread), and the
    exported workbook holds the 50 schools' numbers."""
    rc, text, session = run("08_simulate_and_describe.do", workdir=tmp_path)
    assert rc == 0, text
    assert not re.search(r"^r\(\d+\);", text, re.M) and "Traceback" not in text
    students = session.data_snapshots[1][2]
    sch = np.asarray(students.values("school"))
    ses = np.asarray(students.values("ses"), dtype=float)
    math_ = np.asarray(students.values("math"), dtype=float)
    d = session.data
    got = dict(zip(np.asarray(d.values("school")), np.asarray(d.values("b_ses"), dtype=float)))
    for s_ in np.unique(sch)[:10]:
        m = sch == s_
        slope = np.polyfit(ses[m], math_[m], 1)[0]
        assert got[s_] == pytest.approx(slope, rel=1e-5, abs=1e-5)
    b = np.asarray(d.values("b_ses"), dtype=float)
    blup = np.asarray(d.values("slope_blup"), dtype=float)
    assert np.std(blup) < np.std(b)
    x = pd.read_excel(tmp_path / "schools_slopes.xlsx")
    assert list(x.columns) == ["school", "b_ses", "se_ses", "slope_blup"] and len(x) == 50
    assert np.allclose(x["b_ses"].to_numpy(), b, rtol=1e-6)


def test_09_pictures(tmp_path, monkeypatch):
    """What 09 draws is what the models say: 20 school lines from the fitted values, the
    marginsplot points equal margins' r(table), a density histogram with its normal curve,
    and the etable exports hold the three models' coefficients."""
    rc, text, session = run("09_pictures.do", workdir=tmp_path)
    assert rc == 0, text
    assert not re.search(r"^r\(\d+\);", text, re.M) and "Traceback" not in text
    for f in ("school_lines.png", "blup_vs_ols.png", "margins_sector.png", "school_intercepts.png"):
        assert (tmp_path / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    store = session.graphs
    d = session.data
    ids = np.asarray(d.values("id"), dtype=float)
    school = np.asarray(d.values("school"), dtype=float)
    yhat = np.asarray(d.values("yhat"), dtype=float)
    ses = np.asarray(d.values("ses"), dtype=float)
    # 20 school lines: one line broken at each school, its points the fitted values by ses
    (ln,) = store.graphs["lines"].panels[0].series
    y = np.asarray(ln.y, dtype=float)
    breaks = np.isnan(y)
    starts = np.flatnonzero(~breaks & np.concatenate([[True], breaks[:-1]]))
    assert len(starts) == 20
    sel = school <= 20
    order = np.lexsort((ses[sel], ids[sel]))
    assert np.allclose(y[~breaks], yhat[sel][order]) and np.allclose(
        np.asarray(ln.x, dtype=float)[~breaks], ses[sel][order])
    # shrinkage: one point per school, and the 45-degree line
    pts, line45 = store.graphs["shrinkage"].panels[0].series
    assert len(pts.x) == len(np.unique(ids)) and np.allclose(line45.y, line45.x)
    # marginsplot: the margins of c.ses##i.sector from the stored model's coefficients
    cross = session.estimates["cross"]
    bx = dict(zip([n for _, n in cross.names[:cross.k_f]], cross.b[:cross.k_f]))
    for sr in [s for s in store.graphs["cross"].panels[0].series if s.kind == "connected"]:
        sec = 1.0 if sr.label.endswith("1") else 0.0
        want = [bx["_cons"] + bx["ses"] * v + sec * (bx["1.sector"] + bx["1.sector#c.ses"] * v)
                for v in (-2, -1, 0, 1, 2)]
        assert np.allclose(sr.x, [-2, -1, 0, 1, 2]) and np.allclose(sr.y, want, rtol=1e-9)
    hist = store.graphs["intercepts"]
    bars = [s for s in hist.panels[0].series if s.kind == "bar"]
    assert bars and abs(float(np.sum(bars[0].y)) * float(np.diff(bars[0].x)[0]) - 1.0) < 1e-6
    md = (tmp_path / "models.md").read_text()
    html = (tmp_path / "models.html").read_text()
    assert "12.637" in md and "2.395" in md and "<table" in html
    kf = session.e.k_f
    b = dict(zip([n for _, n in session.e.names[:kf]], session.e.b[:kf]))   # the empty model
    assert f"{b['_cons']:.3f}" in md
