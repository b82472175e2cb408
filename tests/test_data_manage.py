"""keep/drop, sort/gsort, rename, order, clear, set, preserve/restore, compress."""
import numpy as np
import pytest

from hlmshell.data.dataset import Variable
from hlmshell.data.missing import ext_missing
from hlmshell.errors import StataError
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.parser import parse_command


from datacmd import run, s  # noqa: F401 (fixture)




def fails(s, text, rc):
    before = s.data.copy()
    with pytest.raises(StataError) as e:
        run(s, text)
    assert e.value.rc == rc
    assert s.data.names == before.names and s.data.n == before.n
    for nm in before.names:
        assert np.array_equal(s.data.values(nm), before.values(nm), equal_nan=True)
    return e.value.message


def test_drop_keep_variables(s):
    assert run(s, "drop minority-female") == ""
    assert "minority" not in s.data and "female" not in s.data and s.data.changed
    run(s, "keep id ses mathach")
    assert s.data.names == ["id", "ses", "mathach"]
    assert fails(s, "keep foo", 111) == "variable foo not found"
    assert fails(s, "drop foo", 111) == "variable foo not found"


def test_drop_keep_observations_messages(s):
    assert run(s, "drop if ses > 2") == "(1 observation deleted)\n"
    assert s.data.n == 7184
    assert run(s, "keep if sector==1") == f"({7184 - 3543:,} observations deleted)\n"
    assert s.data.n == 3543
    assert run(s, "keep in 1/10") == "(3,533 observations deleted)\n"
    assert run(s, "drop if ses > 100") == "(0 observations deleted)\n"
    assert s.data.n == 10


def test_by_drop_uses_group_n(s):
    Interpreter(s).run_text("bysort id (ses): keep if _n==1", echo=False)
    assert s.data.n == 160
    assert s.data.sortedby[:1] == ["id"]


def test_sort_missing_last_and_gsort(s):
    run(s, "keep in 1/6")
    x = np.array([3.0, np.nan, 1.0, ext_missing(1), 2.0, 1.0])
    s.data.vars["ses"].values = x
    run(s, "sort ses")
    v = s.data.values("ses")
    assert list(v[:4]) == [1.0, 1.0, 2.0, 3.0] and np.isnan(v[4:]).all()
    assert s.data.sortedby == ["ses"]
    run(s, "gsort -ses")
    v = s.data.values("ses")
    assert list(v[:4]) == [3.0, 2.0, 1.0, 1.0] and np.isnan(v[4:]).all()
    assert s.data.sortedby == []
    run(s, "gsort ses -mathach")
    assert s.data.sortedby == ["ses"]


def test_sort_is_stable_and_keeps_rows_together(s):
    mathach = dict(zip(range(s.data.n), s.data.values("mathach")))
    run(s, "generate obs = _n")
    run(s, "sort sector")
    obs = s.data.values("obs").astype(int)
    sec = s.data.values("sector")
    assert np.all(np.diff(sec) >= 0)
    for part in (obs[sec == 0], obs[sec == 1]):
        assert np.all(np.diff(part) > 0)
    assert all(s.data.values("mathach")[i] == mathach[o - 1] for i, o in enumerate(obs[:50]))


def test_rename(s):
    run(s, "rename ses socstat")
    assert "socstat" in s.data and "ses" not in s.data
    assert s.data.names.index("socstat") == 3
    run(s, "ren socstat ses")
    assert fails(s, "rename ses id", 110) == "variable id already defined"
    assert fails(s, "rename nosuch x", 111) == "variable nosuch not found"
    assert fails(s, "rename ses 1bad", 198) == "1bad invalid name"
    run(s, "rename (id ses) (school s)")
    assert s.data.names[0] == "school" and s.data.names[3] == "s"


def test_order(s):
    run(s, "order mathach ses")
    assert s.data.names[:3] == ["mathach", "ses", "id"]
    run(s, "order id, last")
    assert s.data.names[-1] == "id"
    run(s, "order id, after(ses)")
    assert s.data.names[:3] == ["mathach", "ses", "id"]


def test_set_obs_seed_and_ignored(s):
    run(s, "clear")
    assert s.data.n == 0 and not s.data.names
    assert run(s, "set obs 100") == "Number of observations (_N) was 0, now 100.\n"
    assert s.data.n == 100
    run(s, "set seed 2024")
    a = s.rng.random(3)
    run(s, "set seed 2024")
    assert np.array_equal(a, s.rng.random(3))
    run(s, "set more off")
    run(s, "set linesize 100")
    assert s.settings["linesize"] == 100
    run(s, "set level 90")
    assert s.settings["level"] == 90
    fails(s, "set level 5", 198)
    fails(s, "set obs 10", 198)


def test_preserve_restore(s):
    run(s, "preserve")
    fails(s, "preserve", 621)
    run(s, "keep in 1/5")
    run(s, "restore")
    assert s.data.n == 7185 and s.preserved is None
    fails(s, "restore", 622)
    run(s, "preserve")
    run(s, "drop ses")
    run(s, "restore, preserve")
    assert "ses" in s.data and s.preserved is not None
    run(s, "restore, not")
    assert s.preserved is None


def test_clear_keeps_estimates_but_clear_all_drops_them(s):
    s.scalars["k"] = 1.0
    run(s, "clear")
    assert s.data.n == 0 and s.scalars == {"k": 1.0}
    run(s, "clear all")
    assert s.scalars == {}


def test_compress(s):
    out = run(s, "compress")
    assert "  variable female was long now byte" in out
    assert "  variable id was long now int" in out
    assert s.data.var("female").vtype == "byte" and s.data.var("female").format == "%8.0g"
    assert s.data.var("ses").vtype == "double"
    assert out.rstrip().endswith("bytes saved)")


def test_failed_command_restored_by_interpreter(s):
    it = Interpreter(s)
    rc = it.run_text("drop ses nosuch", echo=False)
    assert rc == 111 and "ses" in s.data
