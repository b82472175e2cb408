"""eststo / esttab: the community estout package's table commands (Ben Jann's estout 2.x).

    eststo [name] [, title(string) noesample esample] [: estimation_command]
    eststo clear | eststo dir | eststo drop namelist
    esttab [namelist] [using filename] [, b[(fmt)] se t p not z star[(* 0.05 ** 0.01 ...)]
           nostar r2 ar2 aic bic scalars(names) label title(string) mtitles[(list)] nomtitles
           nonumbers nodepvars nogaps compress noconstant nonotes keep() drop() order() rename()
           mgroups() mlabels() collabels() varlabels() eqlabels() refcat() indicate() addnotes()
           legend prehead() posthead() prefoot() postfoot() substitute() plain fragment page
           csv scsv tab tex booktabs html md rtf fixed replace append]

eststo runs the estimation command after its colon (through the session's interpreter, as
Stata runs it: prefixes, errors and output as typed), then stores the active results as
`name` or est1, est2, ... and keeps the list in the global macros eststo and eststo_counter
(as eststo.ado does); esttab with no namelist tabulates those, or the active results.
esttab's layout is esttab.ado's (commands/esttab_layout.py composes it, output/estout_writer.py
writes the rows as estout does, in every output mode): point estimates in estout's a3 format with stars (* p<0.05, ** p<0.01, *** p<0.001), t statistics
(2 decimals) in parentheses below, blank lines between coefficients, N at the bottom, the
notes under the table. Results of `mixed` are shown in e(b)'s metric, as esttab shows them
(lns1_1_1:_cons, lnsig_e:_cons), each equation after a rule.
"""
from __future__ import annotations

import dataclasses
import os
import re
import shlex
from dataclasses import dataclass

from hlmshell.commands import esttab_cells as ec
from hlmshell.commands import esttab_labels as el
from hlmshell.commands import esttab_layout as lo
from hlmshell.commands import esttab_rows as er
from hlmshell.commands import esttab_transform as et
from hlmshell.commands import estout_table as eo
from hlmshell.commands._postest import expand_names, lookup
from hlmshell.commands.estimates import renamed
from hlmshell.commands.etable import coefficients, merge_order, stat_value, var_label
from hlmshell.errors import StataError
from hlmshell.output import paper_tables as pt
from hlmshell.registry import Opt, command
from hlmshell.results import EstimationResults

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")


# =========================================================================== eststo
def _split_colon(text: str) -> tuple[str, str | None]:
    """`name, opts : command` -> ("name, opts", "command"); the first colon outside quotes
    and parentheses."""
    depth, quote = 0, False
    for i, ch in enumerate(text):
        if ch == '"':
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        elif not quote and depth == 0 and ch == ":":
            return text[:i], text[i + 1:]
    return text, None


def _eststo_names(session) -> list[str]:
    """$eststo, without the names dropped since (eststo.ado's _eststo_cleanglobal)."""
    return [n for n in session.globals.get("eststo", "").split() if n in session.estimates]


def _set_globals(session, names: list[str], counter: int | None) -> None:
    if names:
        session.globals["eststo"] = " ".join(names)
        session.globals["eststo_counter"] = str(counter or len(names))
    else:
        session.globals.pop("eststo", None)
        session.globals.pop("eststo_counter", None)


def _eststo_clear(session, rest: str) -> None:
    if rest:
        raise StataError("invalid syntax", 198)
    for n in _eststo_names(session):
        session.estimates.pop(n, None)
        if session.e is not None and session.e.name == n:
            session.e = renamed(session.e, None)
    _set_globals(session, [], None)


def _eststo_drop(session, rest: str) -> None:
    words = rest.split()
    if not words:
        raise StataError("something required", 198)
    names = _eststo_names(session)
    for w in words:
        target = f"est{w}" if w.isdigit() else w
        hits = [n for n in names if re.fullmatch(re.escape(target).replace(r"\*", ".*"), n)]
        for n in hits:
            session.estimates.pop(n, None)
            names.remove(n)
            session.out.line(f"({n} dropped)")
    _set_globals(session, names, int(session.globals.get("eststo_counter", "0") or 0))


def _eststo_dir(session, rest: str) -> None:
    if rest:
        raise StataError("invalid syntax", 198)
    from hlmshell.output import postest_output as po
    names = _eststo_names(session)
    if not names:
        return
    rows = []
    for n in names:
        res = session.estimates[n]
        rows.append((n, res.macros.get("cmd2") or res.cmd, res.depvar, len(res.names),
                     res.macros.get("estimates_title", "")))
    for line in po.dir_lines(rows):
        session.out.line(line)


def _store_options(text: str) -> tuple[str | None, str | None]:
    """`[name] [, title(..) noesample esample]` -> (name, title)."""
    head, comma, opts = text.partition(",")
    words = head.split()
    if len(words) > 1:
        raise StataError("invalid syntax", 198)
    name = words[0] if words else None
    if name is not None and (not _NAME.match(name) or name == "_all"):
        raise StataError(f"{name} invalid name", 198)
    title = None
    for m in re.finditer(r"(\w+)\s*(\(([^()]*)\))?", opts):      # `title (x)` as typed too
        word, arg = m.group(1), m.group(3)
        if "title".startswith(word.lower()) and len(word) >= 1 and word.lower().startswith("t") and arg is not None:
            title = arg.strip().strip('"')
        elif word in ("noesample", "esample", "nocopy", "copy") and arg is None:
            continue
        else:
            raise StataError(f"option {word} not allowed", 198)
    return name, title


@command("eststo", raw=True, byable=False, family="Postestimation",
          desc="store estimates (estout's eststo): eststo [name]: estimation command",
          example="eststo m1: mixed mathach ses || id:")
def eststo_cmd(session, cmd) -> None:
    text = (cmd.body or "").strip()
    first, _, rest = text.partition(" ")
    sub = {"clear": _eststo_clear, "dir": _eststo_dir, "drop": _eststo_drop}.get(first)
    if sub is not None:
        sub(session, rest.strip())
        return
    before, command_text = _split_colon(text)
    name, title = _store_options(before)
    if command_text is not None:
        if not command_text.strip():
            raise StataError("invalid syntax", 198)
        interp = getattr(session, "interpreter", None)
        if interp is None or not hasattr(interp, "execute"):
            raise StataError("eststo: no interpreter to run the command", 198)
        interp.execute(command_text.strip(), expanded=True)
    if session.e is None:
        raise StataError("last estimation results not found, nothing to store", 301)
    names = _eststo_names(session)
    counter = int(session.globals.get("eststo_counter", "0") or 0) if names else 0
    refresh = name is not None and name in names
    if not refresh:
        counter += 1
    if name is None:
        name = f"est{counter}"
    res = renamed(session.e, name)
    if title is not None:
        res.macros = {**res.macros, "estimates_title": title}
    session.estimates[name] = res
    session.e = renamed(res, name)
    if not refresh:
        names = [n for n in names if n != name] + [name]
    _set_globals(session, names, counter)
    if not before.split(",")[0].strip():
        session.out.line(f"({name} stored)")


# =========================================================================== esttab
_OPTS = (
    Opt("b", "b", "anything", None, "point estimates, optionally in a format: b(%9.3f) b(3) b(a3)"),
    Opt("se", "se", "anything", None, "standard errors in parentheses"),
    Opt("t", "t", "anything", None, "t statistics in parentheses (the default)"),
    Opt("z", "z", "anything", None, "z statistics in parentheses"),
    Opt("p", "p", "anything", None, "p-values in parentheses"),
    Opt("not", desc="no t statistics"),
    Opt("ci", "ci", "anything", None, "confidence intervals in brackets, optionally in a format"),
    Opt("abs", desc="absolute t statistics"), Opt("staraux", desc="stars on the t statistics"),
    Opt("star", "star", "anything", None, "stars: star(* 0.05 ** 0.01 *** 0.001)"),
    Opt("nostar", desc="no stars"),
    Opt("r2", "r2", "anything", None, "R-squared"), Opt("ar2", "ar2", "anything", None, "adjusted R-squared"),
    Opt("pr2", "pr2", "anything", None, "pseudo R-squared"),
    Opt("eform", "eform", "anything", None, "exponentiated coefficients (eform(1 0 1): per model)"),
    Opt("noeform", desc="untransformed coefficients"),
    Opt("constant", "con", desc="keep the intercept in eform mode"),
    Opt("wide", desc="point estimates and t statistics beside one another"),
    Opt("parentheses", "pa", desc="parentheses around the t statistics (the default)"),
    Opt("noparentheses", "nopa", desc="no parentheses"),
    Opt("brackets", "br", desc="brackets instead of parentheses"),
    Opt("gaps", "gap", desc="blank lines between coefficients"),
    Opt("numbers", "num", desc="model numbers (the default)"),
    Opt("sfmt", "sfmt", "anything", None, "formats of the scalars() statistics"),
    Opt("booktabs", "bookt", desc="LaTeX with booktabs rules"),
    Opt("aic", "aic", "anything", None, "AIC"), Opt("bic", "bic", "anything", None, "BIC"),
    Opt("scalars", "sca", "anything", None, "e() scalars to show: scalars(ll \"label\" ...)"),
    Opt("obslast", desc="N as the last statistic"),
    Opt("noobs", desc="no N"),
    Opt("label", "l", desc="variable labels"),
    Opt("title", "ti", "string", None, "title of the table"),
    Opt("mtitles", "mti", "anything", None, "model titles"),
    Opt("nomtitles", "nomti", desc="no model titles"),
    Opt("nonumbers", "nonum", desc="no model numbers"),
    Opt("nodepvars", "nodep", desc="no dependent variables as model titles"),
    Opt("nogaps", "nogap", desc="no blank lines between coefficients"),
    Opt("compress", "com", desc="narrower columns"),
    Opt("noconstant", "nocon", desc="no constant"),
    Opt("nonotes", desc="no notes"),
    Opt("nobaselevels", "nobase", desc="no base levels of factor variables"),
    Opt("noomitted", "noomit", desc="no omitted coefficients"),
    Opt("keep", "keep", "anything", None, "coefficients to show"),
    Opt("drop", "drop", "anything", None, "coefficients not to show"),
    Opt("stats", "stat", "anything", None, "e() scalars below the table: stats(N r2, fmt(0 3) labels(...))"),
    Opt("equations", "eq", "anything", None, "match the models' equations: equations(1:1, 2:3, .:2)"),
    Opt("eqlabels", "eql", "anything", None, "labels of the equations, in order"),
    Opt("transform", "trans", "anything", None, "transform([coefs] fx dfx ...): e.g. ln*: exp(@) exp(@)"),
    Opt("varwidth", "varw", "anything", None, "width of the first column"),
    Opt("modelwidth", "modelw", "anything", None, "width of the model columns"),
    Opt("csv", desc="CSV"), Opt("tex", desc="LaTeX"), Opt("html", desc="HTML"), Opt("md", desc="Markdown"),
    Opt("rtf", desc="RTF"), Opt("fixed", desc="plain text"), Opt("smcl", desc="plain text"),
    Opt("replace", desc="overwrite the file"), Opt("append", desc="append to the file"),
    Opt("cells", "c", "anything", None, 'cell contents: cells("mean sd") or cells(b(star) se(par)); any e() vector'),
    Opt("mgroups", "mgr", "anything", None, 'groups of models: mgroups("A" "B", pattern(1 0 1 0) span)'),
    Opt("mlabels", "ml", "anything", None, "model labels: mlabels(labels [, span prefix() suffix()])"),
    Opt("collabels", "colla", "anything", None, "column labels, or collabels(none)"),
    Opt("varlabels", "varl", "anything", None, "labels of coefficients: varlabels(name label ..., elist() blist())"),
    Opt("coeflabels", "coefl", "anything", None, "labels of coefficients: coeflabels(name label ...)"),
    Opt("legend", "le", desc="the significance legend"), Opt("nolegend", "nole", desc="no significance legend"),
    Opt("addnotes", "addn", "anything", None, 'notes below the table: addnotes("line 1" "line 2")'),
    Opt("note", "note", "anything", None, "a note replacing esttab's own"),
    Opt("prehead", "preh", "anything", None, "lines before the table head"),
    Opt("posthead", "posth", "anything", None, "lines after the table head"),
    Opt("prefoot", "pref", "anything", None, "lines before the statistics"),
    Opt("postfoot", "postf", "anything", None, "lines after the table"),
    Opt("substitute", "sub", "anything", None, "substitute(from to ...) in every line"),
    Opt("interaction", "interact", "anything", None, "the symbol between interaction terms"),
    Opt("fragment", "f", desc="the table without opening and closing (tex, html)"),
    Opt("page", "page", "anything", None, "a complete document (tex, html)"),
    Opt("alignment", "align", "anything", None, "column alignment (tex, html)"),
    Opt("lines", "li", desc="rules (the default)"), Opt("nolines", "noli", desc="no rules"),
    Opt("abbrev", "ab", desc="abbreviate long names"), Opt("noabbrev", "noab", desc="no abbreviation"),
    Opt("tab", desc="tab-delimited"), Opt("scsv", "sc", desc="CSV with semicolons"),
    Opt("mmd", desc="MultiMarkdown (as md)"), Opt("order", "order", "anything", None, "order of the coefficients"),
    Opt("rename", "ren", "anything", None, "rename(old new ...) coefficients"),
    Opt("refcat", "refcat", "anything", None, 'reference categories: refcat(2.x "Base", nolabel)'),
    Opt("indicate", "indicate", "anything", None, 'indicate("label = coefs" ...): Yes/No rows'),
    Opt("width", "width", "anything", None, "table width (tex: tabular*, html)"),
    Opt("longtable", "long", desc="LaTeX longtable"), Opt("float", desc="LaTeX float"),
    Opt("nofloat", desc="no LaTeX float"), Opt("plain", desc="plain table"),
    Opt("depvars", "dep", desc="dependent variables as model titles (the default)"),
    Opt("notes", desc="notes (the default)"),
    Opt("level", "level", "anything", None, "confidence level (10-99)"),
    Opt("nodiscrete", "nodi", desc="no discrete-change marker"), Opt("noeqlines", "noeqli", desc="no equation rules"),
    Opt("unstack", desc="equations of multiple-equation models side by side as columns"),
    Opt("lz", desc="leading zeros of fixed-format numbers (the default)"),
    Opt("nolz", desc="no leading zeros: .12 for 0.12"),
    Opt("dmarker", "dm", "anything", None, 'decimal marker: dmarker(",")'),
)
_OPTIONAL_ARG = {"b", "se", "t", "z", "p", "ci", "star", "r2", "ar2", "pr2", "aic", "bic", "mtitles", "eform", "page",
                 "addnotes", "note", "prehead", "posthead", "prefoot", "postfoot", "substitute", "interaction",
                 "mlabels", "collabels", "eqlabels", "mgroups", "varlabels", "coeflabels"}
_MODES = ("csv", "tex", "booktabs", "html", "md", "rtf", "fixed", "smcl", "tab", "scsv", "mmd")
_SUFFIX = {".csv": "csv", ".tex": "tex", ".html": "html", ".htm": "html", ".md": "md", ".mmd": "md",
           ".rtf": "rtf", ".txt": "fixed", ".smcl": "fixed"}


# estout's own spelling of two options esttab has (esttab hands options it lacks to estout):
# starlevels() is star(), and s() abbreviates estout's stats()
_ESTOUT_SPELLINGS = ((Opt("starlevels", "starl", "anything"), "star"),
                     (Opt("stats", "s", "anything"), "stats"))


def _spec_of(name: str):
    spec = next((s for s in _OPTS if s.matches(name)), None)
    if spec is None:
        alias = next((target for s, target in _ESTOUT_SPELLINGS if s.matches(name)), None)
        spec = next((s for s in _OPTS if s.name == alias), None) if alias else None
    return spec


def _options(options) -> dict[str, str | None]:
    given: dict[str, str | None] = {}
    for o in options:
        spec = _spec_of(o.name)
        if spec is None:
            raise StataError(f"option {o.name} not allowed", 198)
        if spec.takes_arg and spec.name not in _OPTIONAL_ARG and not (o.arg or "").strip():
            raise StataError(f"option {spec.name}() incorrectly specified", 198)
        if not spec.takes_arg and o.arg is not None:
            raise StataError(f"option {o.name} not allowed", 198)
        given[spec.name] = o.arg
    # t is esttab's default statistic, a switch it keeps on: `se(3) t` shows the standard
    # errors (a public do-file's call); only se, z, p, ci and aux() exclude one another
    aux = [k for k in ("se", "z", "p", "ci") if k in given]
    if len(aux) > 1:
        raise StataError("only one allowed of z, se, p, ci, and aux()", 198)
    modes = [m for m in _MODES if m in given]
    if len(modes) > 1:
        raise StataError("only one allowed of smcl, fixed, tab, csv, scsv, rtf, html, tex, booktabs, md, or mmd", 198)
    _not_both(given)
    if _eforms(given) is not None and given.get("eform") is None and "constant" not in given:
        given["noconstant"] = None          # esttab drops the intercept in eform mode
    return _plain(given) if "plain" in given else given


def _not_both(given) -> None:
    lev = (given.get("level") or "").strip()
    if "level" in given and not (lev.isdigit() and 10 <= int(lev) <= 99):
        raise StataError(f"level({lev}) invalid", 198)
    if given.get("width") is not None and "longtable" in given:
        raise StataError("width() and longtable not both allowed", 198)
    if "fragment" in given and "page" in given:
        raise StataError("options fragment and page not both allowed", 198)
    if "replace" in given and "append" in given:
        raise StataError("replace and append not both allowed", 198)
    for opt in ("constant", "gaps", "numbers", "parentheses", "lines", "legend", "abbrev", "float"):
        if opt in given and f"no{opt}" in given:
            raise StataError(f"options {opt} and no{opt} not both allowed", 198)


def _plain(given) -> dict:
    """esttab's plain: none of its decorations switched on (stars, parentheses, gaps, rules,
    model numbers, dependent variables, notes) and every number in b()'s format, %9.0g by
    default (esttab.ado)."""
    out = dict(given)
    bfmt = (given.get("b") or "").strip() or "%9.0g"
    out["b"] = bfmt
    for opt in ("star", "parentheses", "gaps", "numbers", "depvars", "notes", "lines"):
        if opt not in given and not (opt == "star" and given.get("star")) and not (
                opt == "parentheses" and "brackets" in given):
            out["no" + opt] = None
    aux = next((k for k in ("se", "z", "p") if k in given), "t")
    out[aux] = (given.get(aux) or "").strip() or bfmt
    for opt in ("r2", "ar2", "pr2"):
        if opt in given:
            out[opt] = (given.get(opt) or "").strip() or bfmt
    return out


def _eforms(given) -> list[bool] | None:
    """eform / eform(1 0 1): which models are exponentiated (the last entry repeats, as
    estout's pattern); None without eform, with noeform, or when transform() is given
    (transform() takes precedence over eform). esttab itself knows only the bare eform
    (intercept dropped unless constant, the note "Exponentiated coefficients"); eform(pattern)
    goes through to estout, which keeps the intercept and adds no note."""
    if "eform" not in given or "noeform" in given or given.get("transform"):
        return None
    words = (given.get("eform") or "").split()
    if any(w not in ("0", "1") for w in words):
        raise StataError("invalid pattern in transform(,pattern()) or eform()", 198)
    return [w == "1" for w in words] or [True]


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        raise StataError("invalid syntax", 198) from None


def _num_fmt(spec: str | None, default: str):
    """estout's fmt(): a# (adaptive), # (decimals), %fmt."""
    s = (spec or "").strip() or default
    if re.fullmatch(r"a\d", s):
        return lambda x, d=int(s[1]): pt.estout_a(x, d)
    if s.isdigit():
        return lambda x, d=int(s): pt.fixed(x, d)
    if re.fullmatch(r"%-?\d+\.\d+[fgec]c?", s):
        from hlmshell.output.numfmt import fmt as nfmt
        return lambda x: "." if x is None or x != x else nfmt(float(x), s).strip()
    raise StataError(f"{s}: invalid format", 198)


def _star_levels(given) -> list[tuple[str, float, str]]:
    if "nostar" in given:
        return []
    return _parse_star(given.get("star"))


_parse_star = el.parse_star


@dataclass
class Layout:
    aux: str | None            # se t z p or None (not)
    bfmt: object
    auxfmt: object
    stars: list[tuple[str, float, str]]
    gaps: bool
    label: bool
    transforms: list = dataclasses.field(default_factory=list)
    eform: list[bool] | None = None     # per model (the last repeats)
    wide: bool = False
    paren: tuple[str, str] = ("(", ")")
    abs: bool = False
    staraux: bool = False

    def model_transforms(self, i: int) -> list:
        if self.transforms or self.eform is None:
            return self.transforms
        return _EXP if self.eform[min(i, len(self.eform) - 1)] else []


_EXP = [et.Transform(None, "exp(@)", "exp(@)")]


def _layout(given) -> Layout:
    aux = next((k for k in ("se", "z", "p", "ci", "t") if k in given), "t")
    if "not" in given and aux == "t":
        aux = None
    bfmt = _num_fmt(given.get("b"), "a3")
    auxfmt = _num_fmt(given.get(aux) if aux else None,
                      {"t": "2", "z": "2", "p": "3"}.get(aux or "", given.get("b") or "a3"))
    wide = "wide" in given
    # esttab.ado switches gaps on only in the stacked layout with a second statistic
    gaps = "nogaps" not in given and ("gaps" in given or (not wide and aux is not None))
    paren = ("", "") if "noparentheses" in given else ("[", "]") if "brackets" in given or aux == "ci" \
        else ("(", ")")
    lay = Layout(aux, bfmt, auxfmt, _star_levels(given), gaps, "label" in given,
                 et.parse_transform(given.get("transform")), _eforms(given), wide, paren)
    lay.abs = "abs" in given and aux in ("t", "z")
    lay.staraux = "staraux" in given
    return lay


def _coef_cells(c, lay: Layout, bounds=None):
    """b with its stars, and the statistic below (beside) it: se, t, z, p or the interval
    [lower,upper] (estout's ci par: "[" "," "]")."""
    if c is None:
        return ("", ""), ("", "")
    stars = pt.stars_for(c.p, [(s, lev) for s, lev, _ in lay.stars]) if lay.stars else ""
    top = (lay.bfmt(c.b), "" if lay.staraux else stars)
    if lay.aux is None:
        return top, None
    if lay.aux == "ci":
        lo, hi = bounds or (float("nan"), float("nan"))
        return top, (f"{lay.paren[0]}{lay.auxfmt(lo)},{lay.auxfmt(hi)}{lay.paren[1]}", stars if lay.staraux else "")
    val = {"se": c.se, "t": c.z, "z": c.z, "p": c.p}[lay.aux]
    if lay.abs:
        val = abs(val)
    return top, (f"{lay.paren[0]}{lay.auxfmt(val)}{lay.paren[1]}", stars if lay.staraux else "")


def estout_name(name: str) -> str:
    """A coefficient's name as estout shows base and omitted ones (estout.ado's
    estout_omitted_and_base): `o.` markers and `b.` markers dropped (0b.sector -> 0.sector,
    0b.female#co.ses -> 0.female#c.ses)."""
    name = name.removeprefix("o.")
    return name.replace("o.", ".").replace("b.", ".")


def _eq_keys(results, given=None) -> tuple[list[str], list[dict]]:
    """Equations across models: each model's first equation is the shared `main` one. Base
    levels and omitted coefficients kept (b 0, se 0) unless nobaselevels / noomitted."""
    given = given or {}
    per_model, order = [], []
    maps = _eq_map(results, given.get("equations"))
    pairs = er.renames(given)
    for r, eqmap in zip(results, maps):
        coefs = coefficients(r, omitted=True)
        first = r.names[0][0] if r.names else ""
        d = {}
        for c in coefs:
            if c.se == 0 and ("nobaselevels" in given and re.search(r"(^|#)\d+b\.", c.name)
                              or "noomitted" in given and re.search(r"(^|#|\d)o\.", c.name)):
                continue
            if c.eq in eqmap:           # matched by equations(): the matched name (#k), which
                eq = eqmap[c.eq]        # transform(), keep() and drop() then refer to
                c = dataclasses.replace(c, eq=eq)
            else:
                eq = "" if c.eq == first and not eqmap else c.eq
            d[(eq, er.renamed(eq, estout_name(c.name), pairs))] = c
            if eq not in order:
                order.append(eq)
        per_model.append(d)
    return order, per_model


def _eq_map(results, text: str | None) -> list[dict[str, str]]:
    """equations([name =] #:#:... [, ...]) as estimates table matches equations: the k-th term
    names each model's equation at that position `#k` (or `name`); one number applies to every
    model, `.` leaves a model out. Per model: {its equation name: the matched name}."""
    maps: list[dict[str, str]] = [{} for _ in results]
    if text is None:
        return maps
    terms = [t for t in text.split(",")]
    if not text.strip() or any(not t.strip() for t in terms):
        raise StataError("equations() invalid", 198)
    for k, term in enumerate(terms, 1):
        label, eqsign, nums = term.rpartition("=")
        label = label.strip() if eqsign else f"#{k}"
        parts = [p.strip() for p in nums.split(":")]
        if len(parts) == 1:
            parts = parts * len(results)
        if len(parts) != len(results) or (eqsign and not _NAME.match(label)):
            raise StataError("equations() invalid", 198)
        for m, (res, part) in enumerate(zip(results, parts)):
            if part == ".":
                continue
            eqs = list(dict.fromkeys(e for e, _ in res.names))
            if not part.isdigit() or not 1 <= int(part) <= len(eqs):
                raise StataError("equations() invalid", 198)
            maps[m][eqs[int(part) - 1]] = label
    return maps


def _eq_label(eq: str, i: int, given, first_eq: str) -> str:
    """An equation's row label: eqlabels()'s i-th entry when given, else its name."""
    opt = el.parse(given.get("eqlabels"), "eqlabels")
    if opt is not None and i < len(opt.labels):
        return opt.labels[i]
    return eq or first_eq


def _keep(eq: str, name: str, given, real_eq: str = "") -> bool:
    keep = _words(given.get("keep") or "")
    drop = _words(given.get("drop") or "")
    if "noconstant" in given:
        drop.append("_cons")
    eq = eq or real_eq
    if keep and not ec.coef_matches(eq, name, keep):
        return False
    return not (drop and ec.coef_matches(eq, name, drop))


def _ordered(names: list[str], given) -> list[str]:
    return ec.ordered(names, given, name=lambda n: n)


def _body_rows(session, results, given, lay: Layout) -> list[pt.PaperRow]:
    order, per_model = _eq_keys(results, given)
    first_eq = results[0].names[0][0] if results and results[0].names else ""
    kept = {eq: merge_order([[n for (e, n) in d if e == eq and _keep(e, n, given, first_eq)] for d in per_model])
            for eq in order}
    multi = sum(1 for eq in order if kept[eq]) > 1
    level = float((given.get("level") or "95").strip())
    crits = [ec.critical(r, level) for r in results] if lay.aux == "ci" else None
    rows: list[pt.PaperRow] = []
    for i, eq in enumerate(order):
        if not kept[eq]:
            continue
        eqlab = _eq_label(eq, i, given, first_eq)
        if multi:
            rows += ([pt.PaperRow(kind="rule")] if rows else []) + [pt.PaperRow(eqlab, [], "eq")]
        rows += _eq_rows(session, given, lay, eq, _ordered(kept[eq], given), per_model, eqlab, crits)
    return rows


def _interaction(given) -> str:
    """interaction(): what joins the labels of an interaction's terms (esttab: " # ", LaTeX
    " $\\times$ ")."""
    text = given.get("interaction")
    if text is not None:
        return el.words(text)[0] if '"' in text else text
    return " $\\times$ " if given.get("_mode") in ("tex", "booktabs") else " # "


def _row_label(session, given, lay: Layout, eq: str, name: str, cons: str) -> str:
    if eq or not lay.label:
        return name
    if name == "_cons":
        return cons
    return el.coef_label(session, name, _interaction(given))


def _bounds(session, c, transforms, q: float) -> tuple[float, float] | None:
    """The confidence interval b -+ q se, its bounds transformed as the coefficient is."""
    if c is None:
        return None
    return tuple(et.transform_point(session, c, transforms, x) for x in (c.b - q * c.se, c.b + q * c.se))


def _eq_rows(session, given, lay: Layout, eq: str, names, per_model, eqlab: str,
             crits=None) -> list[pt.PaperRow]:
    """One equation's coefficients: a row each (b, with its statistic below or beside)."""
    rows: list[pt.PaperRow] = []
    cons = "_cons" if given.get("varlabels") is not None else "Constant"
    for k, name in enumerate(names):
        if k and lay.gaps:
            rows.append(pt.PaperRow(kind="gap"))
        label = _row_label(session, given, lay, eq, name, cons)
        cells = [_coef_cells(et.apply_transform(session, d.get((eq, name)), lay.model_transforms(m)), lay,
                             _bounds(session, d.get((eq, name)), lay.model_transforms(m), crits[m]) if crits else None)
                 for m, d in enumerate(per_model)]
        if lay.wide and lay.aux is not None:      # wide: b and its statistic side by side
            rows.append(ec.KeyRow(label, [x for c in cells for x in c], "coef", key=(eq, name), eqlabel=eqlab))
            continue
        rows.append(ec.KeyRow(label, [c[0] for c in cells], "coef", key=(eq, name), eqlabel=eqlab))
        if lay.aux is not None:
            rows.append(pt.PaperRow("", [c[1] for c in cells], "aux"))
    return rows


_SSL = {"N": "N", "r2": "R-sq", "r2_a": "adj. R-sq", "r2_p": "pseudo R-sq", "aic": "AIC", "bic": "BIC"}
_LSL = {"N": "Observations", "r2": "R-squared", "r2_a": "Adjusted R-squared", "r2_p": "Pseudo R-squared",
        "aic": "AIC", "bic": "BIC"}


_TEX_SSL = {"N": r"\(N\)", "r2": r"\(R^{2}\)", "r2_a": r"adj. \(R^{2}\)", "r2_p": r"pseudo \(R^{2}\)",
            "aic": r"\textit{AIC}", "bic": r"\textit{BIC}"}
_TEX_LSL = {**_TEX_SSL, "N": "Observations", "r2_a": r"Adjusted \(R^{2}\)", "r2_p": r"Pseudo \(R^{2}\)"}
_HTML_SSL = {"N": "<i>N</i>", "r2": "<i>R</i><sup>2</sup>", "r2_a": "adj. <i>R</i><sup>2</sup>",
             "r2_p": "pseudo <i>R</i><sup>2</sup>", "aic": "<i>AIC</i>", "bic": "<i>BIC</i>"}
_HTML_LSL = {**_HTML_SSL, "N": "Observations", "r2_a": "Adjusted <i>R</i><sup>2</sup>",
             "r2_p": "Pseudo <i>R</i><sup>2</sup>"}


_RTF_SSL = {"N": r"{\i N}", "r2": r"{\i R}{\super 2}", "r2_a": r"adj. {\i R}{\super 2}",
            "r2_p": r"pseudo {\i R}{\super 2}", "aic": r"{\i AIC}", "bic": r"{\i BIC}"}
_RTF_LSL = {**_RTF_SSL, "N": "Observations", "r2_a": r"Adjusted {\i R}{\super 2}",
            "r2_p": r"Pseudo {\i R}{\super 2}"}


_MD_SSL = {"N": "*N*", "r2": "*R*<sup>2</sup>", "r2_a": "adj. *R*<sup>2</sup>", "r2_p": "pseudo *R*<sup>2</sup>",
           "aic": "*AIC*", "bic": "*BIC*"}
_MD_LSL = {**_MD_SSL, "N": "Observations", "r2_a": "Adjusted *R*<sup>2</sup>", "r2_p": "Pseudo *R*<sup>2</sup>"}


def _stat_labels(given) -> dict[str, str]:
    """esttab's labels of N, R-sq, ... in the output mode (its ssl/lsl strings)."""
    mode = given.get("_mode")
    label = "label" in given
    if mode in ("tex", "booktabs"):
        return _TEX_LSL if label else _TEX_SSL
    if mode == "html":
        return _HTML_LSL if label else _HTML_SSL
    if mode == "rtf":
        return _RTF_LSL if label else _RTF_SSL
    if mode == "md":
        return _MD_LSL if label else _MD_SSL
    return _LSL if label else _SSL


def _stats(given) -> list[tuple[str, str, object]]:
    """(e() name, label, formatter) of the statistics rows, in esttab's order."""
    labels = _stat_labels(given)
    bdef = given.get("b") or "a3"
    chosen = et.parse_stats(given.get("stats"))
    if chosen is not None:                  # stats(): these, in this order, and nothing else
        return [(n, lab, _num_fmt(f, "%9.0g") if f or n != "N" else _int_fmt)
                for n, lab, f in chosen]
    out = []
    if "noobs" not in given and "obslast" not in given:
        out.append(("N", labels["N"], _int_fmt))
    for opt, key, dflt in (("r2", "r2", "3"), ("ar2", "r2_a", "3"), ("pr2", "r2_p", "3"),
                           ("aic", "aic", bdef), ("bic", "bic", bdef)):
        if opt in given:
            out.append((key, labels[key], _num_fmt(given[opt], dflt)))
    sfmt = (given.get("sfmt") or "").split() or [bdef]
    for i, w in enumerate(_words(given.get("scalars") or "")):
        name, _, lab = w.strip().partition(" ")
        if name not in [s[0] for s in out]:     # scalars("name label" ...): the label after the name
            f = sfmt[min(i, len(sfmt) - 1)]
            out.append((name, lab.strip() or name, _int_fmt if name == "N" else _num_fmt(f, bdef)))
    if "obslast" in given and "noobs" not in given:
        out.append(("N", labels["N"], _int_fmt))
    return out


def _int_fmt(x) -> str:
    if x is None or x != x:
        return "."
    return str(int(x)) if x == int(x) else pt.fixed(x, 3)


def _stat_rows(results, given) -> list[pt.PaperRow]:
    rows = []
    starred = et.stats_star(given.get("stats"))
    levels = [(s, lev) for s, lev, _ in _parse_star(given.get("star"))]
    for key, lab, f in _stats(given):
        cells = []
        for r in results:
            v = stat_value(r, key)
            text = r.macros.get(key, "") if v is None else f(v)     # estadd local: text
            stars = pt.stars_for(r.scalars.get("p"), levels) if key in starred and v is not None else ""
            cells.append((text, stars))
        rows.append(pt.PaperRow(lab, cells, "stat"))
    return rows


def _cells_rows(given) -> list:
    text = (given.get("cells") or "").strip()
    return [] if text in ("none", '"none"') else ec.parse_cells(text)


def _build_cells(session, results, given, inds=()) -> list[pt.PaperRow]:
    """esttab with cells(): the elements asked for (estpost's vectors too), a sub-column each
    when side by side; statistics rows in each model's first sub-column."""
    rows = _cells_rows(given)
    stars = [(s, lev) for s, lev, _ in _star_levels(given)]
    label = "label" in given
    stats = _stat_rows(results, given)
    if not rows:                            # cells(none): the statistics alone
        return stats
    cons = "_cons" if given.get("varlabels") is not None else "Constant"
    cgiven = given if "gaps" in given else {**given, "nogaps": None}     # esttab: no gaps with cells()
    lay = _layout(given)
    et.check_transform(session, lay.transforms)
    ct = ec.build_cells(session, results, cgiven, rows, stars,
                        lambda n: (cons if n == "_cons" else el.coef_label(session, n, _interaction(given))) if label
                        else n, [], lambda m, c: et.apply_transform(session, c, lay.model_transforms(m)))
    body = ct.rows + _indicator_rows(results, list(inds), ct.width, False)
    for r in stats:
        r.cells = ec.widen(r.cells, ct.width)
    return body + ([pt.PaperRow(kind="rule")] + stats if stats else [])


def _with_indicators(given) -> tuple[dict, list]:
    """indicate()'s coefficients go to drop(); its rows come after the coefficients."""
    inds, yes_no = er.indicators(given)
    if not inds:
        return given, []
    drop = " ".join([given.get("drop") or ""] + [p for i in inds for p in i.patterns])
    return {**given, "drop": drop}, [(i, yes_no) for i in inds]


def _indicator_rows(results, inds, width: int, gaps: bool) -> list[pt.PaperRow]:
    rows: list[pt.PaperRow] = []
    for ind, yes_no in inds:
        if gaps:
            rows.append(pt.PaperRow(kind="gap"))
        rows.append(pt.PaperRow(ind.label, er.indicator_cells(results, ind, yes_no, width), "coef"))
    return rows


def build_esttab(session, results, given) -> list[pt.PaperRow]:
    """The table's rows: coefficients (with their statistics), indicate() rows, a rule and the
    model statistics; nolz takes the leading zeros off."""
    rows = _build_esttab(session, results, given)
    rows = ec.no_leading_zeros(rows) if "nolz" in given else rows
    return ec.decimal_marker(rows, given.get("dmarker"))


def _build_esttab(session, results, given) -> list[pt.PaperRow]:
    given, inds = _with_indicators(given)
    if "cells" in given:
        return _build_cells(session, results, given, inds)
    lay = _layout(given)
    et.check_transform(session, lay.transforms)
    rows = _body_rows(session, results, given, lay)
    rows += _indicator_rows(results, inds, 2 if lay.wide and lay.aux is not None else 1, lay.gaps and bool(rows))
    stats = _stat_rows(results, given)
    if lay.wide and lay.aux is not None:     # a model's statistics in its first column
        for r in stats:
            r.cells = ec.widen(r.cells, 2)
    return rows + ([pt.PaperRow(kind="rule")] + stats if stats else [])


def _split_using(body: str) -> tuple[str, str | None]:
    m = re.search(r'(?:^|\s)using\s+("[^"]*"|\S+)\s*$', body)
    if not m:
        if re.search(r"(?:^|\s)using(\s|$)", body):
            raise StataError("invalid syntax", 198)
        return body.strip(), None
    return body[: m.start()].strip(), m.group(1).strip('"')


def _which(session, text: str) -> list[str]:
    if text:
        return list(dict.fromkeys(expand_names(session, text)))
    names = _eststo_names(session)
    if names:
        return names
    if session.e is None:
        raise StataError("last estimates not found", 301)
    return ["."]


def _title_words(text: str) -> list[str]:
    """Quoted titles, each its own word even when typed without a space ("a""b")."""
    return [a if q else b for q, a, b in re.findall(r'("([^"]*)")|(\S+)', text)]


def _mlabels(session, results, names, given) -> list[str] | None:
    """esttab's model labels: mtitles() / titles, dependent variables (the default), or
    estout's own (the model names) under nodepvars; none under nomtitles."""
    if "nomtitles" in given:
        return None
    if "mtitles" in given:
        words = _title_words(given["mtitles"] or "")
        return [words[i] if i < len(words) else (r.macros.get("estimates_title") or n)
                for i, (r, n) in enumerate(zip(results, names))]
    if "nodepvars" not in given:
        return [var_label(session, r.depvar, "label" in given) for r in results]
    return None if names == ["."] else list(names)


def _spec(session, results, names, given) -> tuple[lo.Spec, list[pt.PaperRow], bool]:
    """What the estout writer needs: the body rows, the columns and the notes."""
    title = (given.get("title") or "").strip().strip('"')
    mlabels = _grouped_labels(_mlabels(session, results, names, given), given)
    numbers = "nonumbers" not in given
    if "cells" in given:
        body = build_esttab(session, results, given)
        rows = _cells_rows(given)
        stars = _star_levels(given)
        cols = (ec.star_columns(rows) if stars else [False] * max(len(r) for r in rows)) if rows else [False]
        cols[0] = cols[0] or bool(et.stats_star(given.get("stats")))
        spec = lo.Spec(len(results), len(cols), mlabels, numbers, stars, (False, None, ""), True,
                       ec.column_labels(rows) if rows else [], cols * len(results), title)
        return spec, body, "gaps" in given and len(rows) > 1 and "nogaps" not in given
    lay = _layout(given)
    body = build_esttab(session, results, given)
    width = 2 if lay.wide and lay.aux is not None else 1
    cols = ([True, False] if width == 2 else [True]) if lay.stars else [False] * width
    where = {"(": "in parentheses", "[": "in brackets"}.get(lay.paren[0]) or \
        ("in second column" if lay.wide else "in second row")
    eform = lay.eform is not None and given.get("eform") is None
    col_labels = []
    if "plain" in given:                    # estout's own column labels: b/t
        col_labels = ["b", lay.aux] if width == 2 else ["/".join(["b"] + ([lay.aux] if lay.aux else []))]
    level = float((given.get("level") or "95").strip())
    spec = lo.Spec(len(results), width, mlabels, numbers, lay.stars, (eform, lay.aux, where, level, lay.abs), False,
                   col_labels, cols * len(results), title)
    return spec, body, lay.gaps


def estout_text(session, results, names, given, mode: str) -> str:
    """esttab's table in mode fixed/smcl/tab/csv/tex/booktabs/html, as estout writes it."""
    given = {**given, "_mode": mode}
    spec, rows, gaps = _spec(session, results, names, given)
    spec.alt_labels = {"depvars": [var_label(session, r.depvar, "label" in given) for r in results],
                       "titles": [r.macros.get("estimates_title") or n for r, n in zip(results, names)]}
    body = lo.blocks(rows, given, mode, gaps, spec.width)
    csvlhs = '"' if "plain" in given else '="'
    return lo.assemble(given, mode, spec, body, "label" in given, gaps, csvlhs)


def _render(session, results, names, given, mode: str) -> str:
    if mode == "scsv":
        given = {**given, "_scsv": None}
    mode = {"smcl": "fixed", "scsv": "csv", "mmd": "md"}.get(mode, mode)
    return estout_text(session, results, names, given, mode)


def _target(fname: str, mode: str | None) -> tuple[str, str]:
    ext = os.path.splitext(fname)[1].lower()
    if mode is None:
        mode = _SUFFIX.get(ext, "fixed")
    if not ext:
        fname += {"csv": ".csv", "scsv": ".csv", "tex": ".tex", "booktabs": ".tex", "html": ".html", "md": ".md",
                  "mmd": ".mmd", "rtf": ".rtf"}.get(mode, ".txt")
    return fname, mode


@command("esttab", byable=False, qualifiers="", changes_data=False, family="Postestimation",
          body="anything", using="optional", options=_OPTS, check_options=False,
          desc="regression table of stored estimates (estout's esttab)",
          example="esttab m1 m2, se r2 aic star(* 0.05 ** 0.01 *** 0.001)")
def esttab_cmd(session, cmd) -> None:
    text, fname = _split_using(cmd.body or "")
    given = _options(cmd.options)
    names = _which(session, text)
    results: list[EstimationResults] = [lookup(session, n) for n in names]
    results, names, given = _reshaped(results, names, given, "mtitles")
    mode = next((m for m in _MODES if m in given), None)
    if fname is None:
        out = _render(session, results, names, given, mode or "fixed")
        session.out.line("")                # estout types a blank line before the table
        for line in out.rstrip("\n").split("\n"):
            session.out.line(line)
        return
    path, mode = _target(fname, mode)
    if os.path.exists(path) and "replace" not in given and "append" not in given:
        raise StataError(f"file {path} already exists", 602)
    if "append" in given and os.path.exists(path) and _inserts(mode, given):
        new = _render(session, results, names, {**given, "_noopen": None}, mode)
        pt.write_text(path, _insert_table(path, new, mode), shown=path)
    else:
        pt.write_text(path, _render(session, results, names, given, mode), shown=path, append="append" in given)
    session.out.line(f"(output written to {path})")


def _inserts(mode: str, given) -> bool:
    """esttab appends an RTF table (not a fragment), or a tex/html page, inside the document
    already there rather than after its end."""
    return (mode == "rtf" and "fragment" not in given) or ("page" in given and mode in ("tex", "booktabs", "html"))


def _insert_table(path: str, new: str, mode: str) -> str:
    """The old document up to its end line (rtf: the last `}`; tex: \\end{document}; html:
    </body>), then the new table, which closes the document again."""
    end = {"rtf": "}", "html": "</body>"}.get(mode, r"\end{document}")
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().split("\n")
    except OSError:
        raise StataError(f"file {path} could not be opened", 603) from None
    hits = [i for i, ln in enumerate(lines) if ln == end]
    cut = (hits[-1] if mode == "rtf" else hits[0]) if hits else len(lines)
    return "\n".join(lines[:cut]) + ("\n" if cut else "") + new


# =========================================================================== estout
_ESTOUT_OPTS = (
    Opt("cells", "c", "anything", None, "elements of the cells: b se t p, each with (fmt(%fmt) par star)"),
    Opt("stats", "s", "anything", None, "e() scalars below the table: N r2 ll aic bic ..."),
    Opt("style", "sty", "name", None, "smcl (the default on screen), fixed, tab (the default in a file), tex, html"),
    Opt("label", "l", desc="variable labels"),
    Opt("keep", "keep", "anything", None, "coefficients to show"),
    Opt("drop", "drop", "anything", None, "coefficients not to show"),
    Opt("order", "order", "anything", None, "order of the coefficients"),
    Opt("rename", "ren", "anything", None, "rename(old new ...) coefficients"),
    Opt("refcat", "refcat", "anything", None, 'reference categories: refcat(2.x "Base")'),
    Opt("indicate", "indicate", "anything", None, 'indicate("label = coefs"): Yes/No rows'),
    Opt("title", "ti", "string", None, "title of the table"),
    Opt("note", "note", "anything", None, "a note below the table"),
    Opt("mlabels", "ml", "anything", None, "model labels [, depvars titles span prefix() suffix()]"),
    Opt("collabels", "colla", "anything", None, "column labels, or collabels(none)"),
    Opt("eqlabels", "eql", "anything", None, "equation labels, or eqlabels(none)"),
    Opt("varlabels", "varl", "anything", None, "labels of coefficients: varlabels(name label ...)"),
    Opt("mgroups", "mgr", "anything", None, "groups of models: mgroups(A B, pattern(1 0 1))"),
    Opt("numbers", "num", desc="model numbers"), Opt("nonumbers", "nonum", desc="no model numbers"),
    Opt("legend", "le", desc="the significance legend"), Opt("nolegend", "nole", desc="no legend"),
    Opt("starlevels", "starl", "anything", None, "starlevels(* 0.05 ** 0.01 ...)"),
    Opt("varwidth", "varw", "anything", None, "width of the first column"),
    Opt("modelwidth", "modelw", "anything", None, "width of the model columns"),
    Opt("begin", "beg", "anything", None, "string at the start of each row"),
    Opt("delimiter", "del", "anything", None, "string between the columns"),
    Opt("end", "end", "anything", None, "string at the end of each row"),
    Opt("prehead", "preh", "anything", None, "lines before the table head"),
    Opt("posthead", "posth", "anything", None, "lines after the table head"),
    Opt("prefoot", "pref", "anything", None, "lines before the statistics"),
    Opt("postfoot", "postf", "anything", None, "lines after the table"),
    Opt("substitute", "sub", "anything", None, "substitute(from to ...) in every line"),
    Opt("abbrev", "ab", desc="abbreviate long names"), Opt("noabbrev", "noab", desc="no abbreviation"),
    Opt("nobaselevels", "nobase", desc="no base levels"), Opt("noomitted", "noomit", desc="no omitted terms"),
    Opt("transform", "tr", "anything", None, "transform([coefs] fx dfx ...): e.g. ln*: exp(@) exp(@)"),
    Opt("eform", "eform", "anything", None, "exponentiated coefficients (eform(1 0): per model)"),
    Opt("replace", desc="overwrite the file"), Opt("append", desc="append to the file"),
    Opt("equations", "eq", "anything", None, "match the models' equations: equations(1:1, 2:3, .:2)"),
    Opt("unstack", desc="equations of multiple-equation models side by side as columns"),
    Opt("lz", desc="leading zeros of fixed-format numbers (the default)"),
    Opt("nolz", desc="no leading zeros: .12 for 0.12"),
    Opt("dmarker", "dm", "anything", None, 'decimal marker: dmarker(",")'),
)
_ESTOUT_OPTIONAL = {"eform", "mlabels", "collabels", "eqlabels", "varlabels", "mgroups", "note", "prehead", "posthead",
                    "prefoot", "postfoot", "begin", "delimiter", "end", "substitute", "title"}


def _reshaped(results, names, given, titles_opt: str):
    """equations() (for the cells() tables, which match rows by equation name) and unstack
    (esttab_unstack.py): the models as the table lays them out. Unstacked columns are titled
    by their equations unless the titles were given."""
    from hlmshell.commands import esttab_unstack as eu
    for opt in ("keep", "drop"):            # keep(..., relax): unmatched names are no error here
        text = given.get(opt)
        if text is not None and re.search(r",\s*relax\s*$", text):
            given = {**given, opt: re.sub(r",\s*relax\s*$", "", text)}
    if given.get("equations") is not None and ("cells" in given or titles_opt == "mlabels"):
        results = eu.relabel(results, _eq_map(results, given["equations"]))
        given = {k: v for k, v in given.items() if k != "equations"}
    if "unstack" in given:
        results, names, titles, groups = eu.unstack(results, names)
        if any(titles):
            given = {**given, "_unstack": (groups, titles)}
    return results, names, given


def _grouped_labels(labels, given):
    """Model labels after unstack: one per original model, over its equation columns."""
    from hlmshell.commands import esttab_unstack as eu
    unstacked = given.get("_unstack")
    return labels if unstacked is None else eu.per_model(labels, unstacked[0])


def _estout_options(options) -> dict[str, str | None]:
    given: dict[str, str | None] = {}
    for o in options:
        spec = next((s for s in _ESTOUT_OPTS if s.matches(o.name)), None)
        if spec is None:
            raise StataError(f"option {o.name} not allowed", 198)
        if spec.takes_arg and spec.name not in _ESTOUT_OPTIONAL and not (o.arg or "").strip():
            raise StataError(f"option {spec.name}() incorrectly specified", 198)
        if not spec.takes_arg and o.arg is not None:
            raise StataError(f"option {o.name} not allowed", 198)
        given[spec.name] = o.arg if o.arg is not None or not spec.takes_arg else ""
    return given


@command("estout", byable=False, qualifiers="", changes_data=False, family="Postestimation",
          body="anything", using="optional", options=_ESTOUT_OPTS, check_options=False,
          desc="table of stored estimates (estout's estout; cells, stats, style smcl|fixed|tab|tex|html)",
          example="estout m1 m2, cells(b(fmt(3)) se(par fmt(3))) stats(N ll)")
def estout_cmd(session, cmd) -> None:
    text, fname = _split_using(cmd.body or "")
    given = _estout_options(cmd.options)
    style = eo.check_style(given, fname)
    names = list(dict.fromkeys(expand_names(session, text, default=".")))
    results = [lookup(session, n) for n in names]
    results, names, given = _reshaped(results, names, given, "mlabels")
    out = eo.estout_text(session, results, names, given, style)
    if fname is None:
        session.out.line("")                # estout types a blank line before the table
        for line in out.rstrip("\n").split("\n"):
            session.out.line(line)
        return
    path = fname if os.path.splitext(fname)[1] else fname + ".txt"
    if os.path.exists(path) and "replace" not in given and "append" not in given:
        raise StataError(f"file {path} already exists", 602)
    pt.write_text(path, out, shown=path, append="append" in given)
    session.out.line(f"(output written to {path})")
