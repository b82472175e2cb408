"""ssc / net / findit / which, and the file housekeeping do-files do (mkdir, erase, rmdir).

Real do-files start with `ssc install estout, replace` and end by erasing their temporary
files. hlmshell works offline and runs no ado-files: installing a package whose commands
hlmshell has built in succeeds with a note; any other package is Stata's offline failure
(r(631) host not found), said plainly; `which` tells whether a command is built in.
"""
from __future__ import annotations

import os
import re

from hlmshell.data.locate import file_spec
from hlmshell.errors import StataError
from hlmshell.registry import REGISTRY, Opt, command

# community packages whose commands hlmshell has itself
BUILTIN_PACKAGES = {"estout": ("esttab", "estout", "eststo", "estadd", "estpost"), "center": ("center",),
                    "spagplot": ("spagplot",), "outreg2": ("outreg2",), "fre": ("fre",),
                    "mdesc": ("mdesc",), "distinct": ("distinct",), "log2html": ("log2html",),
                    "bcuse": ("bcuse",)}
BUILTIN_PACKAGES["xtpqml"] = ("xtpqml",)      # Simcoe's FE Poisson QML (commands.xtpqml)
BUILTIN_PACKAGES["coefplot"] = ("coefplot",)  # Jann's coefficient plots (commands.coefplot)
BUILTIN_PACKAGES["gllamm"] = ("gllamm", "gllapred")  # commands.gllamm, commands.gllapred
BUILTIN_PACKAGES["reghdfe"] = ("reghdfe",)    # Correia's HDFE regression (commands.reghdfe)
BUILTIN_PACKAGES["ftools"] = ("reghdfe",)     # reghdfe's prerequisite: nothing of it is needed here
BUILTIN_PACKAGES.update({"xtserial": ("xtserial",), "xttest3": ("xttest3",), "xttest2": ("xttest2",),
                         "xtcsd": ("xtcsd",), "xtoverid": ("xtoverid",)})   # panel diagnostics (commands.xt_tests)
BUILTIN_PACKAGES["xthybrid"] = ("xthybrid",)  # Schunck & Perales's hybrid models (commands.xthybrid)
BUILTIN_PACKAGES["mplotoffset"] = ("mplotoffset",)   # Winter's offset marginsplot (commands.mplotoffset)
BUILTIN_PACKAGES["winsor2"] = ("winsor2",)   # Lian's winsorizing (commands.winsor2)
BUILTIN_PACKAGES["sdecode"] = ("sdecode",)   # Newson's decode with formats (commands.sencode)
BUILTIN_PACKAGES["parmest"] = ("parmest", "parmby")   # Newson's resultssets (commands.parmest)
_OFFLINE = "hlmshell works offline and installs no packages"


def _split(body: str, allowed: tuple[str, ...]) -> str:
    """The text before the comma; an option not in `allowed` is Stata's r(198)."""
    text, _, options = (body or "").partition(",")
    for w in options.split():
        word = w.split("(")[0].lower()
        if word not in allowed:
            raise StataError(f"option {word} not allowed", 198)
    return text


def _package_words(body: str) -> tuple[str, str]:
    words = body.split()
    if not words:
        raise StataError("invalid syntax", 198)
    # a package name may be quoted (`ssc install "`y'"` in a loop over names)
    return words[0].lower(), (words[1].strip('"') if len(words) > 1 else "")


def _builtin(pkg: str) -> tuple[str, ...] | None:
    """The built-in commands of a community package: the table above, else a package named
    after a command hlmshell has built in (tabplot, unique, xtmrho, combomarginsplot, ...)."""
    have = BUILTIN_PACKAGES.get(pkg.lower())
    spec = REGISTRY.lookup(pkg.lower()) if have is None else None
    if spec is not None and spec.name == pkg.lower():
        have = (spec.name,)
    return have


def _install(session, pkg: str) -> None:
    if not pkg:
        raise StataError("invalid syntax", 198)
    have = _builtin(pkg)
    if have is None:
        raise StataError(f"{_OFFLINE}; {pkg} is not available (host not found)", 631)
    verb = "is" if len(have) == 1 else "are"
    session.out.line(f"({pkg}: {', '.join(have)} {verb} built into hlmshell; nothing to install)")


@command("ssc", byable=False, qualifiers="", raw=True, changes_data=False,
         family="Programming", desc="install community packages (offline: built-in ones only)",
         example="ssc install estout, replace")
def ssc_cmd(session, cmd):
    body = _split(cmd.body, ("replace", "all"))
    sub, pkg = _package_words(body)
    if sub in ("inst", "insta", "instal", "install"):
        _install(session, pkg)
    elif sub in ("uninstall", "type", "copy", "describe", "d", "new", "hot", "whatsnew"):
        raise StataError(f"{_OFFLINE} (host not found)", 631)
    else:
        raise StataError(f"ssc {sub} invalid", 198)


@command("net", byable=False, qualifiers="", raw=True, changes_data=False,
         family="Programming", desc="install packages from the net (offline: not available)",
         example="net install st0085_2")
def net_cmd(session, cmd):
    body = _split(cmd.body, ("replace", "all", "force", "from", "ado", "personal"))
    sub, pkg = _package_words(body)
    if sub in ("inst", "insta", "instal", "install") and _builtin(pkg) is not None:
        _install(session, pkg)
        return
    if sub in ("from", "cd", "link", "search", "query", "describe", "d", "get", "install",
               "inst", "insta", "instal", "sj", "stb", "set"):
        raise StataError(f"{_OFFLINE} (host not found)", 631)
    raise StataError(f"net {sub} invalid", 198)


@command("findit", byable=False, qualifiers="", raw=True, changes_data=False,
         family="Programming", desc="search help and packages (offline: says so)",
         example="findit mixed")
def findit_cmd(session, cmd):
    if not _split(cmd.body, ()).strip():
        raise StataError("nothing to search for", 198)
    session.out.line("(hlmshell works offline: findit searches nothing; `help` lists the "
                     "commands hlmshell has)")


@command("which", byable=False, qualifiers="", raw=True, changes_data=False,
         family="Programming", desc="say whether a command is built in", example="which mixed")
def which_cmd(session, cmd):
    words = _split(cmd.body, ("all",)).split()
    if len(words) != 1:
        raise StataError("invalid syntax", 198)
    name = words[0]
    spec = REGISTRY.lookup(name)
    if spec is None and name not in session.programs:
        raise StataError(f"command {name} not found as either built-in or ado-file", 111)
    session.out.line(f"built-in command:  {spec.name if spec is not None else name}")


# ---- files and folders ------------------------------------------------------------------------
def _one_path(body: str) -> str:
    name = file_spec(body)
    if not name:
        raise StataError("invalid file specification", 198)
    return os.path.expanduser(name)


@command("erase", aliases=("rm",), byable=False, qualifiers="", raw=True, changes_data=False,
         family="Files", desc="delete a file", example="erase temp.dta")
def erase_cmd(session, cmd):
    path = _one_path(cmd.body or "")
    if not os.path.isfile(path):
        raise StataError(f"file {path} not found", 601)
    try:
        os.remove(path)
    except OSError:
        raise StataError(f"file {path} could not be erased", 693) from None


@command("mkdir", byable=False, qualifiers="", raw=True, changes_data=False,
         family="Files", desc="create a directory", example="mkdir results",
         options=(Opt("public", desc="accepted for compatibility"),))
def mkdir_cmd(session, cmd):
    path = _one_path(_split(cmd.body, ("public",)))
    try:
        os.mkdir(path)
    except OSError:
        raise StataError(f"could not create directory {path}", 693) from None


@command("rmdir", byable=False, qualifiers="", raw=True, changes_data=False,
         family="Files", desc="remove an empty directory", example="rmdir results")
def rmdir_cmd(session, cmd):
    path = _one_path(cmd.body or "")
    try:
        os.rmdir(path)
    except OSError:
        raise StataError(f"could not remove directory {path}", 693) from None


# ---- ado: the packages installed -----------------------------------------------------------------
_ADO_SUBS = ("dir", "describe", "uninstall", "update")


@command("ado", byable=False, qualifiers="", raw=True, changes_data=False,
         family="Programming", desc="list or uninstall community packages (built in: none installed)",
         example="ado dir")
def ado_cmd(session, cmd):
    """ado [dir|describe|uninstall pkg|update]: hlmshell installs no packages, so none are
    listed; uninstalling a built-in package is a note, any other Stata's r(111)."""
    body = _split(cmd.body, ("from", "all", "update", "ssconly", "verbose", "dir"))
    words = body.split()
    if any(not re.fullmatch(r'"?[A-Za-z0-9_.-]+"?', w) for w in words) or len(words) > 2:
        raise StataError("invalid syntax", 198)
    sub = words[0].lower() if words else "dir"
    if sub not in _ADO_SUBS:
        sub, words = "dir", ["dir"] + words             # `ado pkg`: describe-like listing
    if sub == "uninstall":
        if len(words) != 2:
            raise StataError("invalid syntax", 198)
        pkg = words[1].strip('"')
        if _builtin(pkg) is None:
            raise StataError("criterion does not match any installed package", 111)
        session.out.line(f"({pkg} is built into hlmshell; nothing to uninstall)")
        return
    if sub == "update":
        session.out.line("(the community packages hlmshell knows are built in and updated with it; "
                         "no packages to update)")
        return
    session.out.line("(no packages installed: the community commands hlmshell knows are built in)")


@command("view", byable=False, qualifiers="", raw=True, changes_data=False,
         family="Programming", desc="open a file or help page in the Viewer (none in hlmshell: a note)",
         example="view mylog.smcl")
def view_cmd(session, cmd):
    """Stata's Viewer does not exist here; the do-file goes on after a note, as `browse` does
    in batch mode."""
    if not (cmd.body or "").strip():
        raise StataError("invalid syntax", 198)
    session.out.line("(hlmshell has no Viewer; view shows nothing)")
