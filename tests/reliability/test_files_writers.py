"""Every writer of a user file (save, export delimited, log using) keeps the previous file
whole when it cannot write the new one: full disk, file-size limit, read-only folder or file,
a directory in the way. Each failure is Stata's message and r(#), leaves no temporary file,
and leaves the session as it was.
"""
from __future__ import annotations

import os
import resource
import signal
import stat

import pandas as pd
import pytest

from files_helpers import (Shell, assert_stata_error, digest, read_only_file, read_only_folder,
                           run_dofile, stray_temps, tmpfs)

WRITERS = {
    # name: (command that writes `a` in the folder, the file it writes)
    "save": ("save {d}/a, replace", "a.dta"),
    "export": ("export delimited using {d}/a.csv, replace", "a.csv"),
    "log": ("log using {d}/a.log, replace text", "a.log"),
}


def _small_files(sh: Shell, folder) -> dict[str, str]:
    """Write a.dta, a.csv, a.log in `folder` with a small dataset; their digests."""
    sh.ok("clear")
    sh.ok("set obs 50")
    sh.ok("generate x = _n")
    for cmd, _ in WRITERS.values():
        sh.ok(cmd.format(d=folder))
    sh.ok("display \"first log\"")
    sh.ok("log close")
    return {name: digest(folder / f) for name, f in [(n, w[1]) for n, w in WRITERS.items()]}


def _make_big(sh: Shell, n: int = 100_000) -> None:
    sh.ok(f"set obs {n}")
    sh.ok("generate double y = runiform()")
    sh.ok('generate str30 s = "row " + string(_n)')


# ------------------------------------------------------------------------------ full disk
def test_full_tmpfs_keeps_old_files(tmp_path):
    disk = tmp_path / "disk"
    with tmpfs(disk, "1m"):
        sh = Shell()
        old = _small_files(sh, disk)
        _make_big(sh)                                # ~5 MB: does not fit in 1 MB
        before = sh.state()
        for name in ("save", "export"):
            cmd, fname = WRITERS[name]
            rc, printed = sh.run(cmd.format(d=disk))
            assert_stata_error(rc, printed, 693, f"file {disk}/{fname} could not be written")
            assert digest(disk / fname) == old[name], name
            assert stray_temps(disk) == []
            assert sh.state() == before
        assert pd.read_stata(disk / "a.dta")["x"].tolist() == list(range(1, 51))
        # a log is written while open: replacing creates the new log (an empty file fits),
        # a write the full disk refuses turns the log off, and closing reports r(693)
        sh.ok(f"log using {disk}/a.log, replace text")
        assert stray_temps(disk) == []
        printed = sh.ok("display _dup(3000000) \"x\"")
        assert "file I/O error on write; log <unnamed> turned off" in printed
        assert "status:  off  (file I/O error on write)" in sh.ok("log query")
        rc, printed = sh.run("log close")
        assert_stata_error(rc, printed, 693, f"file {disk}/a.log could not be written")
        assert "no log file open" in sh.ok("log query")
        sh.ok("display 1")                           # the session goes on
        assert sh.state()[0] == before[0]


_FSIZE_DO = """\
clear
set obs 120000
generate double y = runiform()
generate str20 s = "row " + string(_n)
capture noisily save old, replace
display "rc_save=" _rc
capture noisily export delimited using old.csv, replace
display "rc_export=" _rc
capture noisily save newfile
display "rc_new=" _rc
describe, short
"""


def _limit_file_size():
    """In the child: files may not grow past 64 KB; SIGXFSZ ignored, so write() fails with
    EFBIG instead of the process being killed."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_file_size_limit_efbig_in_real_process(tmp_path):
    """No root needed: RLIMIT_FSIZE makes the kernel refuse the write (EFBIG)."""
    sh = Shell()
    sh.ok("clear")
    sh.ok("set obs 20")
    sh.ok("generate x = _n")
    sh.ok(f"save {tmp_path}/old")
    sh.ok(f"export delimited using {tmp_path}/old.csv")
    old_dta, old_csv = digest(tmp_path / "old.dta"), digest(tmp_path / "old.csv")
    do = tmp_path / "fsize.do"
    do.write_text(_FSIZE_DO)
    res = run_dofile(do, tmp_path, preexec=_limit_file_size)
    out = res.stdout
    assert res.returncode == 0, out + res.stderr
    assert res.stderr == ""
    assert "file old.dta could not be written; file I/O error on write" in out
    assert "rc_save=693" in out and "rc_export=693" in out and "rc_new=693" in out
    assert "9999" not in out
    assert digest(tmp_path / "old.dta") == old_dta
    assert digest(tmp_path / "old.csv") == old_csv
    assert not (tmp_path / "newfile.dta").exists()
    assert stray_temps(tmp_path) == []
    assert "120,000" in out.split("describe, short")[-1]       # data in memory kept


# ------------------------------------------------------------------------------ read-only
def test_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    sh = Shell()
    old = _small_files(sh, folder)
    sh.ok("replace x = -x")
    before = sh.state()
    with read_only_folder(folder):
        for name, (cmd, fname) in WRITERS.items():
            rc, printed = sh.run(cmd.format(d=folder))
            assert_stata_error(rc, printed, 608, f"file {folder}/{fname} cannot be modified or "
                               "erased; likely cause is read-only directory or file")
            assert digest(folder / fname) == old[name]
            assert sh.state() == before
        # a new file in a read-only folder cannot be created: r(603)
        for cmd in ("save {d}/new", "export delimited using {d}/new.csv",
                    "log using {d}/new.log, text"):
            rc, printed = sh.run(cmd.format(d=folder))
            assert_stata_error(rc, printed, 603, "could not be opened")
            assert sh.state() == before
        assert "no log file open" in sh.ok("log query")
    assert sorted(os.listdir(folder)) == ["a.csv", "a.dta", "a.log"]


def test_read_only_target_file(tmp_path):
    sh = Shell()
    old = _small_files(sh, tmp_path)
    sh.ok("replace x = 2 * x")
    before = sh.state()
    for name, (cmd, fname) in WRITERS.items():
        with read_only_file(tmp_path / fname):
            rc, printed = sh.run(cmd.format(d=tmp_path))
            assert_stata_error(rc, printed, 608, "cannot be modified or erased")
        assert digest(tmp_path / fname) == old[name]
        assert sh.state() == before
    assert stray_temps(tmp_path) == []


def test_directory_in_the_way(tmp_path):
    sh = Shell()
    sh.ok("clear")
    sh.ok("set obs 3")
    sh.ok("generate x = _n")
    before = sh.state()
    for name, (cmd, fname) in WRITERS.items():
        (tmp_path / fname).mkdir()
        (tmp_path / fname / "keep.txt").write_text("mine")
        rc, printed = sh.run(cmd.format(d=tmp_path))
        assert_stata_error(rc, printed, 603, f"file {tmp_path}/{fname} could not be opened")
        rc, printed = sh.run(cmd.format(d=tmp_path).replace(", replace", ",").rstrip(","))
        assert_stata_error(rc, printed, 602, "already exists")
        assert (tmp_path / fname / "keep.txt").read_text() == "mine"
        assert sh.state() == before
    assert stray_temps(tmp_path) == []


def test_missing_folder_is_603(tmp_path):
    sh = Shell()
    sh.ok("clear")
    sh.ok("set obs 3")
    sh.ok("generate x = _n")
    for name, (cmd, fname) in WRITERS.items():
        rc, printed = sh.run(cmd.format(d=tmp_path / "nosuch"))
        assert_stata_error(rc, printed, 603, "could not be opened")
    rc, printed = sh.run(f"save {tmp_path}/nosuch/b")
    assert_stata_error(rc, printed, 603, f"file {tmp_path}/nosuch/b.dta could not be opened")


# ------------------------------------------------------------------------------ good writes
def test_replace_keeps_permission_bits_and_symlinks(tmp_path):
    sh = Shell()
    _small_files(sh, tmp_path)
    for _, fname in WRITERS.values():
        os.chmod(tmp_path / fname, 0o640)
    sh.ok("replace x = x + 100")
    for cmd, _ in WRITERS.values():
        sh.ok(cmd.format(d=tmp_path))
    sh.ok("log close")
    for _, fname in WRITERS.values():
        assert stat.S_IMODE(os.stat(tmp_path / fname).st_mode) == 0o640, fname
    assert pd.read_stata(tmp_path / "a.dta")["x"].tolist()[:2] == [101, 102]
    # a new file gets 0666 less the umask, like any file the user creates
    mask = os.umask(0o022)
    os.umask(mask)
    sh.ok(f"save {tmp_path}/fresh")
    assert stat.S_IMODE(os.stat(tmp_path / "fresh.dta").st_mode) == 0o666 & ~mask
    # a symlink stays a link; the file it points at gets the new content
    (tmp_path / "real").mkdir()
    sh.ok(f"save {tmp_path}/real/t")
    (tmp_path / "link.dta").symlink_to(tmp_path / "real" / "t.dta")
    sh.ok("replace x = 7")
    sh.ok(f"save {tmp_path}/link, replace")
    assert (tmp_path / "link.dta").is_symlink()
    assert set(pd.read_stata(tmp_path / "real" / "t.dta")["x"]) == {7}
    assert stray_temps(tmp_path) == [] and stray_temps(tmp_path / "real") == []


def test_log_append_and_replace_content(tmp_path):
    sh = Shell()
    sh.ok(f"log using {tmp_path}/s.log, text")
    sh.ok('display "one"')
    sh.ok("log close")
    sh.ok(f"log using {tmp_path}/s.log, append text")
    sh.ok('display "two"')
    sh.ok("log close")
    text = (tmp_path / "s.log").read_text()
    assert "one" in text and "two" in text
    sh.ok(f"log using {tmp_path}/s.log, replace text")
    sh.ok('display "three"')
    sh.ok("log close")
    text = (tmp_path / "s.log").read_text()
    assert "three" in text and "one" not in text
    assert stray_temps(tmp_path) == []


def test_save_without_replace_refuses(tmp_path):
    sh = Shell()
    sh.ok("clear")
    sh.ok("set obs 2")
    sh.ok("generate x = 1")
    sh.ok(f"save {tmp_path}/a")
    before_file = digest(tmp_path / "a.dta")
    sh.ok("replace x = 2")
    before = sh.state()
    rc, printed = sh.run(f"save {tmp_path}/a")
    assert_stata_error(rc, printed, 602, f"file {tmp_path}/a.dta already exists")
    assert digest(tmp_path / "a.dta") == before_file
    assert sh.state() == before


def test_interrupted_block_removes_temp(tmp_path):
    """Any exception inside the write (here Ctrl-C) removes the temporary file."""
    from hlmshell.data.atomic import atomic_write

    target = tmp_path / "t.bin"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(target) as fh:
            fh.write(b"partial")
            raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert stray_temps(tmp_path) == []

