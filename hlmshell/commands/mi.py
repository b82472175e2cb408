"""mi: Stata 17's multiple-imputation command family, one command word with subcommands.

    mi set wide|mlong|flong           mi register imputed|passive|regular varlist
    mi unregister varlist             mi describe / mi query / mi update
    mi misstable summarize|patterns|tree|nested ...
    mi impute regress|pmm|logit|ologit|mlogit|mvn|chained ...      (mi_impute.py)
    mi estimate [, options]: estimation command                   (mi_estimate.py)
    mi xeq [numlist]: command [; command ...]      mi passive: generate|replace|egen ...
    mi xtset / mi tsset / mi stset      mi reshape long|wide ...   mi extract # [, clear]
    mi convert wide|mlong|flong [, clear]          mi rename old new
    mi ptrace describe|use filename                                (mi_ptrace.py)
    mi test coeflist (after mi estimate)   mi import flong|ice|wide (mi_import.py)
    mi svyset ...

The data live in the dataset itself (mi_data.py), as Stata keeps them. This module only
dispatches; the subcommands are in mi_setup.py, mi_manage.py, mi_impute.py, mi_estimate.py,
mi_ptrace.py and mi_import.py.
"""
from __future__ import annotations

import importlib

from hlmshell.errors import StataError
from hlmshell.registry import Opt, Sub, command

# subcommand -> (minimum abbreviation, module, function)
_SUBS = (
    ("set", "set", "mi_setup", "set_cmd"),
    ("register", "reg", "mi_setup", "register_cmd"),
    ("unregister", "unreg", "mi_setup", "unregister_cmd"),
    ("describe", "d", "mi_setup", "describe_cmd"),
    ("query", "q", "mi_setup", "query_cmd"),
    ("update", "update", "mi_setup", "update_cmd"),
    ("convert", "convert", "mi_setup", "convert_cmd"),
    ("extract", "extract", "mi_setup", "extract_cmd"),
    ("rename", "ren", "mi_setup", "rename_cmd"),
    ("misstable", "misstable", "mi_manage", "misstable_cmd"),
    ("xeq", "xeq", "mi_manage", "xeq_cmd"),
    ("passive", "passive", "mi_manage", "passive_cmd"),
    ("xtset", "xtset", "mi_manage", "xtset_cmd"),
    ("tsset", "tsset", "mi_manage", "tsset_cmd"),
    ("stset", "stset", "mi_manage", "stset_cmd"),
    ("svyset", "svyset", "mi_manage", "svyset_cmd"),
    ("reshape", "reshape", "mi_manage", "reshape_cmd"),
    ("impute", "imp", "mi_impute", "impute_cmd"),
    ("estimate", "est", "mi_estimate", "estimate_cmd"),
    ("test", "test", "mi_estimate", "test_cmd"),
    ("ptrace", "ptrace", "mi_ptrace", "ptrace_cmd"),
    ("import", "import", "mi_import", "import_cmd"),
)


@command("mi", raw=True, byable=False, family="Multiple imputation",
         desc="multiple imputation: set up, impute, and estimate with Rubin's rules",
         example="mi set mlong",
         subcommands=(
             Sub("set", "set", "declare the data mi (style wide, mlong or flong); M = #; m -= (numlist)", (),
                 "style | M = # | m -= (numlist)"),
             Sub("register", "reg", "register imputed, passive or regular variables", (),
                 "imputed|passive|regular varlist"),
             Sub("unregister", "unreg", "unregister variables", (), "varlist"),
             Sub("describe", "d", "describe the mi data"),
             Sub("query", "q", "query the mi style and M"),
             Sub("update", "update", "verify the mi data are consistent"),
             Sub("convert", "convert", "change the mi style", (Opt("clear"),), "style"),
             Sub("extract", "extract", "replace the data by imputation #", (Opt("clear"),), "#"),
             Sub("rename", "ren", "rename a variable in every imputation", (), "old new"),
             Sub("misstable", "misstable", "tabulate missing values of m=0", (), "subcommand varlist"),
             Sub("xeq", "xeq", "run commands on each imputation", (), "[numlist]: command"),
             Sub("passive", "passive", "create or change a passive variable", (),
                 ": generate|replace|egen ..."),
             Sub("xtset", "xtset", "xtset the mi data", (), "panelvar [timevar]"),
             Sub("tsset", "tsset", "tsset the mi data", (), "[panelvar] timevar"),
             Sub("stset", "stset", "stset the mi data (survival analysis is not available)"),
             Sub("svyset", "svyset", "svyset the mi data", (), "[psu] [weight] [, options]"),
             Sub("reshape", "reshape", "reshape every imputation", (), "long|wide stubs, i() j()"),
             Sub("impute", "imp", "impute missing values (regress, pmm, logit, ologit, mlogit, mvn, chained)",
                 (Opt("add", "", "int"), Opt("replace"), Opt("rseed", "", "string"), Opt("by", "", "string"),
                  Opt("noisily", "noi"), Opt("force"), Opt("dots"), Opt("double"), Opt("knn", "", "int"),
                  Opt("burnin", "", "int"), Opt("burnbetween", "", "int"), Opt("savetrace", "", "string"),
                  Opt("saveptrace", "", "string")),
                 "method ivars [= indepvars] [if]"),
             Sub("estimate", "est", "fit a model on each imputation and combine by Rubin's rules",
                 (Opt("post"), Opt("dots"), Opt("noisily", "noi"), Opt("level", "l", "real", 95),
                  Opt("vartable", "vart"), Opt("dftable", "dftab"), Opt("nosmall"),
                  Opt("imputations", "i", "numlist"), Opt("nimputations", "ni", "int"),
                  Opt("saving", "sav", "string")),
                 ": estimation_command  (or: mi estimate using miestfile [, options])"),
             Sub("import", "import", "mi data from imputations made elsewhere (flong: m() and id(); ice; "
                 "wide: imputed(x = x1 x2 ...))",
                 (Opt("m", "", "string"), Opt("id", "", "string"), Opt("imputed", "", "string"),
                  Opt("passive", "", "string"), Opt("regular", "", "string"), Opt("clear"),
                  Opt("dupsok"), Opt("drop")),
                 "flong|ice|wide"),
             Sub("test", "test", "test coefficients after mi estimate (equal FMI)", (), "coeflist"),
             Sub("ptrace", "ptrace", "describe or load a parameter-trace file (mi impute mvn)", (Opt("clear"),),
                 "describe|use filename"),
         ))
def mi_cmd(session, cmd):
    body = (cmd.body or "").strip()
    word, rest = _split_word(body)
    if not word:
        raise StataError("invalid syntax", 198)
    for name, mn, module, fn in _SUBS:
        if len(word) >= len(mn) and name.startswith(word):
            mod = importlib.import_module(f"hlmshell.commands.{module}")
            getattr(mod, fn)(session, rest)
            return
    raise StataError(f"invalid mi subcommand {word}", 199)


def _split_word(body: str) -> tuple[str, str]:
    """The subcommand word (a `:` or `,` right after it ends it: `mi xeq: ...`)."""
    i = 0
    while i < len(body) and not body[i].isspace() and body[i] not in ":,":
        i += 1
    return body[:i], body[i:].strip()
