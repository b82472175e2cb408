"""bootstrap and jackknife against independent computations.

The bootstrap's samples are replayed from the seed (numpy's PCG64 after `set seed`, one
rng.integers(0, n, n) draw per replication; whole clusters drawn as rng.integers(0, G, G) over
the clusters in sorted order), the statistics recomputed with numpy on those rows, and the
summaries (standard error, percentile and bias-corrected intervals) recomputed from the
saved replicates with numpy's averaged-inverted-cdf percentiles and scipy's normal. The SE of
a mean is also checked against the analytic formula within Monte Carlo error. Jackknife SEs
equal s/sqrt(n) for a mean exactly, and a direct leave-one-out numpy computation for
regression coefficients (observations and clusters)."""
import numpy as np
import pytest
from scipy import stats

from hlmshell.data.dta import read_dta
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.hsb_fixtures import HSB


@pytest.fixture(scope="module")
def hsb():
    d = read_dta(HSB)
    return {n: d.vars[n].values for n in d.names}


def run(s, line):
    s.out = Capture()
    rc = s.interpreter.run_line(line)
    return rc, s.out.getvalue()


def ok(s, line):
    rc, out = run(s, line)
    assert rc == 0, out
    return out


@pytest.fixture
def s():
    """hsb's first 12 schools (477 students): small enough for many replications."""
    sess = Session(out=Capture())
    Interpreter(sess)
    ok(sess, f'use "{HSB}"')
    ok(sess, "keep if id <= 1477")
    return sess


def subset(hsb):
    keep = hsb["id"] <= 1477
    return {k: v[keep] for k, v in hsb.items()}


def pct(x, p):
    return float(np.percentile(x, p, method="averaged_inverted_cdf"))


def test_mean_replays_the_seed_and_summaries(s, hsb, tmp_path):
    d = subset(hsb)
    y = d["mathach"]
    n = len(y)
    f = tmp_path / "bs.dta"
    out = ok(s, f'bootstrap m=r(mean), reps(60) seed(41) saving("{f}"): summarize mathach')
    rng = np.random.default_rng(41)
    want = np.array([y[rng.integers(0, n, size=n)].mean() for _ in range(60)])
    saved = read_dta(str(f)).vars["m"].values
    np.testing.assert_allclose(saved, want, rtol=1e-6)        # saved as float
    e = s.e
    assert e.cmd == "bootstrap" and e.macros["vce"] == "bootstrap"
    assert e.scalars["N"] == n and e.scalars["N_reps"] == 60 and e.scalars["N_misreps"] == 0
    assert e.b[0] == pytest.approx(y.mean(), rel=1e-12)
    se = np.std(want, ddof=1)
    assert e.se[0] == pytest.approx(se, rel=1e-9)
    ci_n = e.matrices["ci_normal"].values[:, 0]
    np.testing.assert_allclose(ci_n, [y.mean() - 1.959963985 * se, y.mean() + 1.959963985 * se], rtol=1e-8)
    np.testing.assert_allclose(e.matrices["ci_percentile"].values[:, 0], [pct(want, 2.5), pct(want, 97.5)])
    z0 = stats.norm.ppf(np.mean(want <= y.mean()))
    lo, hi = stats.norm.cdf(2 * z0 - 1.959963985), stats.norm.cdf(2 * z0 + 1.959963985)
    np.testing.assert_allclose(e.matrices["ci_bc"].values[:, 0], [pct(want, 100 * lo), pct(want, 100 * hi)])
    assert e.matrices["z0"].values[0, 0] == pytest.approx(z0)
    assert e.matrices["bias"].values[0, 0] == pytest.approx(want.mean() - y.mean())
    assert e.matrices["ci_bc"].rownames == ["ll", "ul"] and e.matrices["ci_bc"].colnames == ["m"]
    # Stata's layout
    assert "(running summarize on estimation sample)" in out
    assert "Bootstrap replications (60)" in out and "." * 50 + "    50" in out
    assert "Bootstrap results                                       Number of obs =    477" in out
    assert "                                                        Replications  =     60" in out
    assert "      Command: summarize mathach\n            m: r(mean)" in out
    assert ("             |   Observed   Bootstrap                         Normal-based\n"
            "             | coefficient  std. err.      z    P>|z|     [95% conf. interval]") in out
    assert "Warning: Because summarize is not an estimation command" in out


def test_se_of_a_mean_matches_the_analytic_formula(s, hsb):
    ok(s, "keep in 1/40")
    y = subset(hsb)["mathach"][:40]
    ok(s, "bootstrap r(mean), reps(1500) seed(5) nodots nowarn: summarize mathach, meanonly")
    # the bootstrap variance of a mean is (1/n) * (1/n) sum (y - ybar)^2
    analytic = np.std(y, ddof=0) / np.sqrt(len(y))
    assert s.e.se[0] == pytest.approx(analytic, rel=4 / np.sqrt(2 * 1500))


def test_b_of_regress_keeps_its_e_and_header(s, hsb, tmp_path):
    d = subset(hsb)
    f = tmp_path / "bsreg.dta"
    out = ok(s, f'bootstrap _b, reps(30) seed(3) saving("{f}", double): regress mathach ses female')
    X = np.column_stack([d["ses"], d["female"], np.ones(len(d["ses"]))])
    y = d["mathach"]
    n = len(y)
    rng = np.random.default_rng(3)
    reps = []
    for _ in range(30):
        idx = rng.integers(0, n, size=n)
        reps.append(np.linalg.lstsq(X[idx], y[idx], rcond=None)[0])
    reps = np.array(reps)
    saved = read_dta(str(f))
    assert saved.names == ["_b_ses", "_b_female", "_b_cons"]
    np.testing.assert_allclose(np.column_stack([saved.vars[k].values for k in saved.names]), reps, rtol=1e-9)
    e = s.e
    np.testing.assert_allclose(e.b, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-9)
    np.testing.assert_allclose(e.V, np.cov(reps.T, ddof=1), rtol=1e-9)
    assert e.cmd == "regress" and e.macros["vce"] == "bootstrap" and e.macros["vcetype"] == "Bootstrap"
    b, V = e.b[:2], e.V[:2, :2]
    assert e.scalars["chi2"] == pytest.approx(b @ np.linalg.solve(V, b)) and e.scalars["df_m"] == 2
    assert "V_modelbased" in e.matrices
    assert "Linear regression                                       Number of obs =    477" in out
    assert "Wald chi2(2)  =" in out and "R-squared     =" in out
    assert "     mathach | coefficient  std. err.      z    P>|z|" in out
    assert "Command:" not in out
    rc, _ = run(s, "test ses female")          # post-estimation reads the bootstrap e(V)
    assert rc == 0 and s.r.scalars["chi2"] == pytest.approx(b @ np.linalg.solve(V, b), rel=1e-6)


def test_cluster_resampling_replays_the_draw(s, hsb, tmp_path):
    d = subset(hsb)
    f = tmp_path / "bscl.dta"
    out = ok(s, f'bootstrap m=r(mean), reps(25) seed(8) cluster(id) saving("{f}"): summarize mathach')
    ids = np.unique(d["id"])
    rng = np.random.default_rng(8)
    want = []
    for _ in range(25):
        pick = ids[rng.integers(0, len(ids), size=len(ids))]
        want.append(np.concatenate([d["mathach"][d["id"] == g] for g in pick]).mean())
    np.testing.assert_allclose(read_dta(str(f)).vars["m"].values, want, rtol=1e-6)
    assert s.e.scalars["N_clust"] == 12 and s.e.macros["clustvar"] == "id"
    assert "(Replications based on 12 clusters in id)" in out


def test_idcluster_numbers_the_drawn_clusters(s):
    ok(s, "bootstrap r(max), reps(5) seed(2) nodots nowarn cluster(id) idcluster(nid): summarize nid")
    # each drawn cluster gets its own id 1..12, so the largest id is always 12
    np.testing.assert_array_equal(s.e.matrices["b_bs"].values, [[12.0]])
    assert s.e.se[0] == 0
    assert "nid" in s.data.names          # created on the data, numbered as egen group(id)
    assert set(np.unique(s.data.var("nid").values)) == set(range(1, 13))


def test_strata_keep_their_sizes(s, hsb):
    d = subset(hsb)
    ok(s, "bootstrap r(N), reps(10) seed(1) nodots nowarn strata(sector): summarize mathach if sector == 1")
    assert s.e.b[0] == np.sum(d["sector"] == 1) and s.e.se[0] == 0


def test_mixed_with_idcluster_shows_its_own_tables(s):
    out = ok(s, "bootstrap _b, reps(4) seed(1) nodots cluster(id) idcluster(newid): mixed mathach ses || newid:")
    e = s.e
    assert e.cmd == "mixed" and e.scalars["N_reps"] == 4 and e.scalars["N_clust"] == 12
    assert "Replications      =          4" in out
    assert "(Replications based on 12 clusters in id)" in out
    assert "Random-effects parameters  |   Estimate   std. err." in out
    assert "|   Observed   Bootstrap         Normal-based" in out


@pytest.mark.parametrize("line,rc,message", [
    ("bootstrap r(mean), reps(1): summarize mathach", 198, "reps() must be an integer greater than 1"),
    ("bootstrap r(mean), idcluster(k): summarize mathach", 198,
     "idcluster() can only be specified with the cluster() option"),
    ("bootstrap r(mean), cluster(nosuch): summarize mathach", 111, "variable nosuch not found"),
    ("bootstrap r(mean), bogus: summarize mathach", 198, "option bogus not allowed"),
    ("bootstrap r(mean) summarize mathach", 198, "invalid syntax"),
    ("bootstrap r(mean), reps(2): summarize nosuch", 111, "an error occurred when bootstrap executed summarize"),
    ("bootstrap r(nosuch), reps(2): summarize mathach", 322, "'r(nosuch)' evaluated to missing in full sample"),
    ("bootstrap r(mean), reps(2) size(1000): summarize mathach", 498, "size() must not be greater"),
    ("bootstrap r(mean), reps(2) size(-2): summarize mathach", 198, "size() must be a positive integer"),
    ("bootstrap r(mean), reps(2) cluster(miss): summarize mathach", 459,
     "missing values in cluster variable miss not allowed"),
    ("bootstrap r(mean), reps(2): bootstrap r(mean): summarize mathach", 199, "bootstrap is not supported by bootstrap"),
    ("jackknife r(mean), reps(3): summarize mathach", 198, "option reps() not allowed"),
    ("jackknife _b: summarize mathach", 301, "last estimates not found"),
    ("by sector: bootstrap r(mean): summarize mathach", 190, "may not be combined with by"),
])
def test_bad_input_leaves_everything(s, line, rc, message):
    ok(s, "generate miss = cond(_n == 3, ., 1)")
    ok(s, "quietly regress mathach ses")
    e0, data0 = s.e, {k: v.values.copy() for k, v in s.data.vars.items()}
    got, out = run(s, line)
    assert got == rc, out
    assert message in out and "Traceback" not in out
    assert s.e is e0 and list(s.data.vars) == list(data0)
    for k, v in data0.items():
        np.testing.assert_array_equal(s.data.vars[k].values, v)


# ---------------------------------------------------------------------------- jackknife
def test_jackknife_se_of_a_mean_is_s_over_root_n(s, hsb):
    y = subset(hsb)["mathach"]
    out = ok(s, "jackknife r(mean): summarize mathach")
    assert s.e.se[0] == pytest.approx(np.std(y, ddof=1) / np.sqrt(len(y)), rel=1e-9)
    assert s.e.scalars["N_reps"] == len(y) and s.e.scalars["df_r"] == len(y) - 1
    np.testing.assert_allclose(s.e.matrices["b_jk"].values, [[y.mean()]], rtol=1e-9)
    assert "Jackknife replications (477)" in out and "          n(): r(N)" in out
    assert ("             |              Jackknife\n"
            "             | Coefficient  std. err.      t    P>|t|     [95% conf. interval]") in out
    lo = y.mean() - stats.t.ppf(0.975, len(y) - 1) * np.std(y, ddof=1) / np.sqrt(len(y))
    assert f"{lo:.6f}"[:7] in out


def loo_vce(X, y, groups):
    full = np.linalg.lstsq(X, y, rcond=None)[0]
    bs = np.array([np.linalg.lstsq(X[groups != g], y[groups != g], rcond=None)[0]
                   for g in np.unique(groups)])
    m = len(bs)
    dev = bs - bs.mean(axis=0)
    return full, (m - 1) / m * dev.T @ dev


def test_jackknife_regression_matches_leave_one_out(s, hsb):
    d = subset(hsb)
    X = np.column_stack([d["ses"], np.ones(len(d["ses"]))])
    y = d["mathach"]
    out = ok(s, "jackknife _b, nodots cluster(id): regress mathach ses")
    b, V = loo_vce(X, y, d["id"])
    np.testing.assert_allclose(s.e.V, V, rtol=1e-8)
    assert s.e.scalars["N_reps"] == 12 and s.e.scalars["df_r"] == 11
    assert "(Std. err. adjusted for 12 clusters in id)" in out
    # leaving out one observation at a time (the first 90 students)
    ok(s, "keep in 1/90")
    ok(s, "jackknife _b, nodots: regress mathach ses")
    b, V = loo_vce(X[:90], y[:90], np.arange(90))
    np.testing.assert_allclose(s.e.b, b, rtol=1e-10)
    np.testing.assert_allclose(s.e.V, V, rtol=1e-8)
    assert s.e.cmd == "regress" and s.e.macros["vcetype"] == "Jackknife"


# ---------------------------------------------------------------------------- vce(bootstrap)
def test_vce_bootstrap_is_the_prefix(s):
    ok(s, "bootstrap _b, reps(15) seed(9) nodots: regress mathach ses")
    b0, V0 = s.e.b.copy(), s.e.V.copy()
    out = ok(s, "regress mathach ses, vce(bootstrap, reps(15) seed(9) nodots)")
    np.testing.assert_array_equal(s.e.b, b0)
    np.testing.assert_array_equal(s.e.V, V0)
    assert s.e.macros["cmdline"] == "regress mathach ses, vce(bootstrap, reps(15) seed(9) nodots)"
    assert "Replications  =     15" in out


def test_vce_jackknife_takes_the_commands_level(s, hsb):
    d = subset(hsb)
    ok(s, "keep in 1/60")
    out = ok(s, "regress mathach ses, vce(jackknife, nodots) level(90)")
    X = np.column_stack([d["ses"][:60], np.ones(60)])
    _, V = loo_vce(X, d["mathach"][:60], np.arange(60))
    np.testing.assert_allclose(s.e.V, V, rtol=1e-8)
    assert "[90% conf. interval]" in out
    hi = s.e.b[1] + stats.t.ppf(0.95, 59) * np.sqrt(V[1, 1])
    assert f" {hi:.4f}" in out


def test_vce_bootstrap_of_mixed_resamples_clusters(s):
    out = ok(s, "mixed mathach ses, vce(bootstrap, reps(3) seed(1) nodots cluster(id) idcluster(nid)) || nid:")
    assert s.e.cmd == "mixed" and s.e.macros["vce"] == "bootstrap" and s.e.scalars["N_clust"] == 12
    assert "Random-effects parameters" in out and "Bootstrap" in out


def test_estat_bootstrap_shows_the_intervals(s, hsb, tmp_path):
    from hlmshell.output.numfmt import fmt_g
    f = tmp_path / "eb.dta"
    ok(s, f'bootstrap sd=r(sd), reps(40) seed(12) nodots nowarn saving("{f}", double): summarize mathach')
    reps = read_dta(str(f)).vars["sd"].values
    y = subset(hsb)["mathach"]
    out = ok(s, "estat bootstrap, all")
    pl, ph = pct(reps, 2.5), pct(reps, 97.5)
    assert f"{fmt_g(pl, 9):>9}  {fmt_g(ph, 9):>9}   (P)" in out
    assert f"{fmt_g(np.std(y, ddof=1) , 9):>12}{fmt_g(reps.mean() - np.std(y, ddof=1), 9):>11}" in out
    assert "Key:  N: Normal\n      P: Percentile\n     BC: Bias-corrected" in out
    assert "           sd: r(sd)" in out
    out = ok(s, "estat bootstrap")
    assert "(BC)" in out and "(P)" not in out
    ok(s, "quietly regress mathach ses")
    rc, out = run(s, "estat bootstrap")
    assert rc == 301 and "bootstrap estimation results not found" in out


# ---------------------------------------------------------------------------- permute
def test_permute_replays_the_shuffles(s, hsb):
    d = subset(hsb)
    y, fem = d["mathach"], d["female"]
    out = ok(s, "permute female m=r(mean), reps(80) seed(4): summarize mathach if female == 1")
    rng = np.random.default_rng(4)
    t_obs = y[fem == 1].mean()
    perm = np.array([y[fem[rng.permutation(len(fem))] == 1].mean() for _ in range(80)])
    c = int(np.sum(np.abs(perm) >= abs(t_obs) - 1e-7))
    r = s.r
    assert r.macros["cmd"] == "permute" and r.macros["permvar"] == "female"
    assert r.matrices["c"].values[0, 0] == c and r.matrices["reps"].values[0, 0] == 80
    p = c / 80
    assert r.matrices["p"].values[0, 0] == pytest.approx(p)
    assert r.matrices["se"].values[0, 0] == pytest.approx(np.sqrt(p * (1 - p) / 80))
    lo = 0.0 if c == 0 else stats.beta.ppf(0.025, c, 80 - c + 1)
    hi = 1.0 if c == 80 else stats.beta.ppf(0.975, c + 1, 80 - c)
    np.testing.assert_allclose(r.matrices["ci"].values[:, 0], [lo, hi], rtol=1e-8)
    assert "Permutation replications (80)" in out and "  permute var: female" in out
    assert "T            |     T(obs)       c       n   p=c/n   SE(p) [95% conf. interval]" in out
    # one-sided: the upper tail counts T >= T(obs)
    ok(s, "permute female m=r(mean), reps(80) seed(4) right nodots: summarize mathach if female == 1")
    assert s.r.matrices["c"].values[0, 0] == int(np.sum(perm >= t_obs - 1e-7))
    assert s.data.var("female").values.tolist() == fem.tolist()      # the data as they were


def test_permute_within_strata_keeps_each_strata_total(s, hsb):
    d = subset(hsb)
    ok(s, "permute female r(sum), reps(20) seed(1) nodots strata(sector): summarize female if sector == 1")
    # shuffled within sector, the girls in sector 1 stay as many: every value equals T(obs)
    assert s.r.matrices["c"].values[0, 0] == 20
    assert s.r.matrices["b"].values[0, 0] == d["female"][d["sector"] == 1].sum()


@pytest.mark.parametrize("line,rc,message", [
    ("permute female r(mean), reps(0): summarize mathach", 198, "reps() must be a positive integer"),
    ("permute nosuch r(mean): summarize mathach", 111, "variable nosuch not found"),
    ("permute female r(mean), left right: summarize mathach", 198, "options left and right may not be combined"),
    ("permute female r(mean) summarize mathach", 198, "invalid syntax"),
])
def test_permute_bad_input(s, line, rc, message):
    got, out = run(s, line)
    assert got == rc and message in out, out


def test_if_and_in_of_a_command_without_e_sample_choose_the_resampled(s, hsb):
    d = subset(hsb)
    ok(s, "bootstrap r(N), reps(10) seed(1) nodots nowarn: summarize mathach if female == 1")
    assert s.e.b[0] == np.sum(d["female"] == 1) and s.e.se[0] == 0 and s.e.scalars["N"] == s.e.b[0]
    ok(s, "jackknife r(mean), nodots: summarize mathach in 1/50")
    y = d["mathach"][:50]
    assert s.e.se[0] == pytest.approx(np.std(y, ddof=1) / np.sqrt(50), rel=1e-9)
    assert s.e.macros["command"] == "summarize mathach"


def test_no_exp_list_is_b_or_an_error(s):
    ok(s, "bootstrap, reps(3) seed(1) nodots: regress mathach ses")
    assert s.e.cmd == "regress" and s.e.scalars["N_reps"] == 3
    rc, out = run(s, "bootstrap, reps(3): summarize mathach")
    assert rc == 100 and "expression list required" in out


# ---------------------------------------------------------------------------- bsample
def test_bsample_replays_the_seed(s, hsb):
    d = subset(hsb)
    y = d["mathach"]
    ok(s, "set seed 77")
    ok(s, "bsample")
    rng = np.random.default_rng(77)
    np.testing.assert_allclose(s.data.var("mathach").values, y[rng.integers(0, len(y), size=len(y))])
    ok(s, f'use "{HSB}", clear')
    ok(s, "keep if id <= 1477")
    ok(s, "set seed 3")
    ok(s, "bsample 40 if female == 1, weight(fw)")
    w = s.data.var("fw").values
    girls = np.flatnonzero(d["female"] == 1)
    rng = np.random.default_rng(3)
    want = np.bincount(girls[rng.integers(0, len(girls), size=40)], minlength=len(w))
    np.testing.assert_array_equal(w, want)
    assert s.data.n == len(d["female"]) and w.sum() == 40


def test_bsample_clusters(s):
    ok(s, "set seed 1")
    ok(s, "bsample 5, cluster(id) idcluster(nid)")
    nid = s.data.var("nid").values
    assert sorted(set(nid)) == [1, 2, 3, 4, 5]
    for k in range(1, 6):          # each drawn cluster is one school, whole
        assert len(set(s.data.var("id").values[nid == k])) == 1
    rc, out = run(s, "bsample 50, cluster(id)")
    assert rc == 498 and "size() must not be greater than number of clusters" in out


def test_failed_replications_are_left_out_with_a_note(s):
    s.out = Capture()
    assert s.interpreter.run_text("""program define m1224, rclass
    summarize mathach if id == 1224
    return scalar m = r(mean)
end""", echo=False) == 0
    out = ok(s, "bootstrap m=r(m), reps(30) seed(2) nowarn cluster(id): m1224")
    # school 1224 is the first of the 12 clusters: the replications that did not draw it
    rng = np.random.default_rng(2)
    k = sum(0 not in rng.integers(0, 12, size=12) for _ in range(30))
    assert k > 0 and s.e.scalars["N_misreps"] == k
    assert ("Note: One or more parameters could not be estimated in "
            f"{k} bootstrap replicate{'s' if k > 1 else ''};") in out
    assert "e" in out.split("Bootstrap replications (30)")[1].splitlines()[2]


def test_bca_acceleration_from_leave_one_out(s, hsb, tmp_path):
    y = subset(hsb)["mathach"][:80]
    ok(s, "keep in 1/80")
    f = tmp_path / "bca.dta"
    out = ok(s, f'bootstrap v=r(Var), reps(60) seed(6) bca nowarn saving("{f}", double): summarize mathach')
    assert "Jackknife replications (80)" in out and "Bootstrap replications (60)" in out
    reps = read_dta(str(f)).vars["v"].values
    loo = np.array([np.var(np.delete(y, i), ddof=1) for i in range(80)])
    d = loo.mean() - loo
    a = np.sum(d ** 3) / (6 * np.sum(d ** 2) ** 1.5)
    assert s.e.matrices["accel"].values[0, 0] == pytest.approx(a, rel=1e-9)
    t = np.var(y, ddof=1)
    z0 = stats.norm.ppf(np.mean(reps <= t))
    zc = stats.norm.ppf(0.975)
    p = [stats.norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z))) for z in (-zc, zc)]
    np.testing.assert_allclose(s.e.matrices["ci_bca"].values[:, 0], [pct(reps, 100 * p[0]), pct(reps, 100 * p[1])])
    assert "(BCa)" in ok(s, "estat bootstrap, all")
    rc, out = run(s, "jackknife r(mean), bca: summarize mathach")
    assert rc == 198 and "option bca not allowed" in out


def test_replay_after_bootstrap(s):
    first = ok(s, "bootstrap _b, reps(5) seed(1) nodots: regress mathach ses")
    again = ok(s, "regress")
    assert again == first
    assert "[90% conf. interval]" in ok(s, "regress, level(90)")
    ok(s, "estimates store a")
    ok(s, "bootstrap m=r(mean), reps(5) seed(1) nodots nowarn: summarize ses")
    shown = ok(s, "bootstrap")
    assert "            m: r(mean)" in shown and "Replications  =      5" in shown
    assert "Bootstrap" in ok(s, "estimates replay a")
    rc, out = run(s, "jackknife")
    assert rc == 301
    rc, out = run(s, "bootstrap, bogus")
    assert rc == 198 and "option bogus not allowed" in out


def test_predict_after_an_exp_list_is_refused(s):
    ok(s, "bootstrap r(mean), reps(3) seed(1) nodots nowarn: summarize ses")
    rc, out = run(s, "predict z")
    assert rc == 301 and "predict is not allowed after bootstrap:summarize" in out
    ok(s, "bootstrap _b, reps(3) seed(1) nodots: regress mathach ses")
    ok(s, "predict xb")                 # the command's own e(): its predictions


def test_jackknife_keep_stores_the_pseudovalues(s, hsb):
    ok(s, "keep in 1/30")
    y = subset(hsb)["mathach"][:30]
    ok(s, "jackknife m=r(mean) v=r(Var), keep nodots: summarize mathach")
    loo_v = np.array([np.var(np.delete(y, i), ddof=1) for i in range(30)])
    np.testing.assert_allclose(s.data.var("v").values, 30 * np.var(y, ddof=1) - 29 * loo_v, rtol=1e-9)
    np.testing.assert_allclose(s.data.var("m").values, y, rtol=1e-9)     # a mean's pseudo-values are the data
    assert s.e.macros["pseudo"] == "m v"
    np.testing.assert_allclose(s.e.matrices["b_jk"].values[0], [y.mean(), np.mean(30 * np.var(y, ddof=1) - 29 * loo_v)])
    rc, out = run(s, "bootstrap r(mean), keep: summarize mathach")
    assert rc == 198 and "option keep not allowed" in out


def test_bare_dots_is_a_dot_per_replication(s):
    """`bootstrap ..., dots:` (a public gsem do-file): dots(1), the same results as dots(1)."""
    out = ok(s, "bootstrap r(mean), reps(20) seed(4) dots nowarn: summarize mathach, meanonly")
    b1 = float(s.e.b[0])
    assert "Bootstrap replications (20)" in out
    ok(s, "bootstrap r(mean), reps(20) seed(4) dots(1) nowarn: summarize mathach, meanonly")
    assert float(s.e.b[0]) == b1


def test_group_renumbers_groups_within_drawn_clusters():
    """group(id) with cluster(sector) idcluster(nid): a school in a sector drawn twice becomes
    two groups, so the groups counted equal the (nid, id) pairs in every replicate."""
    from session_run import interp_session, iok
    s = interp_session("use hsb")
    iok(s, "program grpdiff, rclass\n quietly distinct id\n local a = r(ndistinct)\n"
           " quietly distinct nid id, joint\n return scalar d = `a' - r(ndistinct)\nend")
    iok(s, "bootstrap d=r(d), reps(8) seed(3) nodots nowarn cluster(sector) idcluster(nid) group(id): grpdiff")
    assert float(s.e.b[0]) == 0.0 and float(np.asarray(s.e.V)[0, 0]) == 0.0   # 0 in every replicate
    iok(s, "drop nid")
    iok(s, "bootstrap d=r(d), reps(8) seed(3) nodots nowarn cluster(sector) idcluster(nid): grpdiff")
    assert float(np.asarray(s.e.V)[0, 0]) > 0      # without group() a repeated sector's schools merge
    iok(s, "drop nid")
    rc, _ = run(s, "bootstrap r(N), reps(2) nodots cluster(sector) group(id): summarize ses")
    assert rc == 198
