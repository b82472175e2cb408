"""Shared helpers of the "files are never lost" tests (tests/reliability/test_files_*.py).

Real files on real disks: a read-only folder is a read-only bind mount (or an immutable folder)
when the tests run as root, since root ignores permission bits; a full disk is a small tmpfs,
or a file-size limit (RLIMIT_FSIZE) on a subprocess, under which write() really fails with EFBIG.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

REPO = Path(__file__).resolve().parents[2]
TEMP_SUFFIX = ".hlmtmp"


class Shell:
    """An interpreter on a captured session: run(text) -> (rc, printed output of that run)."""

    def __init__(self):
        self.session = Session(out=Capture())
        self.interp = Interpreter(self.session)

    def run(self, text: str) -> tuple[int, str]:
        out = self.session.out.stream
        start = out.tell()
        rc = self.interp.run_line(text)
        return rc, out.getvalue()[start:]

    def ok(self, text: str) -> str:
        rc, printed = self.run(text)
        assert rc == 0, printed
        return printed

    def state(self) -> tuple:
        """Everything a failing command must leave as it was."""
        return session_state(self.session)


def session_state(s) -> tuple:
    ds = s.data
    cols = []
    for nm, v in ds.vars.items():
        vals = v.values
        digest = hashlib.sha1(np.asarray(vals, dtype=object).astype(str).tobytes()
                              if v.is_string else np.ascontiguousarray(vals).tobytes()).hexdigest()
        cols.append((nm, v.vtype, v.format, v.label, v.vallab, digest))
    labels = tuple(sorted((k, tuple(sorted((repr(a), b) for a, b in t.items())))
                          for k, t in ds.value_labels.items()))
    return (tuple(cols), labels, tuple(ds.sortedby), ds.changed, ds.filename, ds.label, ds.n,
            tuple(sorted(s.globals.items())), tuple(sorted(s.scalars.items())))


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def stray_temps(folder: Path) -> list[str]:
    """Temporary files a writer left behind (there must be none after an error)."""
    return sorted(p.name for p in Path(folder).iterdir() if p.name.endswith(TEMP_SUFFIX))


def assert_stata_error(rc: int, printed: str, code: int, *fragments: str) -> None:
    assert rc == code, printed
    assert f"r({code});" in printed, printed
    assert "9999" not in printed and "Traceback" not in printed, printed
    for f in fragments:
        assert f in printed, printed


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _run_quiet(*argv: str) -> bool:
    if shutil.which(argv[0]) is None:
        return False
    return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


@contextlib.contextmanager
def tmpfs(folder: Path, size: str = "1m"):
    """A small real file system mounted at `folder` (root only); skips when it cannot mount."""
    folder.mkdir(parents=True, exist_ok=True)
    if not is_root() or not _run_quiet("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                                       str(folder)):
        pytest.skip("cannot mount a tmpfs here (needs root and mount)")
    try:
        yield folder
    finally:
        _run_quiet("umount", "-l", str(folder))


@contextlib.contextmanager
def read_only_folder(folder: Path):
    """Make `folder` (already populated) read-only for real, then writable again.

    Non-root: chmod 0555. Root ignores that, so a read-only bind mount of the folder over
    itself, else an immutable folder (chattr +i); skips when neither works.
    """
    if not is_root():
        os.chmod(folder, 0o555)
        try:
            yield "chmod"
        finally:
            os.chmod(folder, 0o755)
        return
    if _run_quiet("mount", "--bind", str(folder), str(folder)):
        if _run_quiet("mount", "-o", "remount,bind,ro", str(folder)):
            try:
                yield "ro bind mount"
            finally:
                _run_quiet("umount", str(folder))
            return
        _run_quiet("umount", str(folder))
    if _run_quiet("chattr", "+i", str(folder)):
        try:
            yield "chattr +i"
        finally:
            _run_quiet("chattr", "-i", str(folder))
        return
    pytest.skip("cannot make a folder read-only for root here (no bind mount, no chattr)")


@contextlib.contextmanager
def read_only_file(path: Path):
    """A file this process may not modify: mode 0444, or chattr +i as root."""
    if not is_root():
        os.chmod(path, 0o444)
        try:
            yield "chmod"
        finally:
            os.chmod(path, 0o644)
        return
    if not _run_quiet("chattr", "+i", str(path)):
        pytest.skip("chattr +i not available here: root ignores mode 0444")
    try:
        yield "chattr +i"
    finally:
        _run_quiet("chattr", "-i", str(path))


def hlmshell_env(**extra) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("HLMSHELL_DEBUG", None)
    env.update(extra)
    return env


def run_dofile(dofile: Path, cwd: Path, preexec=None, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real command line (python -m hlmshell FILE.do) in a subprocess."""
    return subprocess.run([sys.executable, "-m", "hlmshell", str(dofile)], cwd=cwd,
                          env=hlmshell_env(), capture_output=True, text=True, timeout=timeout,
                          preexec_fn=preexec)
