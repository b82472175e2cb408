"""What a sweep of the Stata 17 [ME] manual's example lines found missing or broken, fixed:
estat icc after mecloglog, meologit and meoprobit (latent residual variance pi^2/6, pi^2/3,
1), ... The variances are checked against lme4::glmer / ordinal::clmm fits
(tests/data/me_manual/make_icc_reference.R), the ICCs recomputed from them by hand."""
import json
import math
import os

import pytest

import hlmshell
from hlmshell.data.dta import read_dta
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from session_run import csv_session, ok, run

HERE = os.path.dirname(__file__)
REF = json.load(open(os.path.join(HERE, "data", "me_manual", "icc_reference.json")))


def _icc_check(s, var, c, rel):
    names = [f"{e}:{n}" for e, n in s.e.names]
    j = names.index("/:var(_cons[district])")
    v, sv = float(s.e.b[j]), math.sqrt(s.e.V[j, j])
    assert v == pytest.approx(var, rel=rel)
    out = ok(s, "estat icc")
    assert "Residual intraclass correlation" in out and "district |" in out
    assert s.r.scalars["icc2"] == pytest.approx(var / (var + c), rel=rel)
    assert s.r.scalars["se2"] == pytest.approx(sv * c / (v + c) ** 2, rel=1e-10)
    assert s.r.macros["label2"] == "district"
    lo, hi = s.r.matrices["ci2"][0]
    assert lo < s.r.scalars["icc2"] < hi


def test_estat_icc_after_mecloglog_uses_the_extreme_value_variance():
    s = csv_session("tests/data/glmm/contraception.csv")
    ok(s, "mecloglog use age urban || district:, intmethod(mcaghermite) intpoints(25) nolog")
    assert s.e.scalars["ll"] == pytest.approx(REF["cloglog_ll"], rel=1e-9)
    _icc_check(s, REF["cloglog_var"], math.pi ** 2 / 6, 1e-4)


def test_estat_icc_after_ordinal_models():
    s = csv_session("tests/data/glmm/ordinal.csv")
    ok(s, "meoprobit y age urban || district:, intmethod(laplace) nolog")
    assert s.e.scalars["ll"] == pytest.approx(REF["oprobit_ll"], rel=1e-9)
    _icc_check(s, REF["oprobit_var"], 1.0, 1e-4)
    ok(s, "meologit y age urban || district:, intmethod(laplace) nolog")
    _icc_check(s, 0.3701014586, math.pi ** 2 / 3, 1e-4)    # clmm's, test_me_commands.py
    ok(s, "meologit y age urban || district: age, intmethod(laplace) nolog")
    out = ok(s, "estat icc")
    assert "Conditional intraclass correlation" in out
    rc, _ = run(s, "estat icc, level(200)")
    assert rc == 198


def test_noheader_and_nogroup_after_me_commands():
    """[ME] meglm's display options: nogroup drops the group lines of the header, noheader all
    of it; both also on replay, and the table is the same."""
    s = csv_session("tests/data/glmm/contraception.csv")
    full = ok(s, "melogit use age urban || district:, nolog")
    b = s.e.b.copy()
    out = ok(s, "melogit use age urban || district:, nolog nogroup")
    assert "Group variable" not in out and "Obs per group" not in out
    assert "Integration method: mvaghermite" in out and "Log likelihood" in out
    assert (s.e.b == b).all()
    tail = full[full.index("-------"):]
    assert out[out.index("-------"):] == tail
    out = ok(s, "melogit, noheader")
    assert "Number of obs" not in out and "Integration method" not in out
    assert out.strip().startswith("-------") and out[out.index("-------"):] == tail
    out = ok(s, "melogit use age urban || district: || _all: R.urban, nolog nogr intmethod(laplace)")
    assert "No. of" not in out and "Integration method: laplace" in out
    rc, out = run(s, "melogit use age urban || district:, nolog noheaderx")
    assert rc == 198


def _col(s, name):
    import numpy as np
    return np.asarray(s.data.values(name), dtype=float)


def test_predict_density_and_distribution():
    """[ME] meglm postestimation: density and distribution are f(y) and F(y) at the observed
    outcome given the same linear predictor as mu (EB means, or fixedonly); checked against
    scipy's pmf/cdf at the predicted means, the ordinal ones against predict pr's categories."""
    import numpy as np
    from scipy import stats
    s = csv_session("tests/data/glmm/contraception.csv")
    ok(s, "melogit use age urban || district:, nolog")
    for cond in ("", " conditional(fixedonly)"):
        for v in ("f", "F", "p"):
            run(s, f"capture drop {v}")
        ok(s, f"predict double f, density{cond}")
        ok(s, f"predict double F, distribution{cond}")
        ok(s, f"predict double p, pr{cond}")
        y, p = _col(s, "use"), _col(s, "p")
        assert np.allclose(_col(s, "f"), np.where(y == 1, p, 1 - p), rtol=1e-12)
        assert np.allclose(_col(s, "F"), np.where(y == 1, 1.0, 1 - p), rtol=1e-12)
    assert "Predicted density, fixed portion only" in ok(s, "describe f")
    rc, _ = run(s, "predict g, density marginal")
    assert rc == 198 and "g" not in s.data.names
    s = Session(out=Capture())
    s.data = read_dta(os.path.join(os.path.dirname(hlmshell.__file__), "sample_data", "melanoma.dta"))
    ok(s, "menbreg deaths uvb || region:, exposure(expected) intmethod(laplace) nolog")
    ok(s, "predict double m, mu")
    ok(s, "predict double fn, density")
    ok(s, "predict double Fn, distribution")
    names = [n for _, n in s.e.names]
    alpha = math.exp(float(s.e.b[names.index("lnalpha")]))
    mu, y = _col(s, "m"), _col(s, "deaths")
    r = 1 / alpha
    assert np.allclose(_col(s, "fn"), stats.nbinom.pmf(y, r, r / (r + mu)), rtol=1e-10)
    assert np.allclose(_col(s, "Fn"), stats.nbinom.cdf(y, r, r / (r + mu)), rtol=1e-10)
    s = csv_session("tests/data/glmm/ordinal.csv")
    ok(s, "meologit y age urban || district:, nolog intmethod(laplace)")
    ok(s, "predict double q*, pr")
    ok(s, "predict double fo, density")
    ok(s, "predict double Fo, distribution")
    P = np.column_stack([_col(s, f"q{k}") for k in (1, 2, 3)])
    k = _col(s, "y").astype(int) - 1
    rows = np.arange(len(k))
    assert np.allclose(_col(s, "fo"), P[rows, k], rtol=1e-12)
    assert np.allclose(_col(s, "Fo"), np.cumsum(P, axis=1)[rows, k], rtol=1e-12)
    ok(s, "meologit y age urban || district: || _all: R.urban, nolog intmethod(laplace)")
    ok(s, "predict f3, density")
    assert np.all((_col(s, "f3") > 0) & (_col(s, "f3") < 1))


def test_unidentified_exchangeable_residuals_do_not_crash():
    """[ME] me: a random intercept with exchangeable residuals is not identified; the fit
    ends with huge standard errors, whose log-scale interval for a variance ran past a
    double (OverflowError, r(9999)); the upper bound is now missing, as Stata shows it."""
    from hlmshell.engine.residuals import _interval
    lo, hi = _interval("log", 7.6, 9691.0, 1.96)
    assert lo == 0.0 and hi == math.inf
    assert _interval("logit", 0.5, 1e4, 1.96) == pytest.approx((0.0, 1.0))
    s = Session(out=Capture())
    for line in ("set obs 432", "set seed 1", "generate id = ceil(_n/9)",
                 "generate week = _n - 9*(id - 1)",
                 "bysort id (week): generate u = 4*rnormal() if _n == 1", "by id: replace u = u[1]",
                 "generate weight = 19 + 6*week + u + rnormal()"):
        ok(s, line)
    out = ok(s, "mixed weight week || id:, residuals(exchangeable) nolog")
    var_e = next(ln for ln in out.splitlines() if "var(e) |" in ln).split()
    assert var_e[-1] == "." and float(var_e[-3]) > 100      # se in the thousands


def test_estat_wcorrelation_list():
    """[ME] estat wcorrelation, list: the cluster's observations (outcome, model variables,
    level) listed with the data's obs numbers, the same numbers that label the matrices."""
    s = Session(out=Capture())
    for line in ("set obs 60", "set seed 3", "generate id = ceil(_n/4)", "generate t = _n - 4*(id - 1)",
                 "bysort id (t): generate u = rnormal() if _n == 1", "by id: replace u = u[1]",
                 "generate y = 1 + .5*t + u + rnormal()", "generate g = mod(id, 2)"):
        ok(s, line)
    ok(s, "mixed y t i.g || id:, nolog")
    out = ok(s, "estat wcorrelation, at(id=3) list")
    lines = out.splitlines()
    head = next(ln for ln in lines if "|" in ln and " id |" in ln)
    assert head.split("|")[1].split() == ["y", "t", "g", "id"]
    listed = [ln.split(".")[0].strip() for ln in lines if ln.strip()[:1].isdigit() and ". |" in ln]
    assert listed == ["9", "10", "11", "12"]
    assert list(s.r.matrices["Corr"].rownames) == listed
    assert out.index("+----") < out.index("Standard deviations and correlations")
    rc, _ = run(s, "estat wcorrelation, lis")
    assert rc == 198


def _gh_marginal(fn, var, points=80):
    """E over u ~ N(0, var) of fn(u) by a plain Gauss-Hermite rule (the test's own)."""
    import numpy as np
    x, w = np.polynomial.hermite.hermgauss(points)
    u = math.sqrt(2 * var) * x
    return sum(wk * fn(uk) for wk, uk in zip(w / math.sqrt(math.pi), u))


def test_mestreg_predict_marginal():
    """[ME] mestreg postestimation, predict ..., marginal: S, f, h and the mean integrated
    over the random intercept, the median where the marginal S is 1/2; checked by an
    80-point Gauss-Hermite integral of the Weibull PH and lognormal formulas from e(b)."""
    import numpy as np
    s = csv_session("tests/data/mestreg/kidney.csv")
    ok(s, "stset time, failure(status)")
    ok(s, "mestreg age female || id:, distribution(weibull) nolog")
    for st in ("surv", "density", "hazard", "median", "mean"):
        ok(s, f"predict double {st}_m, {st} marginal")
    b = dict(zip([n for _, n in s.e.names], np.asarray(s.e.b, dtype=float)))
    var = b["var(_cons[id])"]
    p = math.exp(b["ln_p"])
    xb = b["_cons"] + b["age"] * _col(s, "age") + b["female"] * _col(s, "female")
    t = _col(s, "_t")

    def S(u, tt=t):
        return np.exp(-np.exp(xb + u) * tt ** p)

    def f(u):
        return np.exp(xb + u) * p * t ** (p - 1) * S(u)
    Sm, fm = _gh_marginal(S, var), _gh_marginal(f, var)
    assert np.allclose(_col(s, "surv_m"), Sm, rtol=1e-7)
    assert np.allclose(_col(s, "density_m"), fm, rtol=1e-7)
    assert np.allclose(_col(s, "hazard_m"), fm / Sm, rtol=1e-5)   # 30 nodes vs 80 in the tail
    from scipy.special import gamma
    mean = _gh_marginal(lambda u: np.exp(-(xb + u) / p) * gamma(1 + 1 / p), var)
    assert np.allclose(_col(s, "mean_m"), mean, rtol=1e-6)
    med = _col(s, "median_m")
    assert np.allclose(_gh_marginal(lambda u: S(u, med), var), 0.5, atol=1e-7)
    assert "Predicted median _t, marginal" in ok(s, "describe median_m")
    for bad in ("predict z, eta marginal", "predict z, surv marginal conditional(fixedonly)",
                "predict z, reffects marginal"):
        rc, _ = run(s, bad)
        assert rc == 198 and "z" not in s.data.names
    ok(s, "mestreg age female || id:, distribution(lognormal) nolog")
    ok(s, "predict double md, median marginal")
    b = dict(zip([n for _, n in s.e.names], np.asarray(s.e.b, dtype=float)))
    from scipy.stats import norm
    xb = b["_cons"] + b["age"] * _col(s, "age") + b["female"] * _col(s, "female")
    sig = math.exp(b["logs"])
    Sm = _gh_marginal(lambda u: norm.sf((np.log(_col(s, "md")) - xb - u) / sig), b["var(_cons[id])"])
    assert np.allclose(Sm, 0.5, atol=1e-7)


def test_me_table_display_options():
    """coeflegend: every shown row's _b[] name, which display then reads back as e(b)'s
    value; vsquish drops the blank separator rows, noomitted the omitted ones, notable the
    table; all on replay too."""
    import re
    s = csv_session("tests/data/glmm/contraception.csv")
    ok(s, "generate age2 = 2*age")
    out = ok(s, "melogit use i.urban##c.age age2 || district:, nolog coeflegend")
    assert "| Coefficient  Legend" in out and "Std. err." not in out
    legends = re.findall(r"(_b\[\S*\])\s*$", out, flags=re.M)
    assert "_b[/var(_cons[district])]" in legends and "_b[o.age2]" in legends
    assert "_b[1.urban#c.age]" in legends and not any("0b." in x for x in legends)
    b = dict(zip([f"{e}:{n}" for e, n in s.e.names], s.e.b))
    for lg in legends:
        val = float(ok(s, f"display %20.0g {lg}").strip())
        key = lg[3:-1]
        key = key[1:] if key.startswith("/") else key
        eq = "/" if lg.startswith("_b[/") else s.e.names[0][0]
        assert val == pytest.approx(float(b[f"{eq}:{key}"]), rel=1e-6)
    out = ok(s, "melogit, coeflegend baselevels")
    assert "_b[0b.urban]" in out
    full = ok(s, "melogit")
    assert "             |\n" in full and "(omitted)" in full
    out = ok(s, "melogit, vsquish noomitted")
    assert "             |\n" not in out and "(omitted)" not in out and "urban#c.age |" in out
    out = ok(s, "melogit, notable")
    assert "Coefficient" not in out and "Number of obs" in out
    rc, _ = run(s, "melogit, coeflegendx")
    assert rc == 198


def test_mixed_vsquish_noomitted():
    s = Session(out=Capture())
    for line in ("set obs 80", "set seed 5", "generate id = ceil(_n/4)", "generate x = rnormal()",
                 "generate g = mod(_n, 2)", "generate x2 = 2*x", "generate y = x + g + rnormal()"):
        ok(s, line)
    full = ok(s, "mixed y i.g##c.x x2 || id:, nolog")
    fe = full[:full.index("Random-effects")]
    assert "\n             |\n" in fe and "(omitted)" in fe
    for line in ("mixed y i.g##c.x x2 || id:, nolog vsquish noomitted", "mixed, vsquish noomitted"):
        out = ok(s, line)
        fe = out[:out.index("Random-effects")]
        assert "\n             |\n" not in fe and "(omitted)" not in fe and "g#c.x |" in fe
        assert out[out.index("Random-effects"):] == full[full.index("Random-effects"):]
    rc, _ = run(s, "mixed, vsquishx")
    assert rc == 198
    rc, _ = run(s, "melogit g x || id:, nolog dnumerical")
    assert rc == 0


@pytest.mark.parametrize("line", ["predict z, hazard", "predict z, ir", "predict z, cooksd",
                                  "predict z, median", "predict z, ystar(0,1)", "predict z, stdf"])
def test_predict_refuses_other_commands_statistics_after_melogit(line):
    """predict's shared syntax knows other commands' statistics; after melogit they were
    taken silently as the default (the mean), Stata refuses them with r(198)."""
    s = csv_session("tests/data/glmm/contraception.csv")
    ok(s, "melogit use age urban || district:, nolog intmethod(laplace)")
    rc, out = run(s, line)
    assert rc == 198 and "not allowed" in out and "z" not in s.data.names


def test_predict_refusals_after_mixed_and_mestreg_distribution():
    import numpy as np
    s = csv_session("tests/data/mestreg/kidney.csv")
    ok(s, "mixed time age || id:, nolog")
    for bad in ("density", "hazard", "ir", "mu"):
        rc, _ = run(s, f"predict z, {bad}")
        assert rc == 198 and "z" not in s.data.names
    ok(s, "stset time, failure(status)")
    ok(s, "mestreg age female || id:, distribution(weibull) nolog")
    ok(s, "predict double S, surv")
    ok(s, "predict double F, distribution")
    ok(s, "predict double Fm, distribution marginal")
    ok(s, "predict double Sm, surv marginal")
    assert np.allclose(_col(s, "F"), 1 - _col(s, "S"), atol=1e-14)
    assert np.allclose(_col(s, "Fm"), 1 - _col(s, "Sm"), atol=1e-14)
    for bad in ("pr", "mu", "ir", "ystar(0,1)"):
        rc, _ = run(s, f"predict z, {bad}")
        assert rc == 198 and "z" not in s.data.names


def test_continuous_factorial_with_itself_has_one_main_effect():
    """c.uv##c.uv ([ME] mepoisson, menbreg) is uv and c.uv#c.uv: the main effect once, not a
    second, omitted copy; c.x##c.x##c.x adds the cube. Coefficients against numpy lstsq."""
    import numpy as np
    s = Session(out=Capture())
    for line in ("set obs 60", "set seed 11", "generate x = rnormal()",
                 "generate y = 1 + x - .5*x^2 + rnormal()"):
        ok(s, line)
    out = ok(s, "regress y c.x##c.x")
    assert "(omitted)" not in out
    assert [n for _, n in s.e.names] == ["x", "c.x#c.x", "_cons"]
    x, y = _col(s, "x"), _col(s, "y")
    beta = np.linalg.lstsq(np.column_stack([x, x * x, np.ones_like(x)]), y, rcond=None)[0]
    assert np.allclose(np.asarray(s.e.b, dtype=float).ravel(), beta, rtol=1e-9)
    ok(s, "regress y c.x##c.x##c.x")
    assert [n for _, n in s.e.names] == ["x", "c.x#c.x", "c.x#c.x#c.x", "_cons"]
    ok(s, "generate id = ceil(_n/6)")
    ok(s, "mixed y c.x##c.x || id:, nolog")
    assert [n for _, n in s.e.names][:3] == ["x", "c.x#c.x", "_cons"]


def test_predict_intpoints_of_the_eb_means():
    """[ME] meglm postestimation, predict ..., intpoints(#): the empirical Bayes means with #
    quadrature points; after a Laplace fit the default is the modes, with intpoints(30) the
    means, checked against a dense-grid posterior mean of each district's intercept."""
    import numpy as np
    s = csv_session("tests/data/glmm/contraception.csv")
    ok(s, "melogit use age urban || district:, intmethod(laplace) nolog")
    ok(s, "predict double m30, reffects intpoints(30)")
    ok(s, "predict double mode, reffects")
    b = dict(zip([n for _, n in s.e.names], np.asarray(s.e.b, dtype=float)))
    sd = math.sqrt(b["var(_cons[district])"])
    xb = b["_cons"] + b["age"] * _col(s, "age") + b["urban"] * _col(s, "urban")
    y, dist_ = _col(s, "use"), _col(s, "district")
    u = np.linspace(-8 * sd, 8 * sd, 4001)
    m30, mode = _col(s, "m30"), _col(s, "mode")
    for j in np.unique(dist_)[:12]:
        rows = dist_ == j
        eta = xb[rows][:, None] + u[None, :]
        ll = (y[rows][:, None] * eta - np.logaddexp(0, eta)).sum(0) - 0.5 * (u / sd) ** 2
        w = np.exp(ll - ll.max())
        post = float((u * w).sum() / w.sum())
        assert m30[rows][0] == pytest.approx(post, abs=1e-6)
        assert abs(mode[rows][0] - u[np.argmax(ll)]) < 2e-2
    for bad in ("intpoints(0)", "intpoints(200)"):
        rc, _ = run(s, f"predict z, reffects {bad}")
        assert rc == 198 and "z" not in s.data.names
