"""`use URL`, `webuse name` and `sysuse` of datasets not shipped: fetched over HTTP.

A real HTTP server on localhost serves the files (http.server in a thread), so these tests run
the whole path (urllib, temporary file, .dta reader) without the internet.
"""
from __future__ import annotations

import functools
import http.server
import threading

import pytest

from tests.session_run import interp_session, irun, iok


@pytest.fixture()
def server(tmp_path):
    folder = tmp_path / "web"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _publish(folder, name, lines):
    s = interp_session(*lines)
    iok(s, f'save "{folder / name}"')


DATA = ["clear", "set obs 5", "gen id = _n", "gen y = id^2", 'label variable y "square"']


def test_use_url(server):
    folder, base = server
    _publish(folder, "sq.dta", DATA)
    s = interp_session()
    iok(s, f"use {base}/sq.dta, clear")
    assert s.data.n == 5 and list(s.data.vars["y"].values) == [1, 4, 9, 16, 25]
    assert s.data.vars["y"].label == "square"
    iok(s, f"use {base}/sq, clear")                 # .dta added to a URL as to a file name
    assert s.data.n == 5
    iok(s, "replace y = 0")
    rc, _ = irun(s, f'use "{base}/sq.dta"')
    assert rc == 4                     # changed data are not discarded without clear


def test_webuse_set_and_fetch(server):
    folder, base = server
    _publish(folder, "pigs.dta", DATA)
    s = interp_session()
    out = iok(s, f"webuse set {base}/")
    assert f'(prefix now "{base}")' in out
    assert f'"{base}"' in iok(s, "webuse query")
    iok(s, "webuse pigs, clear")
    assert s.data.n == 5 and s.data.filename == "pigs.dta"
    out = iok(s, "sysuse pigs, clear")
    assert "not shipped with hlmshell; read from" in out
    iok(s, "webuse hsb, clear")             # the packaged copy, no download
    assert s.data.n == 7185


def test_missing_and_bad_files_leave_data(server):
    folder, base = server
    (folder / "junk.dta").write_bytes(b"not a dta file at all" * 10)
    s = interp_session(*DATA)
    iok(s, f"webuse set {base}")
    rc, out = irun(s, "webuse nosuch, clear")
    assert rc == 601 and "nosuch.dta" in out
    rc, out = irun(s, f"use {base}/junk.dta, clear")
    assert rc == 610
    rc, out = irun(s, "use http://127.0.0.1:9/x.dta, clear")
    assert rc == 677
    rc, out = irun(s, "webuse set notaurl")
    assert rc == 669
    assert s.data.n == 5 and list(s.data.vars["y"].values) == [1, 4, 9, 16, 25]


def test_bcuse_downloads_and_describes(server, monkeypatch):
    folder, base = server
    _publish(folder, "wage1.dta", DATA)
    monkeypatch.setenv("HLMSHELL_BCUSE_PREFIX", base)
    s = interp_session()
    out = iok(s, "bcuse wage1")
    assert s.data.n == 5 and "square" in out          # describe lists the variable label
    out = iok(s, "bcuse wage1, clear nodesc")
    assert "square" not in out
    iok(s, "replace y = 0")
    rc, _ = irun(s, "bcuse wage1")
    assert rc == 4
