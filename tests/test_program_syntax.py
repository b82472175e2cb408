"""syntax / marksample / markout / tokenize / gettoken / unab inside user programs: the locals
Stata documents ([P] syntax), its messages and codes, temporary variables dropped at the end,
and a property test: any option value typed comes back in its local."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from session_run import interp_session as Session  # noqa: N812  programs live with it
from session_run import iok as ok
from session_run import irun as run


SHOW = ('display "vl=[`varlist\'] if=[`if\'] in=[`in\'] d=[`detail\'] c=[`constant\'] '
        'lev=[`level\'] n=[`n\'] r=[`rho\'] t=[`title\'] w=[`weight\'] e=[`exp\'] o=[`options\']"')


def program(s, name, spec, body=SHOW):
    run(s, "capture program drop " + name)
    text = "\n".join([f"program define {name}, rclass", f"syntax {spec}", body, "end"]) + "\n"
    assert s.interpreter.run_text(text, echo=False) == 0


@pytest.fixture()
def s():
    s = Session()
    ok(s, "use hsb")
    program(s, "show", "varlist(numeric min=1 max=3) [if] [in] [aweight fweight] "
                       "[, Detail noCONStant Level(cilevel) N(integer 10) Rho(real 0.5) "
                       "Title(string) *]")
    return s


def locals_of(out):
    line = next(ln for ln in out.splitlines() if ln.startswith("vl="))
    import re
    return dict(re.findall(r"(\w+)=\[(.*?)\]", line))


def test_defaults(s):
    got = locals_of(ok(s, "show ses"))
    assert got == {"vl": "ses", "if": "", "in": "", "d": "", "c": "", "lev": "95", "n": "10",
                   "r": "0.5", "t": "", "w": "", "e": "", "o": ""}


def test_everything_given(s):
    got = locals_of(ok(s, 'show ses math* if sector==1 in 1/100 [aw=size], nocons d lev(90) '
                          'n(5) rho(-1.5) title("Hi, there") extra(3) other'))
    assert got["vl"] == "ses mathach"                   # math* expanded
    assert got["if"] == "if sector==1" and got["in"] == "in 1/100"
    assert (got["d"], got["c"], got["lev"], got["n"], got["r"]) == ("detail", "noconstant", "90", "5", "-1.5")
    assert got["t"] == "Hi, there" and got["w"] == "aweight" and got["e"] == "= size"
    assert got["o"] == "extra(3) other"


@pytest.mark.parametrize("line,rc,msg", [
    ("show", 100, "varlist required"),
    ("show name", 109, None),                       # a string variable? hsb has none: see below
    ("show ses mathach size female", 103, "too many variables specified"),
    ("show nosuch", 111, None),
    ("show ses, n(2.5)", 198, None),
    ("show ses, lev(5)", 198, "level() must be between 10 and 99.99 inclusive"),
    ("show ses [pw=size]", 101, "pweight not allowed"),
    ("show ses, detail(3)", 198, None),
    ("show ses = 3", 101, None),
])
def test_errors(s, line, rc, msg):
    if line == "show name":
        ok(s, 'generate str5 name = "a"')
    got, out = run(s, line)
    assert got == rc, out
    if msg:
        assert msg in out


def test_other_elements():
    s = Session()
    ok(s, "use hsb")
    program(s, "nv", "newvarlist(max=2) [, Replace]", 'display "[`varlist\'] [`typlist\'] [`replace\']"')
    assert "[a b] [float double] []" in ok(s, "nv a double b")
    assert run(s, "nv ses")[0] == 110
    program(s, "an", "anything(name=stuff) [using/] [=/exp]", 'display `"[`stuff\'] [`using\'] [`exp\']"\'')
    assert '[x "y z"] [my file.dta] [2*3]' in ok(s, 'an x "y z" using "my file.dta" = 2*3')
    program(s, "opts", ", GENerate(name) [By(varlist) Values(numlist)]",
            'display "[`generate\'] [`by\'] [`values\']"')
    assert "[g1] [sector female] [1 3 5]" in ok(s, "opts, gen(g1) by(sec fem) values(1(2)5)")
    got, out = run(s, "opts, by(sector)")
    assert got == 198 and "option generate() required" in out
    program(s, "none", "[, Detail]", 'display "ok"')
    got, out = run(s, "none ses")
    assert got == 101 and "varlist not allowed" in out
    program(s, "all", "[varlist]", 'display "[`varlist\']"')
    assert "[" + " ".join(s.data.names) + "]" in ok(s, "all")


def test_marksample_and_temps_dropped():
    s = Session()
    ok(s, "use hsb")
    ok(s, "replace ses = . in 1/10")
    program(s, "cnt", "varlist [if] [in] [fweight]",
            "marksample touse\nquietly count if `touse'\nreturn scalar N = r(N)\n"
            "markout `touse' mathach\nquietly count if `touse'\nreturn scalar N2 = r(N)")
    names = list(s.data.names)
    ok(s, "cnt ses if sector==1")
    sector = np.asarray(s.data.var("sector").values)
    ses = np.asarray(s.data.var("ses").values)
    assert s.r.scalars["N"] == np.sum((sector == 1) & ~np.isnan(ses))
    assert s.r.scalars["N2"] == s.r.scalars["N"]
    assert list(s.data.names) == names                    # the marker variable is gone
    ok(s, "cnt ses in 1/20")
    assert s.r.scalars["N"] == 10


def test_tokenize_gettoken_unab():
    s = Session()
    ok(s, "use hsb")
    ok(s, 'local s `"a "b c" d"\'')
    ok(s, "tokenize `\"`s'\"'")
    assert [s.local.get(k) for k in "1234"] == ["a", "b c", "d", None]
    ok(s, 'tokenize "x,y", parse(",")')
    assert [s.local.get(k) for k in "123"] == ["x", ",", "y"]
    ok(s, 'local list "alpha beta gamma"')
    ok(s, "gettoken first rest : list")
    assert s.local["first"] == "alpha" and s.local["rest"] == " beta gamma"
    ok(s, "gettoken one list : list")
    assert s.local["one"] == "alpha" and s.local["list"] == " beta gamma"
    ok(s, "unab v : m* s*")
    assert s.local["v"].split() == [n for n in s.data.names if n.startswith("m")] + \
        [n for n in s.data.names if n.startswith("s")]
    assert run(s, "unab v : nosuch*")[0] == 111


@settings(max_examples=40, deadline=None)
@given(n=st.integers(-10**6, 10**6), title=st.text(alphabet="abcXYZ ,.-", min_size=1, max_size=12))
def test_property_values_come_back(n, title):
    s = _shared()
    title = title.strip() or "x"
    got = locals_of(ok(s, f'show ses, n({n}) title("{title}")'))
    assert got["n"] == str(n) and got["t"] == title


_S = []


def _shared():
    if not _S:
        s = Session()
        ok(s, "use hsb")
        program(s, "show", "varlist [, N(integer 10) Title(string) Level(cilevel) Detail "
                           "noCONStant Rho(real 0.5) *] [if] [in] [aweight]")
        _S.append(s)
    return _S[0]


# ---- version as a command and as a prefix -----------------------------------------------------
def test_version_prefix_runs_the_command():
    from tests.session_run import interp_session, irun, iok
    s = interp_session("clear", "set obs 3", "gen x = _n")
    assert "hi" in iok(s, 'version 12: display "hi"')
    assert "hi" in iok(s, 'vers 13.1 : display "hi"')
    assert "6" in iok(s, "quietly version 12: summarize x\ndisplay r(sum)")
    rc, out = irun(s, "version 12: nosuchcommand")
    assert rc == 199 and "unrecognized" in out
    iok(s, "capture version 12: nosuchcommand")
    iok(s, "version 12: replace x = x * 2")
    assert list(s.data.vars["x"].values) == [2, 4, 6]


def test_version_command():
    from tests.session_run import interp_session, irun, iok
    s = interp_session()
    assert "version 17.0" in iok(s, "version")
    iok(s, "version 11.2")
    iok(s, "version 16, user")
    rc, _ = irun(s, "version abc")
    assert rc == 198


def test_capture_program_define_is_a_definition():
    """`capture program define sim ... end` defines sim (public simulation do-file); when the
    name is taken the old program stays, the body is not run, and _rc is 110."""
    from tests.session_run import interp_session, iok
    s = interp_session()
    iok(s, 'capture program define sim\n  display "first"\nend')
    assert "first" in iok(s, "sim")
    out = iok(s, 'capture program define sim\n  display "second"\nend\ndisplay _rc')
    assert "second" not in out and "110" in out
    assert "first" in iok(s, "sim")
    iok(s, 'capture noisily program define sim2\n  display "two"\nend')
    assert "two" in iok(s, "sim2")


def test_xtmixed_predict_level_is_relevel():
    """After xtmixed, `predict u*, reffects level(id)` is relevel(id) (xtmixed_p's name)."""
    import numpy as np
    from tests.session_run import interp_session, iok
    s = interp_session("use hsb", "quietly xtmixed mathach ses || id: ses")
    iok(s, "predict u*, reffects level(id)")
    iok(s, "predict v*, reffects relevel(id)")
    for a, b in (("u1", "v1"), ("u2", "v2")):
        np.testing.assert_array_equal(s.data.vars[a].values, s.data.vars[b].values)
