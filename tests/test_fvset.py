"""fvset: the declared base used by i.var in estimation (coefficients against numpy least
squares with that base's dummy left out), kept through save/use as the _fv_base
characteristic; report layout and returns; refusals."""
import numpy as np
import pytest

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture
def s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Session(out=Capture())
    ok(s, "use hsb")
    ok(s, "generate g = mod(id, 4) + 1")
    return s


def _ols(s, base):
    y, ses, g = (s.data.var(v).values for v in ("mathach", "ses", "g"))
    levels = [lv for lv in (1, 2, 3, 4) if lv != base]
    X = np.column_stack([ses] + [(g == lv).astype(float) for lv in levels] + [np.ones_like(y)])
    return np.linalg.lstsq(X, y, rcond=None)[0], levels


def _coefs(s, levels):
    names = [nm for _, nm in s.e.names]
    b = np.ravel(s.e.b)
    return np.array([b[names.index("ses")]] + [b[names.index(f"{lv}.g")] for lv in levels]
                    + [b[names.index("_cons")]])


@pytest.mark.parametrize("spec,base", [("3", 3), ("last", 4), ("first", 1)])
def test_base_used_by_regress(s, spec, base):
    ok(s, f"fvset base {spec} g")
    ok(s, "regress mathach ses i.g")
    want, levels = _ols(s, base)
    np.testing.assert_allclose(_coefs(s, levels), want, rtol=1e-8)
    names = [nm for _, nm in s.e.names]
    assert f"{base}b.g" in names


def test_frequent_none_and_explicit_base_wins(s):
    g = s.data.var("g").values
    freq = int(np.bincount(g.astype(int)).argmax())
    ok(s, "fvset base freq g")
    ok(s, "regress mathach ses i.g")
    assert f"{freq}b.g" in [nm for _, nm in s.e.names]
    ok(s, "regress mathach ses ib2.g")            # typed base beats fvset
    want, levels = _ols(s, 2)
    np.testing.assert_allclose(_coefs(s, levels), want, rtol=1e-8)
    ok(s, "fvset base none g")
    ok(s, "regress mathach ses i.g, noconstant")
    assert not any(nm.endswith("b.g") for _, nm in s.e.names)
    ok(s, "fvset base default g")
    ok(s, "regress mathach ses i.g")
    assert "1b.g" in [nm for _, nm in s.e.names]


def test_kept_through_save_and_use_and_mixed(s):
    ok(s, "fvset base 3 g")
    ok(s, "save fv")
    ok(s, "use fv, clear")
    assert s.data.char("g", "_fv_base") == "3"
    ok(s, "mixed mathach ses i.g || id:")
    assert "3b.g" in [nm for _, nm in s.e.names]


def test_report_and_returns(s):
    ok(s, 'generate str3 t = "a"')
    out = ok(s, "fvset base 2 g sector t")
    assert "Note:  The following string variables were ignored." in out and "t" in out
    assert s.r.macros["varlist"] == "sector g" or s.r.macros["varlist"] == "g sector"
    ok(s, "fvset design asbalanced sector")
    out = ok(s, "fvset report")
    lines = out.strip("\n").splitlines()
    assert lines[0] == "  Variable    Base    Design"
    assert lines[1] == "  " + "-" * 30
    assert lines[2] == "  sector      2       asbalanced" and lines[3] == "  g           2"
    assert s.r.macros["baselist"] == "2 2" and s.r.macros["designlist"] == 'asbalanced ""'
    out = ok(s, "fvset report, design(asbalanced)")
    assert "g " not in out and s.r.macros["varlist"] == "sector"
    ok(s, "fvset clear g sector")
    assert ok(s, "fvset report") == ""


def test_refusals(s):
    for line, rc in [("fvset nosuch g", 199), ("fvset base", 198), ("fvset base -1 g", 198),
                     ("fvset base often g", 198), ("fvset base 2", 100), ("fvset base 2 nosuch", 111),
                     ("fvset design weird g", 198), ("fvset clear", 100), ("fvset base 2 g, design(x)", 198)]:
        assert run(s, line)[0] == rc, line
    assert s.data.char("g", "_fv_base") == ""
