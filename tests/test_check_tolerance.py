"""`hlmshell check`'s classes: exact, within convergence tolerance, not comparable (boundary),
differ; and --strict, which keeps the digit-by-digit comparison."""
from __future__ import annotations

import math
import os
import re

import pytest

from hlmshell.check import compare_texts, main
from hlmshell.check.compare import numbers_match
from hlmshell.check.numbers import Num, Row
from hlmshell.check.tolerance import (DIFFER, EXACT, NOT_COMPARABLE, RTOL, S, WITHIN, FitInfo,
                                      boundary_reason, fit_info, tolerance)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOFILE = os.path.join(ROOT, "sample_dofiles", "course_notes.do")
REFLOG = os.path.join(ROOT, "sample_dofiles", "course_notes_stata.log")
SUMMARY = re.compile(r"^27 commands, (\d+) numbers: (\d+) exact, (\d+) within convergence tolerance, "
                     r"(\d+) not comparable \(boundary\), (\d+) differ$", re.M)
SESRANDOM = "mixed mathach c.ses##c.sector c.ses##i.sized i.female##i.sector i.female##i.sized || id: ses, cov(unstr)"


def _have_replay():
    try:
        import hlmshell.interpreter  # noqa: F401
        from hlmshell import registry
        registry.resolve("mixed")
    except Exception:
        return False
    return True


needs_replay = pytest.mark.skipif(not _have_replay(), reason="interpreter or mixed not available")


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    """hlmshell's transcript of the notes, saved once for the --transcript runs."""
    from hlmshell.check import replay
    text, rc = replay(DOFILE)
    assert rc == 0
    path = tmp_path_factory.mktemp("replay") / "ours.log"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _stata():
    return open(REFLOG, encoding="utf-8").read()


def _altered(tmp_path, old, new):
    text = _stata()
    assert text.count(old) == 1, old
    path = tmp_path / "altered.log"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return str(path)


# -- the README example ---------------------------------------------------------------------
@needs_replay
def test_course_notes_example_has_no_differences(capsys):
    rc = main([DOFILE, REFLOG])
    out = capsys.readouterr().out
    m = SUMMARY.search(out)
    assert m, out
    total, exact, within, boundary, differ = map(int, m.groups())
    assert differ == 0 and rc == 0, out
    assert total == exact + within + boundary and total > 700
    # the sesrandom model sits on corr(ses,_cons) = 1: its random-effects SEs and CIs
    assert boundary >= 9 and re.search(r"note: log line 79 .*corr\(ses,_cons\) = 0\.99999\d+ is within 1e-06", out)


@needs_replay
def test_strict_reproduces_the_digit_by_digit_counts(replayed, capsys):
    stata, ours = _stata(), open(replayed, encoding="utf-8").read()
    old = compare_texts(stata, ours)                      # the comparison as it always was
    assert old.strict and all(p.cls in (EXACT, DIFFER) for p in old.pairs)
    expected = sum(1 for p in old.pairs if p.ours is not None and numbers_match(p.stata, p.ours))
    assert old.matched == expected
    rc = main([DOFILE, REFLOG, "--transcript", replayed, "--strict"])
    out = capsys.readouterr().out
    assert f"27 commands, {old.total} numbers, {old.matched} match" in out
    assert rc == (0 if old.matched == old.total else 1)
    # the classifying comparison calls exact exactly what the strict one matches
    new = compare_texts(stata, ours, strict=False)
    assert new.count(EXACT) == old.matched and new.total == old.total


@needs_replay
def test_a_third_digit_change_differs(replayed, tmp_path, capsys):
    # a coefficient (model 1's ses, SE .28: allowed 0.0009) and a standard error
    # (the femalerandom model's _cons SE .5258146: allowed eps*SE, about 0.0006)
    for old, new, label in (("3.071058", "3.081058", "ses"), (".5258146", ".5268146", "_cons")):
        rc = main([DOFILE, _altered(tmp_path, old, new), "--transcript", replayed])
        out = capsys.readouterr().out
        assert rc == 1, out
        assert re.search(rf"MISMATCH {re.escape(label)}\s+Stata\s+{re.escape(new)}\s+hlmshell", out), out
        m = SUMMARY.search(out)
        assert m and m.group(5) == "1", out


@needs_replay
def test_numbers_outside_ml_fits_must_be_exact(replayed, tmp_path, capsys):
    rc = main([DOFILE, _altered(tmp_path, "Prob > chi2 = 0.0564", "Prob > chi2 = 0.0565"),
               "--transcript", replayed])
    out = capsys.readouterr().out
    assert rc == 1 and re.search(r"MISMATCH Prob > chi2 = #\s+Stata\s+0\.0565", out), out
    # --rtol still widens the window, as its own class
    text = _stata()
    assert text.count("46529.34") == 1
    path = tmp_path / "ic.log"
    path.write_text(text.replace("46529.34", "46529.35"), encoding="utf-8")
    assert main([DOFILE, str(path), "--transcript", replayed]) == 1
    capsys.readouterr()
    assert main([DOFILE, str(path), "--transcript", replayed, "--rtol", "5e-4"]) == 0
    out = capsys.readouterr().out
    assert "1 within --rtol, " in out.splitlines()[-1], out


@needs_replay
def test_boundary_model_se_is_not_comparable(replayed):
    rep = compare_texts(_stata(), open(replayed, encoding="utf-8").read(), strict=False)
    ses = [p for p in rep.pairs if p.command == SESRANDOM and p.label == "var(ses)"]
    assert [p.stata.text for p in ses] == [".0843152", ".0868693", ".0111923", ".6351725"]
    assert ses[0].cls in (EXACT, WITHIN)                    # the estimate itself is comparable
    for p in ses[1:]:                                       # its SE and CI bounds are not
        if p.cls != EXACT:
            assert p.cls == NOT_COMPARABLE and p.ok and "corr(ses,_cons)" in p.reason, p
    assert any(p.cls == NOT_COMPARABLE for p in ses)


@needs_replay
def test_verbose_gives_class_and_reason(replayed, capsys):
    assert main([DOFILE, REFLOG, "--transcript", replayed, "--verbose"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"within\s+sector\s+Stata\s+\S+\s+hlmshell\s+\S+\s+within convergence tolerance: "
                     r"\|diff\| \S+ <= \S+ \(sqrt\(nrtol\)\*SE\)", out), out
    assert re.search(r"n/c\s+var\(ses\)\s+.*not comparable \(boundary\): corr\(ses,_cons\)", out), out


# -- the rule itself, on synthetic numbers ----------------------------------------------------
def _row(label, *texts, line=None):
    nums = [Num(t, float(t)) for t in texts]
    return Row(label.lower(), label, nums, line or f"{label:>12} | " + "  ".join(texts))


def test_tolerance_of_an_estimate_is_sqrt_nrtol_standard_errors():
    assert math.isclose(S, 10 ** -2.5)
    row = _row("x", "2.0", ".5", "4.00", "0.000", "1.02", "2.98")
    info = FitInfo(ml=True, eps=S * 0.3 / 2)
    assert math.isclose(tolerance(row, 0, info)[0], S * 0.5)
    assert math.isclose(tolerance(row, 1, info)[0], 0.5 * S * 0.15)
    assert math.isclose(tolerance(row, 4, info)[0], S * 0.5 + 1.96 * S * 0.15 * 0.5, rel_tol=1e-3)
    # outside an ML fit only the printed digits count
    assert tolerance(row, 0, FitInfo()) is None
    # past the first-order range (s*R > 0.05) the SE-derived numbers need their digits
    wild = FitInfo(ml=True, eps=math.nan)
    assert tolerance(row, 0, wild) is not None and tolerance(row, 1, wild) is None


_FIT = """\
Mixed-effects ML regression                     Number of obs     =      7,185
Log likelihood = -23248.671                     Prob > chi2       =     0.0000

------------------------------------------------------------------------------
  Random-effects parameters  |   Estimate   Std. err.     [95% conf. interval]
-----------------------------+------------------------------------------------
id: Unstructured             |
                    var(ses) |   {vses}   .0705967      .0163353    .4351414
                  var(_cons) |   3.467898   .5088789      2.601125    4.623507
              cov(ses,_cons) |   {cov}   .2395382      .0712337    1.010206
-----------------------------+------------------------------------------------
               var(Residual) |   36.48893   .6164381      35.30052    37.71735
------------------------------------------------------------------------------
"""


def test_boundary_detection():
    at = _FIT.format(vses=".0843099", cov=".5407199").splitlines()
    assert "corr(ses,_cons) = 0.99999" in boundary_reason(at)
    inside = _FIT.format(vses=".0843099", cov=".3000000").splitlines()
    assert boundary_reason(inside) is None
    zero = _FIT.format(vses="1.00e-11", cov="0").splitlines()
    assert "var(ses)" in boundary_reason(zero)
    info = fit_info(inside, at)                 # judged on hlmshell's output (the second)
    assert info.ml and info.boundary
    assert math.isclose(info.eps, S * (.0705967 / .0843099) / 2)


def test_synthetic_boundary_se_not_comparable_and_wrong_estimate_differs():
    stata = ". mixed y || id: ses, cov(unstr)\n\n" + _FIT.format(vses=".0843152", cov=".5406851")
    ours = ". mixed y || id: ses, cov(unstr)\n\n" + _FIT.format(vses=".0843099", cov=".5407199")
    stata = stata.replace(".0705967", ".0868693")
    rep = compare_texts(stata, ours, strict=False)
    by = {(p.label, p.stata.text): p for p in rep.pairs}
    assert by[("var(ses)", ".0868693")].cls == NOT_COMPARABLE
    assert by[("var(ses)", ".0843152")].cls == WITHIN
    assert rep.ok and rep.count(DIFFER) == 0
    # the same numbers, strictly: three differ
    assert compare_texts(stata, ours).matched == rep.total - 3
    # an estimate off in its third digit is not excused by the boundary
    bad = compare_texts(stata.replace("3.467898", "3.477898"), ours, strict=False)
    assert [p.label for p in bad.pairs if p.cls == DIFFER] == ["var(_cons)"]
    assert RTOL not in {p.cls for p in rep.pairs}


def test_help_states_the_rule(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for text in ("nrtolerance(1e-5)", "tolerance(1e-6)", "ltolerance(1e-7)", "sqrt(1e-5)",
                 "not comparable (boundary)", "--strict"):
        assert text in out, text
