"""Ado-files along the ado-path define commands (Stata's automatic loading): the current folder,
folders added with `adopath`, and PLUS laid out by letter; `sysdir set` moves PLUS. Plus the
maintenance words do-files start with (discard, update, adoupdate) and `set` of any setting."""
import pytest

from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from session_run import ok, run


@pytest.fixture
def s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    sess = Session(Capture())
    Interpreter(sess)
    return sess


def _ado(path, name, body):
    path.mkdir(parents=True, exist_ok=True)
    (path / f"{name}.ado").write_text(f"*! version 1.0\nprogram define {name}, rclass\n{body}\nend\n")


def test_ado_in_current_folder_and_added_folders(s, tmp_path):
    _ado(tmp_path, "twice", "    syntax anything\n    return scalar v = 2 * `anything'")
    ok(s, "twice 21")
    assert s.r.scalars["v"] == 42
    _ado(tmp_path / "code" / "ado", "thrice", "    syntax anything\n    return scalar v = 3 * `anything'")
    assert run(s, "thrice 2")[0] == 199
    out = ok(s, 'adopath + "code/ado"')
    assert '"code/ado"' in out.splitlines()[-1]
    ok(s, "thrice 2")
    assert s.r.scalars["v"] == 6
    ok(s, "adopath - 7")
    assert "code/ado" not in ok(s, "adopath")


def test_plus_by_letter_and_sysdir(s, tmp_path):
    _ado(tmp_path / "myplus" / "h", "halve", "    syntax anything\n    return scalar v = `anything' / 2")
    assert run(s, "halve 8")[0] == 199
    ok(s, 'sysdir set PLUS "myplus"')
    assert "myplus" in ok(s, "sysdir")
    ok(s, "halve 8")
    assert s.r.scalars["v"] == 4
    assert run(s, "sysdir set plus x")[0] == 198
    assert run(s, "sysdir set NOSUCH x")[0] == 198
    assert run(s, "adopath * x")[0] == 198
    assert run(s, "adopath - nosuchdir")[0] == 111
    assert run(s, "adopath - 99")[0] == 111


def test_builtin_commands_win_over_ado_files(s, tmp_path):
    (tmp_path / "summarize.ado").write_text('program define summarize\ndisplay "fake"\nend\n')
    ok(s, "set obs 3")
    ok(s, "gen x = _n")
    assert "fake" not in ok(s, "summarize x")


def test_maintenance_words_run_on(s):
    ok(s, "discard")
    assert "pip" in ok(s, "update all")
    ok(s, "adoupdate, update")
    assert run(s, "update nonsense")[0] == 198
    assert run(s, "discard now")[0] == 198
    ok(s, "set timeout1 30")
    ok(s, "set timeout2 180")
