"""margins after regress and mixed (ML, REML): the numbers against a hand computation with
numpy (average of X_counterfactual b over the estimation sample, delta method J V J' with
e(V)'s fixed block) to 1e-8, and against R's emmeans/emtrends where the definitions coincide
(linear predictions: predictive margins = emmeans(weights = "proportional"); dy/dx =
emtrends). R code: tests/data/margins/margins_reference.R (R 4.2, emmeans 1.8.4-1, lme4).
After regress hlmshell and R fit the same OLS, so the R literals hold to 1e-6; after mixed
they come from lme4's own fit, so they hold to the two optimizers' agreement (2e-5)."""
from __future__ import annotations

import re

import numpy as np
import pytest

from hlmshell import distributions as dist
from hlmshell.session import Session
from tests.session_run import ok, run

REL = 1e-6


def close(a, b, rel=REL):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert np.allclose(a, b, rtol=rel, atol=rel * 1e-3), (a, b)


def session_with(model: str, data: str = "use hsb") -> Session:
    s = Session()
    ok(s, data)
    ok(s, "quietly " + model)
    return s


def rmat(s, name):
    return s.r.matrices[name].values


def fixed_bv(s):
    e = s.e
    k = e.k_f
    b = np.asarray(e.b, dtype=float).reshape(-1)[:k]
    V = np.asarray(e.V, dtype=float).reshape(len(e.names), -1)[:k, :k]
    return b, V


def vals(s, v):
    return np.asarray(s.data.values(v), dtype=float)


# ---- the hsb model  mathach c.ses##i.sector i.female: columns
#      ses 0b.sector 1.sector 0b.sector#co.ses 1.sector#c.ses 0b.female 1.female _cons
def X_hsb(ses, sector, female):
    n = len(ses)
    s1 = (sector == 1).astype(float)
    return np.column_stack([ses, np.zeros(n), s1, np.zeros(n), s1 * ses, np.zeros(n),
                            (female == 1).astype(float), np.ones(n)])


def hand(Xs, b, V):
    """Margins and their SEs from a list of counterfactual designs."""
    J = np.vstack([X.mean(axis=0) for X in Xs])
    m = J @ b
    return m, np.sqrt(np.diag(J @ V @ J.T))


HSB_MODEL = "c.ses##i.sector i.female"


@pytest.fixture(scope="module", params=["regress", "ml", "reml"])
def hsb_fit(request):
    model = {"regress": f"regress mathach {HSB_MODEL}",
             "ml": f"mixed mathach {HSB_MODEL} || id:",
             "reml": f"mixed mathach {HSB_MODEL} || id:, reml"}[request.param]
    return request.param, session_with(model)


def test_margins_sector_by_hand(hsb_fit):
    kind, s = hsb_fit
    ok(s, "margins sector")
    b, V = fixed_bv(s)
    ses, fem = vals(s, "ses"), vals(s, "female")
    n = len(ses)
    m, se = hand([X_hsb(ses, np.full(n, lv), fem) for lv in (0, 1)], b, V)
    close(rmat(s, "b")[0], m, 1e-10)
    close(np.sqrt(np.diag(rmat(s, "V"))), se, 1e-8)
    T = rmat(s, "table")
    crit = dist.t_isf(0.025, 7180) if kind == "regress" else dist.norm_isf(0.025)
    close(T[4], m - crit * se, 1e-8)
    close(T[5], m + crit * se, 1e-8)
    assert s.r.matrices["b"].colnames == ["0.sector", "1.sector"]
    assert s.r.matrices["table"].rownames[:2] == ["b", "se"]


def test_at_numlist_and_dydx_by_hand(hsb_fit):
    _, s = hsb_fit
    b, V = fixed_bv(s)
    ses, sec, fem = vals(s, "ses"), vals(s, "sector"), vals(s, "female")
    n = len(ses)
    ok(s, "margins, at(ses=(-2(2)2))")
    m, se = hand([X_hsb(np.full(n, x), sec, fem) for x in (-2, 0, 2)], b, V)
    close(rmat(s, "b")[0], m, 1e-10)
    close(np.sqrt(np.diag(rmat(s, "V"))), se, 1e-8)
    assert s.r.matrices["b"].colnames == ["1._at", "2._at", "3._at"]
    close(rmat(s, "at")[:, s.r.matrices["at"].colnames.index("ses")], [-2, 0, 2])
    # dy/dx of ses, average over the data: b_ses + b_int * mean(sector == 1)
    ok(s, "margins, dydx(ses)")
    J = np.zeros(8)
    J[0], J[4] = 1.0, np.mean(sec == 1)
    close(rmat(s, "b")[0, 0], J @ b, 1e-10)
    close(np.sqrt(rmat(s, "V")[0, 0]), np.sqrt(J @ V @ J), 1e-8)
    # factor dy/dx: discrete change from the base
    ok(s, "margins, dydx(sector)")
    J = X_hsb(ses, np.ones(n), fem).mean(0) - X_hsb(ses, np.zeros(n), fem).mean(0)
    assert s.r.matrices["b"].colnames == ["0b.sector", "1.sector"]
    close(rmat(s, "b")[0], [0.0, J @ b], 1e-10)
    close(np.sqrt(rmat(s, "V")[1, 1]), np.sqrt(J @ V @ J), 1e-8)


def test_atmeans_over_and_pwcompare_by_hand(hsb_fit):
    _, s = hsb_fit
    b, V = fixed_bv(s)
    ses, sec, fem = vals(s, "ses"), vals(s, "sector"), vals(s, "female")
    ok(s, "margins, atmeans")
    x = np.array([ses.mean(), 0, np.mean(sec == 1), 0, np.mean(sec == 1) * ses.mean(), 0,
                  np.mean(fem == 1), 1.0])
    close(rmat(s, "b")[0, 0], x @ b, 1e-10)
    close(np.sqrt(rmat(s, "V")[0, 0]), np.sqrt(x @ V @ x), 1e-8)
    at = s.r.matrices["at"]
    close(at.values[0, at.colnames.index("1.sector")], np.mean(sec == 1), 1e-12)
    assert s.r.macros["atstats1"].split()[at.colnames.index("ses")] == "mean"
    out = ok(s, "margins female, over(sector)")
    Xs = []
    for g in (0, 1):
        m = sec == g
        for lv in (0, 1):
            Xs.append(X_hsb(ses[m], sec[m], np.full(m.sum(), lv)))
    mm, se = hand(Xs, b, V)
    close(rmat(s, "b")[0], mm, 1e-10)
    close(np.sqrt(np.diag(rmat(s, "V"))), se, 1e-8)
    assert "sector#" in out and "female |" in out
    ok(s, "margins sector, pwcompare(effects)")
    n = len(ses)
    J = X_hsb(ses, np.ones(n), fem).mean(0) - X_hsb(ses, np.zeros(n), fem).mean(0)
    close(rmat(s, "b_vs")[0, 0], J @ b, 1e-10)
    close(np.sqrt(rmat(s, "V_vs")[0, 0]), np.sqrt(J @ V @ J), 1e-8)
    assert s.r.matrices["b_vs"].colnames == ["1vs0.sector"]


# ---- R references (tests/data/margins/margins_reference.R) -----------------------------------
R_REGRESS = {
    "margins sector": ([11.8541270620905, 13.8317828397040], [0.106061454748089, 0.107879585965706],
                       [11.6462153821354, 13.6203070872334]),
    "margins, at(ses=(-2 0 2))": ([7.12848962901909, 12.82892159203118, 18.52935355504327],
                                  [0.2099038987543726, 0.0756245751661508, 0.2082326507728834],
                                  [6.71701618352663, 12.68067515786688, 18.12115624767542]),
    "margins, dydx(ses) at(sector=(0 1))": ([3.39423090034114, 2.29099996841053],
                                            [0.132511466843206, 0.142862939155092],
                                            [3.13446940875951, 2.01094654321848]),
    "margins female, atmeans": ([13.5701177348892, 12.1675990092043], [0.109171102698902, 0.103297542363461],
                       [13.3561102293483, 11.9651054113273]),
}


@pytest.mark.parametrize("line", sorted(R_REGRESS))
def test_regress_against_emmeans(line):
    s = session_with(f"regress mathach {HSB_MODEL}")
    ok(s, line)
    m, se, lo = R_REGRESS[line]
    T = rmat(s, "table")
    close(T[0], m)
    close(T[1], se)
    close(T[4], lo)
    assert s.r.matrices["table"].rownames[2] == "t"
    close(T[6], 7180)


R_MIXED = {
    ("ml", "margins sector"): ([11.7894620662807, 13.9248888404256], [0.219362027276271, 0.242995246388315]),
    ("ml", "margins, dydx(ses) at(sector=(0 1))"): ([2.90897595563029, 1.62509908748190],
                                                    [0.140084706965281, 0.157819104702553]),
    ("ml", "margins, at(ses=(-2 0 2))"): ([8.2903722829832, 12.8421374875354, 17.3939026920877],
                                         [0.268710735888610, 0.163469827248358, 0.264852543225405]),
    ("reml", "margins sector"): ([11.7890895292278, 13.9253390618414], [0.220963751127320, 0.244849345060721]),
    ("reml", "margins, dydx(ses) at(sector=(0 1))"): ([2.90662283798642, 1.62222987928458],
                                                      [0.140169000621282, 0.157926522002976]),
    ("reml", "margins, at(ses=(-2 0 2))"): ([8.29562104548412, 12.84217103525498, 17.38872102502584],
                                           [0.269567657470949, 0.164692283225369, 0.265710500417575]),
}


@pytest.fixture(scope="module")
def mixed_sessions():
    return {"ml": session_with(f"mixed mathach {HSB_MODEL} || id:"),
            "reml": session_with(f"mixed mathach {HSB_MODEL} || id:, reml")}


@pytest.mark.parametrize("method,line", sorted(R_MIXED))
def test_mixed_against_emmeans(mixed_sessions, method, line):
    s = mixed_sessions[method]
    ok(s, line)
    m, se = R_MIXED[(method, line)]
    T = rmat(s, "table")
    close(T[0], m, 2e-5)
    close(T[1], se, 2e-4)
    assert s.r.matrices["table"].rownames[2] == "z"
    assert np.all(np.isnan(T[6]))


# bodyweight (tests/data/resid/bodyweight.csv): mixed weight c.time##i.diet || rat: (ML)
R_BODY = {
    "margins diet": ([263.715909090987, 484.704545454528, 525.795454545442],
                     [11.6831291934701, 16.5224397563609, 16.5224397563609]),
    "margins, dydx(time) at(diet=(1 2 3))": ([0.359639113343510, 0.965478270364740, 0.657976632452527],
                                             [0.0347640004869896, 0.0491637209710457, 0.0491637209710457]),
}


@pytest.fixture(scope="module")
def body():
    return session_with("mixed weight c.time##i.diet || rat:",
                        "import delimited using tests/data/resid/bodyweight.csv, clear")


@pytest.mark.parametrize("line", sorted(R_BODY))
def test_bodyweight_against_emmeans(body, line):
    ok(body, line)
    m, se = R_BODY[line]
    close(rmat(body, "b")[0], m, 2e-5)
    close(np.sqrt(np.diag(rmat(body, "V"))), se, 2e-4)


def test_bodyweight_by_hand(body):
    s = body
    b, V = fixed_bv(s)
    names = [n for _, n in s.e.names[:s.e.k_f]]
    t = vals(s, "time")

    def X(time, diet):
        cols = []
        for nm in names:
            col = np.ones(len(time))
            for p in nm.split("#"):
                lv, _, var = p.partition(".")
                if var == "" and lv == "time":
                    col = col * time
                elif lv.rstrip("bo").isdigit():
                    col = col * ((time if var == "time" else diet) == int(lv.rstrip("bo")))
                elif var == "time":
                    col = col * time
                elif nm == "_cons":
                    pass
            cols.append(col)
        return np.column_stack(cols)

    ok(s, "margins diet, at(time=(1 22 44))")
    Xs = [X(np.full(len(t), tt), np.full(len(t), dd)) for tt in (1, 22, 44) for dd in (1, 2, 3)]
    m, se = hand(Xs, b, V)
    close(rmat(s, "b")[0], m, 1e-10)
    close(np.sqrt(np.diag(rmat(s, "V"))), se, 1e-8)
    assert s.r.matrices["b"].colnames[:2] == ["1._at#1.diet", "1._at#2.diet"]


# ---- continuous x continuous interactions and elasticities ------------------------------------
def test_continuous_interaction_and_elasticities():
    s = session_with("mixed mathach c.ses##c.meanses female || id:")
    b, V = fixed_bv(s)
    names = [n for _, n in s.e.names[:s.e.k_f]]
    assert names == ["ses", "meanses", "c.ses#c.meanses", "female", "_cons"]
    ses, mses, fem = vals(s, "ses"), vals(s, "meanses"), vals(s, "female")
    X = np.column_stack([ses, mses, ses * mses, fem, np.ones(len(ses))])
    D = np.column_stack([np.ones(len(ses)), 0 * ses, mses, 0 * ses, 0 * ses])
    y, d = X @ b, D @ b
    for opt, vals_, J in (
            ("dydx", d, D),
            ("eyex", d * ses / y, D * (ses / y)[:, None] - (d * ses / y ** 2)[:, None] * X),
            ("dyex", d * ses, D * ses[:, None]),
            ("eydx", d / y, D / y[:, None] - (d / y ** 2)[:, None] * X)):
        ok(s, f"margins, {opt}(ses)")
        j = J.mean(0)
        close(rmat(s, "b")[0, 0], vals_.mean(), 1e-9)
        close(np.sqrt(rmat(s, "V")[0, 0]), np.sqrt(j @ V @ j), 1e-7)
        assert s.r.macros["derivatives"] == {"dydx": "dy/dx", "eyex": "ey/ex", "dyex": "dy/ex",
                                             "eydx": "ey/dx"}[opt]
    # several at() options and (median)/(p50)
    ok(s, "margins, at(meanses=(-1 1)) at((median) meanses) dydx(ses)")
    med = np.percentile(mses, 50, method="inverted_cdf")
    close(rmat(s, "b")[0], b[0] + b[2] * np.array([-1, 1, med]), 1e-10)


# ---- layout ----------------------------------------------------------------------------------
def test_layout_after_mixed():
    s = session_with(f"mixed mathach {HSB_MODEL} || id:")
    out = ok(s, "margins, at(ses=(-2(1)2))")
    lines = out.splitlines()
    assert lines[1].startswith("Predictive margins") and lines[1].endswith("Number of obs = 7,185")
    assert len(lines[1]) == 78
    assert "Expression: Linear prediction, fixed portion, predict()" in lines
    assert "1._at: ses = -2" in lines and "3._at: ses =  0" in lines
    assert "             |            Delta-method" in lines
    assert "             |     Margin   std. err.      z    P>|z|     [95% conf. interval]" in lines
    assert "         _at |" in lines
    out = ok(s, "margins, dydx(ses female)")
    assert "Average marginal effects" in out and "dy/dx wrt:  ses 1.female" in out
    assert "Note: dy/dx for factor levels is the discrete change from the base level." in out
    out = ok(s, "margins, atmeans noatlegend predict(xb)")
    assert "Adjusted predictions" in out and "At:" not in out
    assert "Expression: Linear prediction, fixed portion, predict(xb)" in out
    out = ok(s, "margins, atmeans")
    assert "At: ses      = " in out and "(mean)" in out


def test_layout_after_regress_and_post():
    s = session_with(f"regress mathach {HSB_MODEL}")
    out = ok(s, "margins sector, post")
    assert "Model VCE: OLS" in out and "Expression: Linear prediction, predict()" in out
    assert "P>|t|" in out
    assert s.e.cmd == "margins" and s.e.macros["cmd"] == "margins"
    close(np.asarray(s.e.b).reshape(-1), [11.8541270620905, 13.8317828397040])
    assert [n for _, n in s.e.names] == ["0.sector", "1.sector"]
    assert s.e.margins.at_names[0] == "ses"


def test_nose_and_level():
    s = session_with(f"regress mathach {HSB_MODEL}")
    out = ok(s, "margins, nose")
    assert "std. err." not in out
    ok(s, "margins sector, level(90)")
    T = rmat(s, "table")
    close(T[7], dist.t_isf(0.05, 7180))


# ---- errors: Stata's codes, nothing changed ----------------------------------------------------
@pytest.mark.parametrize("line,rc", [
    ("margins ses", 322), ("margins nosuch", 111), ("margins, dydx(nosuch)", 111),
    ("margins, dydx(minority)", 322), ("margins, at(minority=1)", 322),
    ("margins, at(ses=(1 2)", 198), ("margins, at(ses)", 198), ("margins, predict(fitted)", 498),
    ("margins, predict(reffects)", 498), ("margins, vce(uncondx)", 198),
    ("margins, nosuchopt", 198), ("margins, level(5)", 198), ("margins if ses > 100", 2000),
    ("margins, eyex(sector)", 198), ("margins, dydx(ses) eyex(ses)", 198),
    ("margins, at((foo) ses)", 198), ("margins c.ses", 198),
    ("margins, expression(predict(fitted))", 498), ("margins, expression(nosuch + xb())", 111),
    ("margins, expression(xb()) predict(xb)", 198), ("margins, expression(xb() +)", 198),
    ("margins r.sector, at(ses=(0 1))", 198), ("margins r.sector, pwcompare", 198),
    ("margins, contrast", 198), ("margins r.ses", 322),
])
def test_errors_leave_session_alone(line, rc):
    s = session_with(f"mixed mathach {HSB_MODEL} || id:")
    ok(s, "margins sector")
    before_r = dict(s.r.matrices)
    before_e = s.e
    got, out = run(s, line)
    assert got == rc, out
    assert s.r.matrices.keys() == before_r.keys()
    assert s.r.matrices["b"] is before_r["b"]
    assert s.e is before_e


def test_no_estimates():
    s = Session()
    ok(s, "use hsb")
    assert run(s, "margins")[0] == 301


# ---- expression() --------------------------------------------------------------------------
def test_expression_by_hand():
    s = session_with(f"mixed mathach {HSB_MODEL} || id:")
    b, V = fixed_bv(s)
    ses, sec, fem = vals(s, "ses"), vals(s, "sector"), vals(s, "female")
    n = len(ses)
    out = ok(s, "margins sector, expression(exp(predict(xb)/10))")
    assert "Expression: exp(predict(xb)/10)" in out
    m, se = [], []
    for lv in (0, 1):
        X = X_hsb(ses, np.full(n, lv), fem)
        y = np.exp(X @ b / 10)
        j = (y[:, None] * X / 10).mean(0)
        m.append(y.mean())
        se.append(np.sqrt(j @ V @ j))
    close(rmat(s, "b")[0], m, 1e-9)
    close(np.sqrt(np.diag(rmat(s, "V"))), se, 1e-6)
    assert s.r.macros["expression"] == "exp(predict(xb)/10)"
    # the average marginal effect of ses on exp(xb/10): mean(exp(xb/10)/10 * dxb/dses)
    ok(s, "margins, expression(exp(xb()/10)) dydx(ses)")
    X = X_hsb(ses, sec, fem)
    D = np.zeros_like(X)
    D[:, 0], D[:, 4] = 1.0, (sec == 1)
    y, d = np.exp(X @ b / 10), D @ b
    j = (y[:, None] * (D / 10 + (d / 100)[:, None] * X)).mean(0)
    close(rmat(s, "b")[0, 0], np.mean(y * d / 10), 1e-6)
    close(np.sqrt(rmat(s, "V")[0, 0]), np.sqrt(j @ V @ j), 1e-5)


def test_post_then_replay_lincom():
    s = session_with(f"regress mathach {HSB_MODEL}")
    first = ok(s, "margins sector, post")
    assert ok(s, "margins") == first
    assert run(s, "margins sector")[0] == 198
    out = ok(s, "lincom 1.sector - 0.sector")
    assert "1.977656" in out
    assert s.e.margins.names == ["0.sector", "1.sector"]


def test_several_covariates_in_one_at():
    s = session_with(f"mixed mathach {HSB_MODEL} || id:")
    b, V = fixed_bv(s)
    n = s.data.n
    out = ok(s, "margins, at(ses=(-1 1) female=(0 1))")
    lines = out.splitlines()
    i = lines.index("1._at: ses    = -1")
    assert lines[i + 1] == "       female =  0"
    assert lines[i + 2] == "2._at: ses    = -1" and lines[i + 3] == "       female =  1"
    sec = vals(s, "sector")
    Xs = [X_hsb(np.full(n, x), sec, np.full(n, f)) for x in (-1, 1) for f in (0, 1)]
    m, _ = hand(Xs, b, V)
    close(rmat(s, "b")[0], m, 1e-10)
    assert "Predictive margins" in out          # sector is as observed
    out = ok(s, "margins, at(ses=1 female=1 sector=0)")
    assert "Adjusted predictions" in out and "At: ses    = 1" in out


# ---- contrasts ---------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["regress", "mixed"])
def test_contrasts_by_hand(model):
    s = Session()
    ok(s, "use hsb")
    ok(s, "generate sz = 1 + (size > 1000) + (size > 1500)")
    tail = " || id:" if model == "mixed" else ""
    ok(s, f"quietly {model} mathach c.ses##i.sector i.female i.sz{tail}")
    b, V = fixed_bv(s)
    names = [n for _, n in s.e.names[:s.e.k_f]]
    ses, sec, fem = vals(s, "ses"), vals(s, "sector"), vals(s, "female")
    n = len(ses)

    def X(sz):
        cols = {"ses": ses, "1.sector": sec == 1, "1.sector#c.ses": (sec == 1) * ses,
                "1.female": fem == 1, "2.sz": np.full(n, sz == 2), "3.sz": np.full(n, sz == 3),
                "_cons": np.ones(n)}
        return np.column_stack([np.asarray(cols.get(nm, np.zeros(n)), dtype=float) for nm in names])

    out = ok(s, "margins r.sz")
    L = np.vstack([X(2).mean(0) - X(1).mean(0), X(3).mean(0) - X(1).mean(0)])
    c, Vc = L @ b, L @ V @ L.T
    close(rmat(s, "b")[0], c, 1e-9)
    close(rmat(s, "V"), Vc, 1e-8)
    assert s.r.matrices["b"].colnames == ["r2vs1.sz", "r3vs1.sz"]
    chi2 = float(c @ np.linalg.solve(Vc, c))
    if model == "regress":
        close(rmat(s, "F")[0, 0], chi2 / 2, 1e-8)
        close(rmat(s, "p")[0, 0], dist.f_sf(chi2 / 2, 2, s.e.scalars["df_r"]), 1e-7)
        assert "Denominator |" in out
    else:
        close(rmat(s, "chi2")[0, 0], chi2, 1e-8)
        close(rmat(s, "p")[0, 0], dist.chi2_sf(chi2, 2), 1e-7)
    assert "Contrasts of predictive margins" in out and "   (2 vs 1)  |" in out


def test_at_statistics():
    s = session_with(f"mixed mathach {HSB_MODEL} || id:")
    b, V = fixed_bv(s)
    ses, sec, fem = vals(s, "ses"), vals(s, "sector"), vals(s, "female")
    n = len(ses)
    for spec, x in (("(asobserved) _all (p50) ses", np.percentile(ses, 50, method="inverted_cdf")),
                    ("(mean) _continuous (p25) ses", np.percentile(ses, 25, method="inverted_cdf")),
                    ("(min) ses", ses.min()), ("(max) ses", ses.max())):
        out = ok(s, f"margins, at({spec})")
        m, se = hand([X_hsb(np.full(n, x), sec, fem)], b, V)
        close(rmat(s, "b")[0], m, 1e-10)
        close(np.sqrt(rmat(s, "V")[0, 0]), se, 1e-8)
        assert out.count("At: ses") == 1


def test_over_atmeans_legend_shows_each_groups_means():
    """margins, over(sector) atmeans: each group's margin is at that group's means, and the
    at legend lists the means group by group (not one group's means for all)."""
    s = session_with(f"regress mathach {HSB_MODEL}")
    b, V = fixed_bv(s)
    ses, sec, fem = vals(s, "ses"), vals(s, "sector"), vals(s, "female")
    out = ok(s, "margins, over(sector) atmeans")
    Xs = []
    for g in (0, 1):
        m = sec == g
        Xs.append(np.array([[ses[m].mean(), 0, g, 0, g * ses[m].mean(), 0,
                             np.mean(fem[m] == 1), 1.0]]))
    mm, se = hand(Xs, b, V)
    close(rmat(s, "b")[0], mm, 1e-10)
    close(np.sqrt(np.diag(rmat(s, "V"))), se, 1e-8)
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("At: "))
    block = []
    for ln in lines[start:]:
        if not ln.strip():
            break
        block.append(ln)
    num = lambda v: re.sub(r"^(-?)0\.", r"\1.", f"{v:.7g}")   # noqa: E731  (%9.0g here)
    heads = [ln.split(":", 1)[-1].strip() if ln.startswith("At:") else ln.strip()
             for ln in block if ln.strip().endswith(".sector")]
    assert heads == ["0.sector", "1.sector"]
    for g in (0, 1):
        m = sec == g
        lo = block.index(next(ln for ln in block if ln.strip().endswith(f"{g}.sector")))
        part = block[lo + 1: lo + 4]
        assert re.fullmatch(rf"\s+ses\s+= +{re.escape(num(ses[m].mean()))} \(mean\)", part[0])
        assert re.fullmatch(rf"\s+0\.female = +{re.escape(num(np.mean(fem[m] == 0)))} \(mean\)",
                            part[1])
        assert re.fullmatch(rf"\s+1\.female = +{re.escape(num(np.mean(fem[m] == 1)))} \(mean\)",
                            part[2])
    assert not any("sector =" in ln for ln in block)


def test_asobserved_scenario_has_its_legend_line():
    """Several at() with one all as observed: its row is named in the legend too."""
    s = session_with(f"regress mathach {HSB_MODEL}")
    b, _ = fixed_bv(s)
    ses, sec, fem = vals(s, "ses"), vals(s, "sector"), vals(s, "female")
    out = ok(s, "margins, at((mean) ses) at((asobserved) ses)")
    lines = out.splitlines()
    assert "2._at: (asobserved)" in lines
    assert lines.index("2._at: (asobserved)") == next(
        i for i, ln in enumerate(lines) if ln.startswith("1._at: ses")) + 1
    close(rmat(s, "b")[0, 1], X_hsb(ses, sec, fem).mean(0) @ b, 1e-10)


def test_r_margins_is_the_marginlist():
    """r(margins) holds the marginlist as typed terms (not _at), r(over) the over() list."""
    s = session_with(f"regress mathach {HSB_MODEL}")
    ok(s, "margins sector, at(ses=(-2 2))")
    assert s.r.macros["margins"] == "sector" and "over" not in s.r.macros
    ok(s, "margins sector#female")
    assert s.r.macros["margins"] == "sector#female"
    ok(s, "margins, over(sector) at(ses=1)")
    assert "margins" not in s.r.macros and s.r.macros["over"] == "sector"
    ok(s, "margins female, over(sector)")
    assert s.r.macros["margins"] == "female" and s.r.macros["over"] == "sector"
