"""esttab hands options it lacks to estout: estout's starlevels() and s() (stats()) give the same
table as esttab's star() and stats()."""
from hlmshell.session import Session
from tests.session_run import HSB_DTA, ok, run


def _session():
    s = Session()
    ok(s, f'use "{HSB_DTA}", clear')
    ok(s, "quietly regress mathach ses female")
    ok(s, "eststo m1")
    return s


def test_estout_spellings_match_esttab_options():
    s = _session()
    a = ok(s, "esttab m1, starlevels(+ 0.10 * 0.05) s(N r2)")
    b = ok(s, "esttab m1, star(+ 0.10 * 0.05) stats(N r2)")
    assert a.split("\n", 2)[2] == b.split("\n", 2)[2]
    assert "+ p<0.10, * p<0.05" in a and "r2" in a


def test_bad_starlevels_is_an_error():
    s = _session()
    rc, out = run(s, "esttab m1, starlevels(* 2)")
    assert rc == 198, out
