"""`mixed`: Stata 17 layout (header, coefficient table, random-effects table, LR test line)
from hand-built numbers, errors that leave the session alone, replay, and end-to-end runs of
the course notes' models against the notes' printed numbers."""
import json
import math
import os

import numpy as np
import pytest

import hlmshell
from hlmshell.data.dataset import Variable
from hlmshell.data.dta import read_dta
from hlmshell.engine import design as dz
from hlmshell.engine.types import LmmFit, RandomBlock
from hlmshell.output.mixed_output import RERow
from hlmshell.interpreter import Interpreter
from hlmshell.output import mixed_output as mo
from hlmshell.output.coeftable import Group, Row, coef_table, groups_from_names
from hlmshell.output.writer import Capture
from hlmshell.session import Session

HERE = os.path.dirname(os.path.abspath(__file__))
HSB = os.path.join(os.path.dirname(hlmshell.__file__), "sample_data", "hsb.dta")
EXPECTED = json.load(open(os.path.join(HERE, "data", "course_notes_expected.json")))
STEPS = {s.get("name"): s for s in EXPECTED["steps"] if s.get("name")}


# --- layout from hand-made numbers ------------------------------------------------------------------
def test_header_single_level():
    lines = mo.header_lines(reml=False, n_obs=7185, levels=[mo.LevelInfo("id", 160, 14, 44.90563, 67)],
                            wald_df=6, wald_chi2=696.3412, wald_p=1e-140, ll=-23253.18712)
    assert lines == [
        "Mixed-effects ML regression                     Number of obs     =      7,185",
        "Group variable: id                              Number of groups  =        160",
        "                                                Obs per group:",
        "                                                              min =         14",
        "                                                              avg =       44.9",
        "                                                              max =         67",
        "                                                Wald chi2(6)      =     696.34",
        "Log likelihood = -23253.187                     Prob > chi2       =     0.0000",
    ]


def test_header_reml_and_no_wald():
    lines = mo.header_lines(reml=True, n_obs=34, levels=[mo.LevelInfo("id", 17, 2, 2.0, 2)],
                            wald_df=0, wald_chi2=None, wald_p=None, ll=-184.57839)
    assert lines[0] == "Mixed-effects REML regression                   Number of obs     =         34"
    assert lines[6] == "                                                Wald chi2(0)      =          ."
    assert lines[7] == "Log restricted-likelihood = -184.57839          Prob > chi2       =          ."


def test_header_several_levels():
    lines = mo.header_lines(reml=False, n_obs=816, levels=[mo.LevelInfo("region", 9, 51, 90.7, 136),
                                                           mo.LevelInfo("state", 48, 17, 17.0, 17)],
                            wald_df=4, wald_chi2=1073.64, wald_p=0.0, ll=1430.5017)
    assert lines == [
        "Mixed-effects ML regression                     Number of obs     =        816",
        "",
        "-------------------------------------------------------------",
        "                |     No. of       Observations per group",
        " Group variable |     groups    Minimum    Average    Maximum",
        "----------------+--------------------------------------------",
        "         region |          9         51       90.7        136",
        "          state |         48         17       17.0         17",
        "-------------------------------------------------------------",
        "",
        "                                                Wald chi2(4)      =    1073.64",
        "Log likelihood =  1430.5017                     Prob > chi2       =     0.0000",
    ]


LAYOUT_TABLE = """\
------------------------------------------------------------------------------
     mathach | Coefficient  Std. err.      z    P>|z|     [95% conf. interval]
-------------+----------------------------------------------------------------
         ses |   2.906627   .1400363    20.76   0.000     2.632161    3.181093
      sector |   2.292641   .3582754     6.40   0.000     1.590434    2.994848
             |
    c.ses#   |
    c.sector |   -1.27794   .2109064    -6.06   0.000    -1.691309   -.8645712
             |
    1.female |  -.3719948    .385254    -0.97   0.334    -1.127079    .3830891
             |
       sized |
          2  |   1.234907   .5191091     2.38   0.017      .217472    2.252342
          3  |   1.692167   .5386236     3.14   0.002     .6364839     2.74785
             |
      female#|
       sized |
        1 2  |  -.7090223   .4646167    -1.53   0.127    -1.619654    .2016097
        1 3  |  -1.219811   .4604496    -2.65   0.008    -2.122276   -.3173464
             |
       _cons |   11.13458   .4845513    22.98   0.000     10.18488    12.08428
------------------------------------------------------------------------------"""


def _reduced_numbers():
    coef = STEPS["reduced"]["coef"]
    order = ["ses", "sector", "c.ses#c.sector", "1.female", "2.sized", "3.sized",
             "1.female#2.sized", "1.female#3.sized", "_cons"]
    return order, np.array([coef[k]["b"] for k in order]), np.array([coef[k]["se"] for k in order])


def test_coefficient_table_layout_doc_example():
    names, b, se = _reduced_numbers()
    groups = [Group(None, [Row("ses", 0)]), Group(None, [Row("sector", 1)]),
              Group(None, [Row("c.ses#c.sector", 2)]), Group(None, [Row("1.female", 3)]),
              Group("sized", [Row("2", 4), Row("3", 5)]),
              Group("female#sized", [Row("1 2", 6), Row("1 3", 7)]), Group(None, [Row("_cons", 8)])]
    got = coef_table("mathach", groups, b, se)
    want = LAYOUT_TABLE.splitlines()
    # intervals recomputed from the rounded b and se may move in the 7th digit: compare the
    # text of every column but the last two, and the interval to 7 significant digits
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g[:53] == w[:53]
        if w.count("|") == 1 and w.split("|")[1].strip() and "conf" not in w:
            lo_g, hi_g = (float(x) for x in g[53:].split())
            lo_w, hi_w = (float(x) for x in w[53:].split())
            assert lo_g == pytest.approx(lo_w, rel=2e-6) and hi_g == pytest.approx(hi_w, rel=2e-6)


def test_groups_from_stata_names_match_design_display():
    names = ["ses", "sector", "c.ses#c.sector", "1b.sized", "2.sized", "3.sized", "0b.female", "1.female",
             "0b.female#1b.sized", "0b.female#2o.sized", "0b.female#3o.sized", "1o.female#1b.sized",
             "1.female#2.sized", "1.female#3.sized", "_cons"]
    groups = groups_from_names(names)
    got = [(g.header, [(r.label, r.status) for r in g.rows]) for g in groups]
    assert got == [(None, [("ses", None)]), (None, [("sector", None)]), (None, [("c.ses#c.sector", None)]),
                   ("sized", [("2", None), ("3", None)]), (None, [("1.female", None)]),
                   ("female#sized", [("1 2", None), ("1 3", None)]), (None, [("_cons", None)])]


def test_omitted_and_base_rows():
    groups = [Group(None, [Row("ses", 0, "omitted")]), Group("female", [Row("0", 1, "base"), Row("1", 2)])]
    got = coef_table("y", groups, np.array([0.0, 0.0, 1.5]), np.array([0.0, 0.0, 0.5]))
    assert got[3] == "         ses |          0  (omitted)"
    assert got[4] == "             |"
    assert got[5] == "      female |"
    assert got[6] == "          0  |          0  (base)"
    assert got[7].startswith("          1  |        1.5         .5     3.00   0.003")


def test_re_table_and_lr_lines():
    rows = [("id: Unstructured", [RERow("var(ses)", .0843152, .0868693, .0111923, .6351725),
                                  RERow("var(_cons)", 3.467264, .5180921, 2.587004, 4.647044),
                                  RERow("cov(ses,_cons)", .5406851, .2936755, -.0349084, 1.116279)])]
    got = mo.re_table_lines(rows, [RERow("var(Residual)", 36.48905, .6177096, 35.29823, 37.72005)])
    got += mo.lr_lines(306.7912, 3, 3.1e-66)
    assert got == """\
------------------------------------------------------------------------------
  Random-effects parameters  |   Estimate   Std. err.     [95% conf. interval]
-----------------------------+------------------------------------------------
id: Unstructured             |
                    var(ses) |   .0843152   .0868693      .0111923    .6351725
                  var(_cons) |   3.467264   .5180921      2.587004    4.647044
              cov(ses,_cons) |   .5406851   .2936755     -.0349084    1.116279
-----------------------------+------------------------------------------------
               var(Residual) |   36.48905   .6177096      35.29823    37.72005
------------------------------------------------------------------------------
LR test vs. linear model: chi2(3) = 306.79                Prob > chi2 = 0.0000

Note: LR test is conservative and provided only for reference.""".splitlines()
    assert mo.lr_lines(301.04, 1, 0.0) == [
        "LR test vs. linear model: chibar2(01) = 301.04        Prob >= chibar2 = 0.0000"]


def test_re_rows_without_standard_errors():
    assert mo.re_row(RERow("var(ses)", .0864968, None, None, None)) == "                    var(ses) |   .0864968"


def test_iteration_line():
    assert mo.iteration_line(0, -14260.945, False) == "Iteration 0:   log likelihood = -14260.945  "
    assert mo.iteration_line(12, -23249.1, True).startswith("Iteration 12:  log restricted-likelihood =   -23249.1  ")


# --- a hand-built fit through display_mixed -----------------------------------------------------------
def _session_with_hsb():
    s = Session(out=Capture())
    s.data = read_dta(HSB)
    size = s.data.values("size")
    s.data.add(Variable("sized", np.where(size <= 499, 1.0, np.where(size <= 1199, 2.0, 3.0)), "byte"))
    s.data.add(Variable("sized_1", (np.where(size <= 499, 1.0, 0.0)), "byte"))
    s.data.add(Variable("school", np.array([f"s{int(v)}" for v in s.data.values("id")], dtype=object), "str5"))
    return s


def test_display_from_hand_built_fit_without_se(monkeypatch):
    from hlmshell.commands import estimation as est

    s = _session_with_hsb()
    names, b, se = _reduced_numbers()
    theta = np.array([0.5 * math.log(3.326955), 0.5 * math.log(36.55583)])

    def fake_fit(y, X, blocks, **kw):
        assert X.shape == (7185, 9)
        cb = kw.get("callback")
        if cb:
            cb("gradient", 0, -23300.5)
            cb("gradient", 1, -23252.051)
        return LmmFit(beta=b, V_beta=np.diag(se ** 2), ll=-23252.051, reml=False, converged=True,
                      iterations=1, sigma2=36.55583, covs=[np.array([[3.326955]])],
                      vc_names=[("lns1_1_1", "_cons"), ("lnsig_e", "_cons")], vc_theta=theta, vc_V=None,
                      n_obs=7185)

    import hlmshell.engine.lmm as lmm
    monkeypatch.setattr(lmm, "fit_lmm", fake_fit)
    monkeypatch.setattr(lmm, "linear_ll", lambda y, X, reml=False: -23252.051 - 151.24)
    it = Interpreter(s)
    rc = it.run_line("mixed mathach c.ses##c.sector i.female##i.sized || id:")
    out = s.out.getvalue()
    assert rc == 0, out
    lines = out.splitlines()
    i = lines.index("Performing gradient-based optimization: ")
    assert lines[i - 2:i + 6] == ["Performing EM optimization ...", "",
                                  "Performing gradient-based optimization: ",
                                  "Iteration 0:   log likelihood =   -23300.5  ",
                                  "Iteration 1:   log likelihood = -23252.051  ", "",
                                  "Computing standard errors ...", ""]
    assert "Log likelihood = -23252.051                     Prob > chi2       =     0.0000" in lines
    assert "id: Identity                 |" in lines
    assert "                  var(_cons) |   3.326955" in lines
    assert "               var(Residual) |   36.55583" in lines
    assert "LR test vs. linear model: chibar2(01) = 302.48        Prob >= chibar2 = 0.0000" in lines
    assert lines[-1] == "Warning: Standard-error calculation failed."
    e = s.e
    assert e.cmd == "mixed" and e.scalars["N"] == 7185 and e.scalars["df_m"] == 8
    assert e.scalars["k_f"] == 15 and e.scalars["rank"] == 11 and e.scalars["k_r"] == 2
    assert e.macros["method"] == "ML" and e.macros["ivars"] == "id" and e.macros["vartypes"] == "Identity"
    assert e.names[3] == ("mathach", "0b.female") and e.names[-1] == ("lnsig_e", "_cons")
    assert e.b[e.coef_index(None, "1.female#3.sized")] == pytest.approx(-1.219811)
    assert e.matrices["N_g"].tolist() == [[160.0]] and e.sample.sum() == 7185
    # Wald chi2 = b' V^-1 b over the 8 slopes
    assert e.scalars["chi2"] == pytest.approx(float(np.sum((b[:-1] / se[:-1]) ** 2)))


# --- errors leave the session unchanged ----------------------------------------------------------------
@pytest.mark.parametrize("cmd,rc,msg", [
    ("mixed nosuch ses || id:", 111, "variable nosuch not found"),
    ("mixed mathach nosuch || id:", 111, "variable nosuch not found"),
    ("mixed mathach ses || nosuch:", 111, "variable nosuch not found"),
    ("mixed mathach ses || id: nosuch", 111, "variable nosuch not found"),
    ("mixed school ses || id:", 109, "type mismatch"),
    ("mixed mathach ses if ses > 100 || id:", 2000, "no observations"),
    ("mixed mathach ses || id:, cov(bogus)", 198, None),
    ("mixed mathach ses || id:, bogusopt", 198, "option bogusopt not allowed"),
    ("mixed mathach i.ses || id:", 452, None),
])
def test_errors(cmd, rc, msg):
    s = _session_with_hsb()
    before = s.e
    it = Interpreter(s)
    got = it.run_line(cmd)
    out = s.out.getvalue()
    assert got == rc, out
    if msg:
        assert msg in out
    assert "Traceback" not in out
    assert s.e is before and "Mixed-effects" not in out


def test_replay_without_results():
    s = _session_with_hsb()
    it = Interpreter(s)
    assert it.run_line("mixed") == 301
    assert "last estimates not found" in s.out.getvalue()


# --- end to end: the notes' models -----------------------------------------------------------------------
def _rows_under_headers(lines):
    """{coefficient name: numbers} read back from a printed table (headers + level rows)."""
    out, header, pending = {}, None, ""
    for ln in lines:
        if "|" not in ln:
            continue
        left, right = ln.split("|", 1)
        label = left.strip()
        nums = right.split()
        if label.endswith("#") and not nums:
            pending += label
            continue
        if pending:
            label, pending = pending + label, ""
        if not nums:
            header = label or header
            continue
        if left.endswith("  ") and header and all(t.isdigit() for t in label.split()):
            levels = label.split()
            parts, k = [], 0
            for part in header.split("#"):
                if part.startswith("c."):
                    parts.append(part)
                else:
                    parts.append(f"{levels[k]}.{part}")
                    k += 1
            key = "#".join(parts)
        else:
            key, header = label, None
        try:
            out.setdefault(key, [float(x) for x in nums])
        except ValueError:
            out.setdefault(key, nums)
    return out


@pytest.fixture(scope="module")
def notes_run():
    s = _session_with_hsb()
    it = Interpreter(s)
    out = {}
    for name, cmd in [("reduced", "mixed mathach c.ses##c.sector i.female##i.sized || id:"),
                      ("final", "mixed mathach c.ses##c.sector i.female##i.sized_1 || id:")]:
        s.out = Capture()
        assert it.run_line(cmd) == 0
        out[name] = (s.out.getvalue(), s.e)
    s.out = Capture()
    assert it.run_line("mixed, nofetable noretable nolrtest") == 0
    out["replay"] = (s.out.getvalue(), s.e)
    return out


@pytest.mark.parametrize("name", ["reduced", "final"])
def test_notes_model_fixed_part(notes_run, name):
    """Every coefficient row of the notes, at the replay checker's tolerances."""
    text, res = notes_run[name]
    step = STEPS[name]
    h = step["header"]
    assert f"Log likelihood = {h['ll']:.3f}" in text
    assert f"Wald chi2({h['wald_df']})" in text
    assert "Number of obs     =      7,185" in text and "Number of groups  =        160" in text
    wald = float(text.split(f"Wald chi2({h['wald_df']})")[1].split("=")[1].split()[0])
    assert wald == pytest.approx(h["wald_chi2"], abs=0.006)
    table = text.split("Coefficient")[1].split("Random-effects")[0].splitlines()[1:]
    got = _rows_under_headers(table)
    assert list(got) == list(step["coef"])
    for key, row in step["coef"].items():
        b, se, z, p, lo, hi = got[key]
        for g, w in ((b, row["b"]), (se, row["se"]), (lo, row["ci"][0]), (hi, row["ci"][1])):
            assert g == pytest.approx(w, rel=1e-6, abs=5e-7), key
        assert z == pytest.approx(row["z"], abs=0.0051) and p == pytest.approx(row["p"], abs=0.00051)


@pytest.mark.parametrize("name", ["reduced", "final"])
def test_notes_model_random_part(notes_run, name):
    text, res = notes_run[name]
    step = STEPS[name]
    lines = text.splitlines()
    got = {}
    for ln in lines:
        if "|" in ln and ln.split("|")[0].strip().startswith("var("):
            got[ln.split("|")[0].strip()] = [float(x) for x in ln.split("|")[1].split()]
    want = dict(step["re"]["id: Identity"])
    want["var(Residual)"] = step["re"]["var(Residual)"]
    for key, vals in want.items():
        # the variance components carry the optimiser's precision (engine): 7th digit
        assert got[key] == pytest.approx(vals, rel=3e-6), key
    lr = step["lr_vs_linear"]
    assert f"LR test vs. linear model: chibar2(01) = {lr['value']:.2f}" in text


def test_final_model_rows_layout(notes_run):
    text, res = notes_run["final"]
    lines = text.splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith("    1.female |"))
    assert lines[i + 1].startswith("   1.sized_1 |")
    assert lines[i + 2] == "             |"
    assert lines[i + 3] == "      female#|"
    assert lines[i + 4] == "     sized_1 |"
    assert lines[i + 5].startswith("        1 1  |")
    assert res.macros["cmdline"] == "mixed mathach c.ses##c.sector i.female##i.sized_1 || id:"


def test_replay_prints_header_only(notes_run):
    text, res = notes_run["replay"]
    assert res is notes_run["final"][1]
    assert "Mixed-effects ML regression" in text
    assert "Coefficient" not in text and "Random-effects" not in text and "LR test" not in text
    assert "Iteration" not in text


def test_xtmixed_alias_reml_string_group_and_nested():
    s = _session_with_hsb()
    it = Interpreter(s)
    assert it.run_line("xtmixed mathach ses || school:, reml nolog") == 0
    out = s.out.getvalue()
    assert "Mixed-effects REML regression" in out and "Log restricted-likelihood" in out
    assert "Group variable: school" in out and "Iteration" not in out
    assert s.e.macros["method"] == "REML" and s.e.scalars["N_g" if False else "N"] == 7185
    s.out = Capture()
    assert it.run_line("mixed mathach ses || id: || sector:, nolog") == 0
    out = s.out.getvalue()
    assert " Group variable |     groups    Minimum    Average    Maximum" in out
    assert "             id |        160         14       44.9         67" in out
    assert "         sector |        160         14       44.9         67" in out
    assert "sector: Identity" in out


def test_mixed_without_random_part_is_the_linear_model():
    s = _session_with_hsb()
    it = Interpreter(s)
    assert it.run_line("mixed mathach ses, nolog") == 0
    out = s.out.getvalue().splitlines()
    y, x = s.data.values("mathach"), s.data.values("ses")
    X = np.column_stack([x, np.ones_like(x)])
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    rss = float(((y - X @ b) ** 2).sum())
    ll = -0.5 * len(y) * (1 + math.log(2 * math.pi * rss / len(y)))
    assert s.e.scalars["ll"] == pytest.approx(ll) and s.e.b[:2] == pytest.approx(b)
    assert out[1] == "Mixed-effects ML regression                     Number of obs     =      7,185"
    assert out[2].startswith("                                                Wald chi2(1)")
    assert "Group variable" not in "\n".join(out) and "LR test" not in "\n".join(out)
    i = out.index("  Random-effects parameters  |   Estimate   Std. err.     [95% conf. interval]")
    assert out[i + 1].startswith("-----------------------------+")
    assert out[i + 2].startswith("               var(Residual) |   41.14736")


def test_iterate_limit_flags_nonconvergence():
    s = _session_with_hsb()
    out = s.out
    it = Interpreter(s)
    it.run_line("mixed mathach ses || id: ses, cov(un) iterate(1)")
    assert "convergence not achieved" in out.getvalue()
    assert s.e.scalars["converged"] == 0
    it.run_line("mixed mathach ses || id: ses, cov(un) nolog")
    assert s.e.scalars["converged"] == 1
