"""Maintenance commands do-files carry at the top: `discard`, `update`, `adoupdate`, `cscript`.

hlmshell has no ado-path to reload and is updated with pip, not from inside a session, so
these do what Stata does where there is nothing to do: `discard` clears nothing that could be
stale (user programs survive, as in Stata, where discard only drops auto-loaded ado programs),
`update` and `adoupdate` say how hlmshell is updated and that its built-in community
packages come with it. A do-file that starts with them runs on.
"""
from __future__ import annotations

import re

from hlmshell.commands._toolkit import typed_args
from hlmshell.errors import StataError
from hlmshell.registry import Opt, command


@command("discard", byable=False, qualifiers="", body="none", changes_data=False,
         family="Programming", desc="drop automatically loaded programs (nothing to drop)",
         example="discard")
def discard_cmd(session, cmd):
    typed_args(cmd)


_UPDATE_SUBS = ("all", "query", "from", "ado", "executable", "utilities", "swap")


@command("update", byable=False, qualifiers="", body="anything", changes_data=False,
         family="Programming", desc="update Stata (hlmshell: pip updates it)",
         example="update all", options=(Opt("force", desc="accepted"),))
def update_cmd(session, cmd):
    typed_args(cmd)
    words = (cmd.body or "").split()
    if words and words[0] not in _UPDATE_SUBS:
        raise StataError(f"update {words[0]} invalid", 198)
    if len(words) > (2 if words and words[0] == "from" else 1) or '"' in (cmd.body or ""):
        raise StataError("invalid syntax", 198)
    session.out.line("(hlmshell is updated with pip: pip install --upgrade hlmshell; "
                     "nothing to update from inside a session)")


@command("adoupdate", byable=False, qualifiers="", body="anything", changes_data=False,
         family="Programming", desc="update community packages (built in: nothing to do)",
         example="adoupdate, update",
         options=(Opt("update", desc="accepted"), Opt("all", desc="accepted"),
                  Opt("ssconly", desc="accepted"), Opt("dir", "dir", "string", None, "accepted"),
                  Opt("verbose", desc="accepted")))
def adoupdate_cmd(session, cmd):
    typed_args(cmd)
    if (cmd.body or "").count('"') % 2:
        raise StataError("invalid syntax", 198)
    session.out.line("(the community packages hlmshell knows are built in and updated with it; "
                     "no packages to update)")


@command("cscript", byable=False, qualifiers="", raw=True, family="Programming",
         desc="begin a certification script (header, then clear all)",
         example='cscript "tests of my model"')
def cscript_cmd(session, cmd):
    """[P] cscript: a line of dashes ending in `BEGIN text`, then everything is cleared as by
    `clear all` (data, results, programs, matrices, scalars, frames); the ado-file names that
    may follow the title are accepted (there are no ado-files to reload)."""
    text = (cmd.body or "").strip()
    m = re.match(r'\s*(?:`"(.*?)"\'|"(.*?)"|(.*?))\s*(?:\badofiles?\b.*)?$', text, re.S)
    if m is None:
        raise StataError("invalid syntax", 198)
    title = next((t for t in m.groups() if t is not None), "").strip()
    head = "BEGIN " + title if title else "BEGIN"
    session.out.line("-" * max(1, 79 - len(head)) + head)
    session.runner.run_command("clear all")

