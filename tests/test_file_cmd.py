"""file open/write/read/close and type: written at close through a temporary file (an
interrupted do-file leaves the old file whole), read line by line with r(eof)."""
import os

import pytest

from session_run import interp_session
from session_run import irun as run


@pytest.fixture()
def s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return interp_session()


def test_write_read_append(s, tmp_path):
    rc, out = run(s, 'file open fh using "a b.txt", write replace\n'
                     'file write fh "x" _tab %5.2f (1/3) _n "y" _col(5) "z" _n\n'
                     'file close fh\n')
    assert rc == 0, out
    assert (tmp_path / "a b.txt").read_text() == "x\t 0.33\ny   z\n"
    rc, out = run(s, 'file open fh using "a b.txt", write append\nfile write fh "w" _n\n'
                     'file close fh\nfile open r using "a b.txt", read\nlocal n 0\n'
                     'file read r line\nwhile r(eof) == 0 {\nlocal n = `n\' + 1\n'
                     'display "[`line\']"\nfile read r line\n}\nfile close r\ndisplay `n\'\n')
    assert rc == 0, out
    assert out.splitlines() == ["[x\t 0.33]", "[y   z]", "[w]", "3"]
    rc, out = run(s, 'type "a b.txt", showtabs')
    assert out.splitlines()[0] == "x<T> 0.33"


def test_old_file_kept_until_close(s, tmp_path):
    f = tmp_path / "keep.txt"
    f.write_text("old\n")
    rc, out = run(s, "file open fh using keep.txt, write replace\nfile write fh \"new\" _n\n"
                     "error 498\n")
    assert rc == 498 and f.read_text() == "old\n"
    rc, out = run(s, "file close fh")
    assert rc == 0 and f.read_text() == "new\n"


@pytest.mark.parametrize("text,rc", [
    ("file open fh using keep2.txt, write\nfile open fh using keep3.txt, write", 110),
    ("file open fh using nosuch.txt, read", 601),
    ("file open fh using x.txt", 198),
    ("file open fh using x.txt, read write", 198),
    ("file write nosuch \"x\"", 601),
    ("file read nosuch line", 601),
    ("file close nosuch", 601),
    ("file bogus", 198),
    ("type nosuch.txt", 601),
])
def test_errors(s, text, rc):
    got, out = run(s, text)
    assert got == rc, out


def test_existing_file_needs_replace(s, tmp_path):
    (tmp_path / "e.txt").write_text("e")
    got, out = run(s, "file open fh using e.txt, write")
    assert got == 602 and "already exists" in out
    assert os.listdir(tmp_path) == ["e.txt"]
