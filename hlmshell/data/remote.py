"""Datasets on the web: `use https://...`, `webuse name`, and `sysuse` names not shipped.

Stata reads a dataset from a URL as from a file, and `webuse` is `use` from Stata Press's
folder of manual datasets. Real do-files lean on both (`webuse nlswork`, `webuse pig`), so
when the machine is online hlmshell fetches them the same way: the file is streamed to a
temporary file, read by the ordinary .dta reader (which checks it like any local file: nothing
downloaded is executed or unpickled) and the temporary file removed. Offline, the failure is
Stata's: r(631) host not found, r(677) remote connection failed, r(601) file not found.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from hlmshell.errors import StataError

STATA_PRESS = "https://www.stata-press.com/data/r17"
# HLMSHELL_WEBUSE_PREFIX replaces Stata Press's folder (a mirror; the tests point it at a local
# server so that they never depend on the network)
DEFAULT_WEBUSE = os.environ.get("HLMSHELL_WEBUSE_PREFIX") or STATA_PRESS
TIMEOUT_SECONDS = 30
_URL = re.compile(r"^(https?)://[^\s/]+", re.IGNORECASE)


def is_url(name: str) -> bool:
    return bool(_URL.match(name.strip()))


def _failure(url: str, exc: BaseException) -> StataError:
    """The Stata error for a failed download."""
    import socket
    import urllib.error

    if isinstance(exc, urllib.error.HTTPError):
        if exc.code == 404:
            return StataError(f"file {url} not found", 601)
        if exc.code in (401, 407):
            return StataError("authorization required by server", 673)
        if exc.code == 403:
            return StataError("server refused to send file", 672)
        if exc.code >= 500:
            return StataError("server reported server error", 675)
        return StataError("unexpected response from server", 674)
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.gaierror):
        return StataError("host not found", 631)
    return StataError("remote connection failed -- see help r(677) for troubleshooting", 677)


def download(url: str, suffix: str = ".dta") -> Path:
    """Fetch `url` into a temporary file (the caller removes it) or raise Stata's error."""
    import urllib.error
    import urllib.request

    if not is_url(url):
        raise StataError("invalid URL", 669)
    fd, tmp = tempfile.mkstemp(prefix="hlmshell_web_", suffix=suffix)
    try:
        req = urllib.request.Request(url, headers={"User-Agent": "hlmshell"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as resp:
            shutil.copyfileobj(resp, out, 1 << 20)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        os.unlink(tmp)
        raise _failure(url, exc) from None
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)


def read_remote_dta(url: str):
    """The Dataset at `url` (a .dta file), read as a local file would be."""
    from hlmshell.data.dta import read_dta

    path = download(url)
    try:
        return read_dta(path)
    finally:
        path.unlink(missing_ok=True)


def webuse_url(base: str, name: str) -> str:
    name = name if Path(name).suffix else name + ".dta"
    return base.rstrip("/") + "/" + name


__all__ = ["DEFAULT_WEBUSE", "is_url", "download", "read_remote_dta", "webuse_url"]
