"""`estimates save` / `estimates use` (issue 13: real do-files keep fitted models in .ster
files and compare them later). The round trip must give back the same e() and the same
post-estimation numbers; a foreign or damaged file is refused with r(610), never run."""
import pickle

import numpy as np
from hsb_fixtures import s  # noqa: F401 - fixture
from session_run import ok, run

from hlmshell.results import ster


def test_round_trip_keeps_e_and_postestimation(s, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    ok(s, "mixed mathach ses || id: ses, cov(un)")
    b, V, ll = s.e.b.copy(), np.array(s.e.V), s.e.scalars["ll"]
    icc_before = ok(s, "estat icc")
    ok(s, "predict u1 u0, reffects")
    u0 = s.data.var("u0").values.copy()
    out = ok(s, "estimates save m1")
    assert "file m1.ster saved" in out and (tmp_path / "m1.ster").exists()
    ok(s, "regress mathach ses")
    ok(s, "estimates use m1")
    assert s.e.cmd == "mixed" and s.e.name is None
    np.testing.assert_array_equal(s.e.b, b)
    np.testing.assert_array_equal(np.asarray(s.e.V), V)
    assert s.e.scalars["ll"] == ll
    assert ok(s, "estat icc") == icc_before
    ok(s, "predict v1 v0, reffects")
    np.testing.assert_allclose(s.data.var("v0").values, u0, rtol=0, atol=1e-12)
    ok(s, "estimates store m1")
    assert "m1" in ok(s, "estimates stats m1")


def test_save_refuses_overwrite_and_missing_results(s, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    rc, out = run(s, "estimates save m0")
    assert rc == 301
    ok(s, "regress mathach ses")
    ok(s, "estimates save m1")
    rc, out = run(s, "estimates save m1")
    assert rc == 602 and "m1.ster already exists" in out
    ok(s, "estimates save m1, replace")
    rc, _ = run(s, "estimates use nosuch")
    assert rc == 601


def test_foreign_or_hostile_files_are_refused(s, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stata.ster").write_bytes(b"<stata_dta>not ours")
    rc, out = run(s, "estimates use stata")
    assert rc == 610 and "not a hlmshell estimates file" in out

    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    (tmp_path / "evil.ster").write_bytes(ster.MAGIC + pickle.dumps(Evil()))
    ok(s, "regress mathach ses")
    before = s.e
    rc, out = run(s, "estimates use evil")
    assert rc == 610 and "owned" not in out and s.e is before
