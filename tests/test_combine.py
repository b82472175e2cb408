"""merge, append, collapse."""
import numpy as np
import pandas as pd
import pytest
from pathlib import Path

from hlmshell.errors import StataError
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.parser import parse_command

HSB = Path(__file__).resolve().parents[1] / "hlmshell" / "sample_data" / "hsb.dta"


from datacmd import run, s  # noqa: F401 (fixture)




@pytest.fixture(scope="module")
def ref():
    return pd.read_stata(HSB)


def test_collapse_matches_pandas(s, ref):
    run(s, "collapse (mean) mses=ses mathach (sd) sdm=mathach (count) n=mathach "
           "(p50) med=mathach (max) size, by(sector id)")
    g = ref.groupby(["sector", "id"])
    assert s.data.names == ["sector", "id", "mses", "mathach", "sdm", "n", "med", "size"]
    assert s.data.n == len(g) == 160
    assert s.data.sortedby == ["sector", "id"]
    assert np.allclose(s.data.values("mses"), g.ses.mean().to_numpy())
    assert np.allclose(s.data.values("sdm"), g.mathach.std().to_numpy())
    assert np.array_equal(s.data.values("n"), g.mathach.count().to_numpy().astype(float))
    assert np.allclose(s.data.values("med"), g.mathach.median().to_numpy())
    assert s.data.var("n").vtype == "long" and s.data.var("size").vtype == "long"
    assert s.data.var("mses").label == "(mean) socio-economic status (standardized)"


def test_collapse_if_and_errors(s):
    with pytest.raises(StataError) as e:
        run(s, "collapse (mean) ses (sd) ses")
    assert e.value.message == "name conflict"
    assert s.data.n == 7185
    run(s, "collapse (sum) ses if sector==1")
    assert s.data.n == 1 and s.data.names == ["ses"]


def _schools(s):
    run(s, "preserve")
    run(s, "collapse (mean) meanses2=ses (count) nstud=ses, by(id)")
    run(s, "drop if id==1224")
    run(s, "save schools")
    run(s, "restore")


def test_merge_m1_table_and_values(s, ref):
    _schools(s)
    run(s, "drop if id==1288")
    out = run(s, "merge m:1 id using schools")
    assert out == (
        "\n"
        "    Result                      Number of obs\n"
        "    -----------------------------------------\n"
        "    Not matched                            48\n"
        "        from master                        47  (_merge==1)\n"
        "        from using                          1  (_merge==2)\n"
        "\n"
        "    Matched                             7,113  (_merge==3)\n"
        "    -----------------------------------------\n")
    ds = s.data
    assert ds.n == 7185 - 25 + 1
    assert ds.var("_merge").vallab == "_merge"
    assert ds.value_labels["_merge"][3.0] == "Matched (3)"
    m = ds.values("_merge")
    ids = ds.values("id")
    assert set(ids[m == 1]) == {1224} and set(ids[m == 2]) == {1288}
    assert np.all(np.diff(ids) >= 0)
    row = np.flatnonzero(ids == 9586)[0]
    assert ds.values("nstud")[row] == (ref.id == 9586).sum()
    assert np.isnan(ds.values("ses")[m == 2]).all()


def test_merge_keep_nogen_and_errors(s):
    _schools(s)
    out = run(s, "merge m:1 id using schools, keep(match) nogenerate")
    assert "_merge" not in s.data and s.data.n == 7185 - 47
    assert "Not matched                             0" in out
    run(s, "use hsb, clear")
    before = s.data.names
    with pytest.raises(StataError) as e:
        run(s, "merge 1:1 id using schools")
    assert e.value.rc == 459 and "master" in e.value.message
    run(s, "generate _merge = 1")
    with pytest.raises(StataError) as e:
        run(s, "merge m:1 id using schools")
    assert e.value.rc == 110
    with pytest.raises(StataError) as e:
        run(s, "merge m:1 id using nosuch")
    assert e.value.rc == 601
    assert s.data.names == before + ["_merge"]


def test_append(s):
    run(s, "keep in 1/3")
    run(s, "keep id ses")
    run(s, "save part")
    run(s, "use hsb, clear")
    run(s, "keep in 1/2")
    run(s, "keep id mathach")
    run(s, "append using part, generate(src)")
    ds = s.data
    assert ds.names == ["id", "mathach", "ses", "src"]
    assert ds.n == 5
    assert list(ds.values("src")) == [0, 0, 1, 1, 1]
    assert np.isnan(ds.values("ses")[:2]).all() and np.isnan(ds.values("mathach")[2:]).all()


def test_append_type_mismatch_leaves_data(s):
    run(s, "keep in 1/2")
    run(s, "save part")
    run(s, "clear")
    run(s, "set obs 1")
    run(s, 'generate str3 id = "a"')
    with pytest.raises(StataError) as e:
        run(s, "append using part")
    assert e.value.rc == 106
    assert s.data.n == 1 and s.data.names == ["id"]
