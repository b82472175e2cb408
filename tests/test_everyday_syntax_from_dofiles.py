"""Everyday syntax that real public do-files use and hlmshell used to refuse (issue 13, found by
bench/dofile_coverage.py): mixed options ending in a comma and `~` abbreviations of level
variables, `label define` values touching their texts, tabstat's stats(), numlabel, insheet."""
import numpy as np
import pytest
import pandas as pd
from hsb_fixtures import df, s  # noqa: F401 - fixtures
from session_run import ok, run


def _ll(s, line):  # noqa: F811
    ok(s, line)
    return s.e.scalars["ll"]


def test_mixed_options_ending_in_a_comma(s):  # noqa: F811
    a = _ll(s, "mixed mathach ses || id: , variance reml covariance(unstructured)")
    b = _ll(s, "mixed mathach ses, || id: , variance reml covariance(unstructured),")
    assert a == b
    rc, _ = run(s, "mixed mathach ses || id: , reml,,")
    assert rc == 198


def test_mixed_level_variable_with_tilde(s):  # noqa: F811
    ok(s, "gen hospital_typenew = id")
    a = _ll(s, "mixed mathach ses || hospital_typenew:")
    b = _ll(s, "mixed mathach ses || hospital_type~w :")
    assert a == b and s.e.macros["ivars"] == "hospital_typenew"
    ok(s, "gen hospital_typeold = id")
    assert run(s, "mixed mathach ses || hospital_type~ :")[0] == 111     # ambiguous


def test_label_define_values_touching_texts(s):  # noqa: F811
    ok(s, 'label define sexl 1"Male" 2"Female" 3 `"say "hi""\'')
    assert s.data.value_labels["sexl"] == {1.0: "Male", 2.0: "Female", 3.0: 'say "hi"'}
    rc, _ = run(s, 'label define bad 1"Male')
    assert rc == 132 and "bad" not in s.data.value_labels


def test_tabstat_stats_synonym(s, df):  # noqa: F811
    ok(s, "tabstat ses mathach, stats(mean sd) save")
    m = s.r.matrices["StatTotal"].values
    np.testing.assert_allclose(np.asarray(m)[0], [df.ses.mean(), df.mathach.mean()], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(m)[1], [df.ses.std(), df.mathach.std()], rtol=1e-12)
    rc, _ = run(s, "tabstat ses, statistics(mean) stats(sd)")
    assert rc == 198


def test_numlabel_add_remove_mask(s):  # noqa: F811
    ok(s, 'label define sect 0 "Public" 1 "Catholic"')
    ok(s, "label values sector sect")
    ok(s, "numlabel _all, add")
    assert s.data.value_labels["sect"] == {0.0: "0. Public", 1.0: "1. Catholic"}
    ok(s, "numlabel sect, add")                      # already there: not added twice
    assert s.data.value_labels["sect"][1.0] == "1. Catholic"
    assert "1. Catholic" in ok(s, "tabulate sector")
    ok(s, "numlabel, remove")
    ok(s, 'numlabel sect, add mask("[#] ")')
    assert s.data.value_labels["sect"] == {0.0: "[0] Public", 1.0: "[1] Catholic"}
    for line, rc in [("numlabel sect", 198), ("numlabel sect, add remove", 198),
                     ("numlabel nosuch, add", 111), ('numlabel sect, add mask("x")', 198)]:
        assert run(s, line)[0] == rc, line


def test_insheet_reads_like_import_delimited(s, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    frame = pd.DataFrame({"invest": [317.6, 391.8, 410.6], "firm": ["GM", "GM", "US Steel"],
                          "year": [1935, 1936, 1935]})
    frame.to_csv(tmp_path / "g.csv", index=False)
    out = ok(s, "insheet using g.csv, clear double")
    assert "(3 vars, 3 obs)" in out
    assert s.data.names == ["invest", "firm", "year"]
    np.testing.assert_array_equal(s.data.var("invest").values, frame.invest.to_numpy())
    assert list(s.data.var("firm").values) == ["GM", "GM", "US Steel"]
    ok(s, "insheet a b c using g.csv, clear")
    assert s.data.names == ["a", "b", "c"]
    for line, rc in [("insheet using g.csv, clear tab comma", 198), ("insheet g.csv", 100),
                     ("insheet using nosuch.csv, clear", 601)]:
        assert run(s, line)[0] == rc, line
    assert s.data.names == ["a", "b", "c"]


def test_list_sepby_draws_a_rule_where_the_group_changes(s):  # noqa: F811
    out = ok(s, "list id ses in 44/50, sepby(id)")
    rows = [ln for ln in out.splitlines() if ln.strip()]
    body = rows[3:-1]                                   # between the header rule and the bottom
    ids = s.data.var("id").values[43:50]
    change = [k for k in range(1, 7) if ids[k] != ids[k - 1]]
    assert len(change) == 1
    rules = [k for k, ln in enumerate(body) if ln.strip().startswith("|-")]
    assert rules == [change[0]]                         # one rule, before the first new id
    rc, _ = run(s, "list id in 1/3, sepby(nosuch)")
    assert rc == 111


def test_nolabel_abbreviated_nol(s):  # noqa: F811
    ok(s, 'label define sect 0 "PubLab" 1 "CathLab"')
    ok(s, "label values sector sect")
    assert "CathLab" in ok(s, "tabulate sector")
    assert "CathLab" not in ok(s, "tabulate sector, nol")
    assert "PubLab" not in ok(s, "list sector in 1/2, nol")
    assert run(s, "tabulate sector, no")[0] == 198


def test_small_option_after_dfmethod(s):  # noqa: F811
    ok(s, "mixed mathach ses sector || id:, reml dfmethod(satterthwaite)")
    assert ok(s, "lincom ses - sector, small") == ok(s, "lincom ses - sector")
    assert ok(s, "test (ses=0) (sector=0), small") == ok(s, "test (ses=0) (sector=0)")
    ok(s, "testparm ses, small")
    ok(s, "regress mathach ses")
    for line in ("lincom ses, small", "test ses, small", "testparm ses, small"):
        assert run(s, line)[0] == 198, line


def test_estat_vce_lists_e_V(s):  # noqa: F811
    ok(s, "regress mathach ses sector")
    out = ok(s, "estat vce")
    assert "Covariance matrix of coefficients of regress model" in out
    V = np.asarray(s.e.V, dtype=float)
    np.testing.assert_array_equal(s.r.matrices["V"].values, V)
    ok(s, "mixed mathach ses || id:")
    out = ok(s, "estat vce, correlation")
    V = np.asarray(s.e.V, dtype=float)
    d = np.sqrt(np.diag(V))
    np.testing.assert_allclose(s.r.matrices["V"].values, V / np.outer(d, d), rtol=1e-12)
    assert "lns1_1_1" in out and "Correlation matrix" in out
    assert run(s, "estat vce, bogus")[0] == 198


def test_packages_offline_and_file_housekeeping(s, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    assert "built into hlmshell" in ok(s, "ssc install estout, replace")
    rc, out = run(s, "ssc install xtabond2")
    assert rc == 631 and "offline" in out
    assert run(s, "net install st0085_2, from(http://www.stata-journal.com)")[0] == 631
    assert "built-in command:  mixed" in ok(s, "which mixed")
    assert run(s, "which nosuchcmd")[0] == 111
    ok(s, "findit icc")
    ok(s, "mkdir results")
    assert (tmp_path / "results").is_dir()
    assert run(s, "mkdir results")[0] == 693
    ok(s, "save results/x")
    ok(s, "erase results/x.dta")
    assert not (tmp_path / "results" / "x.dta").exists()
    assert run(s, "erase results/x.dta")[0] == 601
    ok(s, "rmdir results")
    assert not (tmp_path / "results").exists()


def test_nlcom_delta_method_against_the_analytic_gradient(s):  # noqa: F811
    ok(s, "regress mathach ses sector")
    out = ok(s, "nlcom (ratio: _b[ses]/_b[sector]) (sq: _b[ses]^2)")
    b, V = np.asarray(s.e.b, dtype=float), np.asarray(s.e.V, dtype=float)
    G = np.array([[1 / b[1], -b[0] / b[1] ** 2, 0], [2 * b[0], 0, 0]])
    np.testing.assert_allclose(s.r.matrices["b"].values[0], [b[0] / b[1], b[0] ** 2], rtol=1e-12)
    np.testing.assert_allclose(s.r.matrices["V"].values, G @ V @ G.T, rtol=1e-7)
    assert "       ratio: _b[ses]/_b[sector]" in out and "      z    P>|z|" in out


def test_nlcom_icc_equals_estat_icc(s):  # noqa: F811
    ok(s, "mixed mathach || id:")
    ok(s, "nlcom icc: exp(2*_b[lns1_1_1:_cons])/(exp(2*_b[lns1_1_1:_cons])+exp(2*_b[lnsig_e:_cons]))")
    est, var = s.r.matrices["b"].values[0, 0], s.r.matrices["V"].values[0, 0]
    ok(s, "estat icc")
    assert abs(est - s.r.scalars["icc2"]) < 1e-12
    assert abs(np.sqrt(var) - s.r.scalars["se2"]) < 1e-7
    for line, rc in [("nlcom _b[nosuch]", 111), ("nlcom", 198), ("nlcom (a: _b[_cons]) (a: 1)", 198),
                     ("nlcom _b[_cons], bogus", 198)]:
        assert run(s, line)[0] == rc, line


def test_xi_makes_stata_dummies_and_runs_the_command(s, df):  # noqa: F811
    ok(s, "gen sz = 1 + (size>1000) + (size>1500)")
    out = ok(s, "xi: regress mathach i.sz*ses")
    assert "i.sz              _Isz_1-3            (naturally coded; _Isz_1 omitted)" in out
    sz = 1 + (df["size"] > 1000).astype(int) + (df["size"] > 1500).astype(int)
    d2, d3 = (sz == 2).astype(float), (sz == 3).astype(float)
    X = np.column_stack([d2, d3, df.ses, d2 * df.ses, d3 * df.ses, np.ones(len(df))])
    beta = np.linalg.lstsq(X, df.mathach.to_numpy(), rcond=None)[0]
    assert [n for _, n in s.e.names] == ["_Isz_2", "_Isz_3", "ses", "_IszXses_2", "_IszXses_3", "_cons"]
    np.testing.assert_allclose(np.asarray(s.e.b, dtype=float), beta, rtol=1e-9)
    ok(s, "xi i.sector")                                   # the previous _I* variables go
    assert [n for n in s.data.names if n.startswith("_I")] == ["_Isector_1"]
    assert s.data.var("_Isector_1").label == "sector==1"
    assert run(s, "xi: regress mathach i.nosuch")[0] == 111
    assert [n for n in s.data.names if n.startswith("_I")] == ["_Isector_1"]
    ok(s, "xi i.minority*i.female")
    inter = [n for n in s.data.names if n.startswith("_I") and "X" in n]
    assert len(inter) == 1
    assert s.data.var(inter[0]).values.sum() == ((df.minority == 1) & (df.female == 1)).sum()


def _stata_pctile(xs, p):
    """summarize's percentile of sorted xs, written out for the test (not hlmshell's code)."""
    n = len(xs)
    pos = n * p / 100
    i = int(pos)
    return (xs[i - 1] + xs[i]) / 2 if pos == i else xs[i]


def test_xtile_and_pctile(s, df):  # noqa: F811
    ok(s, "xtile q = ses, nq(4)")
    xs = np.sort(df.ses.to_numpy())
    cuts = [_stata_pctile(xs, p) for p in (25, 50, 75)]
    expect = 1 + np.searchsorted(cuts, df.ses.to_numpy(), side="left")
    np.testing.assert_array_equal(s.data.var("q").values, expect)
    ok(s, "pctile p = ses, nq(4) genp(pp)")
    np.testing.assert_allclose(s.data.var("p").values[:3], np.float32(cuts), rtol=0)
    assert list(s.data.var("pp").values[:3]) == [25, 50, 75]
    ok(s, "xtile q2 = mathach if sector == 1, nq(3)")
    assert np.isnan(s.data.var("q2").values[(df.sector == 0).to_numpy()]).all()
    for line, rc in [("xtile q = ses", 110), ("xtile q3 = ses, nq(1)", 198),
                     ("xtile q3 = nosuch, nq(2)", 111), ("pctile p3 = ses, nq(4) genp(p)", 110)]:
        assert run(s, line)[0] == rc, line
    assert "q3" not in s.data.names and "p3" not in s.data.names


def test_mvdecode_codes_to_missing(s, df):  # noqa: F811
    ok(s, "replace minority = -9 in 1/5")
    ok(s, "replace female = -8 in 3/4")
    out = ok(s, "mvdecode minority female, mv(-9=.a \\ -8)")
    assert "    minority: 5 missing values generated" in out
    assert "      female: 2 missing values generated" in out
    assert ok(s, "count if minority == .a").strip() == "5"
    assert ok(s, "count if female == .").strip() == "2"
    assert ok(s, "count if missing(ses)").strip() == "0"
    for line, rc in [("mvdecode ses", 198), ("mvdecode ses, mv(abc)", 121),
                     ("mvdecode ses, mv(-9=x)", 198), ("mvdecode nosuch, mv(-9)", 111)]:
        assert run(s, line)[0] == rc, line


def test_ttest_against_scipy(s, df):  # noqa: F811
    from scipy import stats
    out = ok(s, "ttest mathach, by(sector)")
    a, b = df.mathach[df.sector == 0], df.mathach[df.sector == 1]
    ref = stats.ttest_ind(a, b)
    assert abs(s.r.scalars["t"] - ref.statistic) < 1e-9 and abs(s.r.scalars["p"] - ref.pvalue) < 1e-12
    assert s.r.scalars["df_t"] == len(df) - 2
    assert "Two-sample t test with equal variances" in out
    assert "   Group |     Obs        Mean    Std. err.   Std. dev.   [95% conf. interval]" in out
    ok(s, "ttest mathach, by(sector) unequal")
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert abs(s.r.scalars["t"] - ref.statistic) < 1e-9 and abs(s.r.scalars["p"] - ref.pvalue) < 1e-12
    ok(s, "ttest ses == .1")
    ref = stats.ttest_1samp(df.ses, 0.1)
    assert abs(s.r.scalars["t"] - ref.statistic) < 1e-9 and abs(s.r.scalars["p"] - ref.pvalue) < 1e-12
    ok(s, "ttest mathach == ses if sector == 1")
    ref = stats.ttest_rel(df.mathach[df.sector == 1], df.ses[df.sector == 1])
    assert abs(s.r.scalars["t"] - ref.statistic) < 1e-9 and s.r.scalars["N_1"] == (df.sector == 1).sum()
    for line, rc in [("ttest mathach", 198), ("ttest mathach, by(id)", 420),
                     ("ttest nosuch == 0", 111), ("ttest mathach == 0, by(sector)", 198)]:
        assert run(s, line)[0] == rc, line


def test_estat_summarize_over_the_estimation_sample(s, df):  # noqa: F811
    ok(s, "mixed mathach ses i.sector c.ses#c.meanses if female == 1 || id:")
    out = ok(s, "estat summarize")
    sub = df[df.female == 1]
    st = s.r.matrices["stats"]
    assert st.rownames == ["mathach", "ses", "sector", "meanses"]
    for k, v in enumerate(st.rownames):
        np.testing.assert_allclose(st.values[k], [sub[v].mean(), sub[v].std(), sub[v].min(), sub[v].max()],
                                   rtol=1e-12)
    assert "Estimation sample mixed" in out and f"{len(sub):,}" in out
    assert "Estimation sample" not in ok(s, "estat sum, noheader")
    ok(s, "drop in 1")
    assert run(s, "estat summarize")[0] == 459


def test_misstable_patterns_asis_and_bypatterns(s):  # noqa: F811
    ok(s, "replace ses = . in 1/30")
    ok(s, "replace mathach = . in 20/100")
    out = ok(s, "misstable patterns mathach ses, asis")
    assert "(1) mathach  (2) ses" in out                  # as typed, not fewest-missing first
    assert "(1) ses  (2) mathach" in ok(s, "misstable patterns mathach ses")
    out = ok(s, "misstable patterns ses mathach, bypatterns frequency")
    rows = [ln.split("|")[1].split() for ln in out.splitlines()
            if ln.strip()[:1].isdigit() and "|" in ln and ln.split("|")[1].strip()]
    assert rows == [["1", "1"], ["1", "0"], ["0", "1"], ["0", "0"]]


def test_merge_old_syntax_picks_the_match_kind(s, df, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    ok(s, "preserve")
    ok(s, "collapse (mean) mses=ses, by(id)")
    ok(s, "save sch")
    ok(s, "restore")
    out = ok(s, "merge id using sch")
    assert "old merge syntax" in out
    means = df.groupby("id").ses.transform("mean").to_numpy()
    np.testing.assert_allclose(s.data.var("mses").values, means, rtol=1e-6)
    assert (s.data.var("_merge").values == 3).all()
    ok(s, "drop _merge mses")
    assert run(s, "merge female using sch")[0] == 111
    assert run(s, "merge minority using " + str(tmp_path / "sch"))[0] == 111


def test_vif_is_the_diagonal_of_the_inverse_correlation_matrix(s, df):  # noqa: F811
    ok(s, "regress mathach ses sector meanses i.minority")
    out = ok(s, "vif")
    X = np.column_stack([df.ses, df.sector, df.meanses, (df.minority == 1).astype(float)])
    ref = dict(zip(["ses", "sector", "meanses", "1.minority"], np.diag(np.linalg.inv(np.corrcoef(X.T)))))
    got = {s.r.macros[f"name_{k}"]: s.r.scalars[f"vif_{k}"] for k in range(1, 5)}
    assert set(got) == set(ref)
    for k, v in ref.items():
        assert abs(got[k] - v) < 1e-9 * v
    assert [s.r.scalars[f"vif_{k}"] for k in range(1, 5)] == sorted(got.values(), reverse=True)
    assert "    Mean VIF |" in out and ok(s, "estat vif") == out
    ok(s, "mixed mathach ses || id:")
    assert run(s, "vif")[0] == 301 and run(s, "estat vif")[0] == 301


def test_baselevels_abbreviated(s):  # noqa: F811
    full = ok(s, "regress mathach i.sector, baselevels")
    assert "(base)" in full and ok(s, "regress mathach i.sector, baselevel") == full
    assert ok(s, "regress mathach i.sector, base") == full
    assert run(s, "regress mathach i.sector, bas")[0] == 198


def test_ci_means_against_scipy(s, df):  # noqa: F811
    from scipy import stats
    out = ok(s, "ci means mathach if sector == 1, level(90)")
    x = df.mathach[df.sector == 1]
    lo, hi = stats.t.interval(0.90, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert abs(s.r.scalars["lb"] - lo) < 1e-9 and abs(s.r.scalars["ub"] - hi) < 1e-9
    assert "[90% conf. interval]" in out
    assert ok(s, "ci mathach if sector == 1, level(90)") == out
    assert run(s, "ci means nosuch")[0] == 111 and run(s, "ci proportions female")[0] == 198


def test_equation_name_shorthand_in_expressions(s):  # noqa: F811
    """[eq]name is _b[eq:name] (a public do-file's `display [lns1_1_1]_cons` after mixed)."""
    ok(s, "mixed mathach ses || id: ses, cov(un)")
    e = s.e
    k = e.coef_index("lns1_1_1", "_cons")
    assert k >= 0
    out = ok(s, "display [lns1_1_1]_cons")
    assert float(out.strip().splitlines()[-1]) == pytest.approx(float(e.b[k]), rel=1e-6)
    ok(s, "scalar sv = exp(2*[lnsig_e]_cons)")
    ks = e.coef_index("lnsig_e", "_cons")
    assert s.scalars["sv"] == pytest.approx(np.exp(2 * float(e.b[ks])), rel=1e-12)
    ok(s, "scalar sb = [mathach]ses - _b[mathach:ses]")
    assert s.scalars["sb"] == 0
    assert run(s, "display [nosuch]_cons")[0] == 111


def test_if_in_a_random_effects_equation_restricts_the_sample(s, df):  # noqa: F811
    """`mixed y x || school: if girl==1` (18 lines of a public lab do-file): the if applies to
    the whole sample, combined with the fixed part's."""
    a = _ll(s, "mixed mathach ses if female==1 || id:, reml")
    b = _ll(s, "mixed mathach ses || id: if female==1, reml")
    assert a == b and s.e.scalars["N"] == int((df.female == 1).sum())
    _ll(s, "mixed mathach ses if sector==1 || id: ses if female==1, reml")
    assert s.e.scalars["N"] == int(((df.sector == 1) & (df.female == 1)).sum())
    assert run(s, "mixed mathach ses || id: [pw=ses]")[0] == 198
    assert run(s, "mixed mathach ses in 1/10 || id: in 1/100")[0] == 198


def test_wildcard_in_an_interaction_interacts_each_variable(s):  # noqa: F811
    """`regress y d*##c.x` (a public panel do-file): each matched variable is interacted, as
    the group i.(d1 d2)##c.x."""
    ok(s, "capture drop dd1 dd2")
    ok(s, "gen dd1 = sector")
    ok(s, "gen dd2 = female")
    ok(s, "regress mathach i.(dd1 dd2)##c.ses")
    b = np.asarray(s.e.b).ravel().copy()
    ok(s, "regress mathach dd*##c.ses")
    np.testing.assert_allclose(np.asarray(s.e.b).ravel(), b, rtol=1e-12)
    assert run(s, "regress mathach nosuch*##c.ses")[0] == 111


def test_mixed_maximization_options_are_accepted(s):  # noqa: F811
    """emtolerance(), difficult, emonly, technique() from public do-files: the same optimum."""
    a = _ll(s, "mixed mathach ses || id:, reml")
    b = _ll(s, "mixed mathach ses || id:, reml emtolerance(1e-8) difficult emiterate(50) "
               "technique(nr) nrtolerance(1e-6) matsqrt")
    assert a == b


def test_elements_of_e_and_r_matrices_in_expressions(s):  # noqa: F811
    """e(N_g)[1,1] and r(table)[1,1] (a public lab do-file's timing program with estadd)."""
    ok(s, "mixed mathach ses || id:")
    assert float(ok(s, "display e(N_g)[1,1]").strip().splitlines()[-1]) == 160
    ok(s, "scalar bb = e(b)[1,2]")
    assert s.scalars["bb"] == pytest.approx(float(np.asarray(s.e.b).ravel()[1]), rel=1e-12)
    ok(s, "estadd scalar N_gps = e(N_g)[1,1]")
    assert s.e.scalars["N_gps"] == 160
    ok(s, "regress mathach ses")
    T = s.r.matrices["table"]
    vals = np.asarray(getattr(T, "values", T), float)
    assert s.scalars.get("bb") is not None
    ok(s, 'scalar tt = r(table)["b","ses"] + r(table)[2,1]')
    assert s.scalars["tt"] == pytest.approx(vals[0, 0] + vals[1, 0], rel=1e-12)
    assert run(s, "display e(nosuch)[1,1]")[0] == 111


def test_numlists_separated_by_commas(s):  # noqa: F811
    """egen's help writes `cut(age), at(0,18,65,100)`; a public simulation do-file has
    `at(0,0.5, 0.9, 1)`: commas separate numlist elements."""
    from hlmshell.syntax.numlist import numlist
    assert numlist("0,0.5, 0.9, 1") == [0.0, 0.5, 0.9, 1.0]
    assert numlist("1/3, 10(5)20") == [1, 2, 3, 10, 15, 20]
    ok(s, "capture drop sesc")
    ok(s, "egen sesc = cut(ses), at(-4, 0, 3) icodes")
    v = np.asarray(s.data.values("sesc"), float)
    ses = np.asarray(s.data.values("ses"), float)
    np.testing.assert_array_equal(v, np.where(ses < 0, 0, 1))
