"""Extended macro functions real do-files use (issue 13): `: dir`, `: label`, `: char`,
`: data label`, `: sortedby`, names and equations of any matrix, `: all`, `: copy`,
`: ustrlen`, `: permname`. Values are checked against what the session holds, computed here."""
import os

import pytest

from hlmshell.session import Session
from session_run import ok, run


@pytest.fixture
def s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("b.dta", "a.dta", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    sess = Session()
    ok(sess, "use hsb")
    return sess


def _local(s, spec):
    ok(s, f"local zz : {spec}")
    return s.local.get("zz", "")


def test_dir_lists_matching_files_quoted(s, tmp_path):
    assert _local(s, 'dir . files "*.dta"') == '"a.dta" "b.dta"'
    assert _local(s, 'dir "." dirs "*"') == '"sub"'
    assert _local(s, f'dir "{tmp_path}" files "*.txt"') == '"notes.txt"'
    assert _local(s, 'dir "nosuchdir" files "*"') == ""
    ok(s, 'local files : dir . files "*.dta"')
    ok(s, 'local n 0')
    ok(s, 'foreach f of local files {\nlocal n = `n\' + 1\n}')
    assert s.local["n"] == "2"
    assert run(s, 'local x : dir . files "*" , bogus')[0] == 198


def test_label_of_a_value(s):
    ok(s, 'label define sx 0 "male" 1 "female at school"')
    ok(s, "label values female sx")
    assert _local(s, "label (female) 1") == "female at school"
    assert _local(s, "label sx 0") == "male"
    assert _local(s, "label (female) 7") == "7"
    assert _local(s, "label (female) 7, strict") == ""
    assert _local(s, "label (female) maxlength") == str(len("female at school"))
    assert run(s, "local x : label nosuch 1")[0] == 111
    assert run(s, "local x : label (nosuchvar) 1")[0] == 111


def test_char_data_label_sortedby(s):
    ok(s, "char female[note1] hello there")
    assert _local(s, "char female[note1]") == "hello there"
    assert _local(s, "char _dta[nothing]") == ""
    ok(s, 'label data "HSB data"')
    assert _local(s, "data label") == "HSB data"
    ok(s, "sort id female")
    assert _local(s, "sortedby") == "id female"


def test_matrix_names_and_equations(s):
    ok(s, "mixed mathach ses || id:")
    names = s.e.names
    assert _local(s, "colnames e(b)") == " ".join(n for _, n in names)
    assert _local(s, "coleq e(b)") == " ".join(q or "_" for q, _ in names)
    assert _local(s, "colfullnames e(b)") == " ".join(f"{q}:{n}" for q, n in names)
    assert _local(s, "rownames e(b)") == "y1"
    ok(s, "matrix A = (1,2\\3,4)")
    ok(s, "matrix rownames A = r1 r2")
    ok(s, "matrix colnames A = eq1:c1 eq2:c2")
    assert _local(s, "rownames A") == "r1 r2"
    assert _local(s, "colnames A") == "c1 c2"
    assert _local(s, "coleq A") == "eq1 eq2"
    assert _local(s, "roweq A") == "_ _"
    assert run(s, "local x : rownames nosuch")[0] == 111


def test_all_copy_ulen_permname(s):
    ok(s, "global gg1 = 1")
    ok(s, "global gg2 = 2")
    assert _local(s, 'all globals "gg*"') == "gg1 gg2"
    numeric = [n for n in s.data.names if not s.data.var(n).is_string]
    assert _local(s, "all numeric variables") == " ".join(numeric)
    ok(s, 'local q "héllo"')
    assert _local(s, "ustrlen local q") == "5"
    assert _local(s, "copy local q") == "héllo"
    assert _local(s, "permname ses") == "ses1"
    assert _local(s, "permname brandnew") == "brandnew"
    assert os.environ.get("HOME", "") == _local(s, "env HOME")
