"""`saveold`: save the data so that Stata 11, 12 or 13 can open them.

The checks and bookkeeping are `save`'s (files.save_with); only the writer differs
(hlmshell.data.dta_old). Stata 17 takes version(11), version(12) or version(13), 13 by default.
"""
from __future__ import annotations

from hlmshell.commands.files import save_with
from hlmshell.commands.generate import strict_args
from hlmshell.errors import StataError
from hlmshell.registry import Opt, command


@command("saveold", byable=False, qualifiers="", family="Files", body="anything",
         desc="save the data in a format Stata 11, 12 or 13 can read",
         example="saveold mydata_v13, replace version(13)",
         options=(Opt("version", "", "int", None, "Stata version to save for: 11, 12 or 13 (default 13)"),
                  Opt("replace", desc="overwrite an existing file"),
                  Opt("nolabel", "nol", desc="omit value labels from the saved dataset"),
                  Opt("all", desc="save e(sample) too (accepted; nothing extra is saved)"),
                  Opt("emptyok", desc="save even if there are no variables")))
def saveold_cmd(session, cmd):
    opts = strict_args(cmd)
    version = 13 if opts.version is None else int(opts.version)
    if version not in (11, 12, 13):
        raise StataError("version() must be 11, 12, or 13", 198)
    from hlmshell.data.dta_old import write_old_dta

    def write(ds, path, shown):
        for note in write_old_dta(ds, path, version, shown=shown):
            session.out.line(note)

    save_with(session, cmd, opts, write)
