"""insheet: the pre-Stata-13 way to read a comma- or tab-separated file, still common in
course do-files. It runs `import delimited` with the matching options:

    insheet [newvarlist] using filename [, clear double tab comma delimiter("c") names nonames case]
"""
from __future__ import annotations

from hlmshell.commands._toolkit import typed_args
from hlmshell.data.locate import file_spec, unquote
from hlmshell.errors import StataError
from hlmshell.registry import Opt, command
from hlmshell.syntax.varlist import expand_varlist


def _import_options(opts) -> list[str]:
    out = ["clear"] if opts.clear else []
    if opts.double:
        out.append("asdouble")
    seps = [s for s in ("tab", "comma", "delimiter") if s in opts]
    if len(seps) > 1:
        raise StataError(f"options {seps[0]} and {seps[1]} may not be combined", 198)
    if opts.tab:
        out.append("delimiters(tab)")
    elif opts.comma:
        out.append('delimiters(",")')
    elif opts.delimiter:
        out.append(f'delimiters("{unquote(opts.delimiter)}")')
    if opts.names and opts.nonames:
        raise StataError("options names and nonames may not be combined", 198)
    if opts.nonames:
        out.append("varnames(nonames)")
    elif opts.names:
        out.append("varnames(1)")
    if opts.case:
        out.append("case(preserve)")
    return out


@command("insheet", byable=False, qualifiers="", family="Files", body="anything",
         desc="read a delimited text file (old syntax of import delimited)",
         example="insheet using hsb.csv, clear",
         options=(Opt("clear", desc="replace the data in memory, even if changed"),
                  Opt("double", desc="store floating-point columns as double"),
                  Opt("tab", desc="tab-delimited file"),
                  Opt("comma", desc="comma-delimited file"),
                  Opt("delimiter", "delim", "string", desc="the delimiting character"),
                  Opt("names", desc="variable names in the first line"),
                  Opt("nonames", desc="no variable names in the file"),
                  Opt("case", desc="keep the case of variable names")))
def insheet_cmd(session, cmd):
    opts = typed_args(cmd)
    body = (cmd.body or "").strip()
    head, sep, rest = body.partition("using")
    if not sep or (head and not head[-1].isspace()) or not rest[:1].isspace():
        raise StataError("using required", 100)
    fname = file_spec(rest)
    if not fname:
        raise StataError("invalid file specification", 198)
    names = expand_varlist(None, head, new=True) if head.strip() else []
    text = f'import delimited using "{fname}"'
    options = _import_options(opts)
    session.runner.run_command(text + (", " + " ".join(options) if options else ""))
    if names:
        ds = session.data
        old = list(ds.names)
        if len(names) > len(old):
            raise StataError("too many variables specified", 103)
        ds.rename_many(dict(zip(old, names)))
