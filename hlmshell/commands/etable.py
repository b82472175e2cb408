"""etable (Stata 17): a table of estimation results for papers, shown and exported.

    etable [, estimates(namelist) cstat(_r_b|_r_se|_r_z|_r_p|_r_ci [, nformat(%fmt)]) ...
              mstat(N|ll|aic|bic|r2|r2_a|<e() scalar>) ... showstars showstarsnote
              stars(.05 "*" .01 "**" .001 "***") column(dvlabel|depvar|command|title|index|estimates)
              keep(coeflist) drop(coeflist) varlabel novarlabel title(string)
              export(file.md|.html|.tex|.docx|.xlsx|.txt [, replace]) append]

Default: the active results (or estimates()'s stored ones), each coefficient's _r_b with its
_r_se in parentheses under it, variable labels for the rows (`Intercept` for _cons), the
dependent variable's label as the column header, and `Number of observations` at the bottom.
After `mixed` the random-effects parameters are shown as etable shows them: the variances and
covariances (var(_cons), cov(ses,_cons), ...) under their level's name, then var(e) -- not
e(b)'s ln standard deviations. `append` adds the new columns to the previous etable's.
Nothing in the session changes (etable leaves r() and e() alone).
"""
from __future__ import annotations

import math
import os
import re
import shlex
import weakref
from dataclasses import dataclass, field

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import expand_names, ic_row, lookup, norm_name
from hlmshell.commands._toolkit import collect_options
from hlmshell.errors import StataError
from hlmshell.output import paper_tables as pt
from hlmshell.registry import Opt, command
from hlmshell.results import EstimationResults

# --------------------------------------------------------------------------- model numbers
_RE_EQ = re.compile(r"^(lns\d+_\d+_\d+|lnsig_e|atr\d+_\d+_\d+_\d+|r_\w+)$")
_BASE = re.compile(r"(^|#)\d+b\.|(^|#)(\d+)?o\.")


@dataclass
class Coef:
    eq: str
    name: str
    b: float
    se: float
    z: float
    p: float


def is_re_eq(eq: str) -> bool:
    """Equations of e(b) that hold random-effects / residual parameters (mixed's metric)."""
    return bool(_RE_EQ.match(eq))


_ME_RE = re.compile(r"^(var|cov)\((.+)\[(.+)\]\)$")


def is_re_coef(eq: str, name: str) -> bool:
    """mixed's random-effects equations, or the me* commands' `/:var(_cons[district])`
    entries (variances and covariances already in e(b))."""
    return is_re_eq(eq) or (eq == "/" and bool(_ME_RE.match(name)))


def coefficients(res: EstimationResults, *, fixed_only: bool = False, omitted: bool = False) -> list[Coef]:
    """e(b) with standard errors, z (t) statistics and p-values (t with e(df_r), else normal);
    base and omitted columns left out, unless `omitted` (then se is 0 and z, p missing)."""
    b = np.asarray(res.b, dtype=float).reshape(-1)
    k = b.size
    V = np.asarray(res.V, dtype=float).reshape(k, k)
    df_r = res.scalars.get("df_r")
    out = []
    for j, (eq, name) in enumerate(res.names):
        dropped = (res.omitted is not None and bool(np.asarray(res.omitted)[j])) or bool(_BASE.search(name))
        if (dropped and not omitted) or (fixed_only and is_re_coef(eq, name)):
            continue
        se = math.sqrt(V[j, j]) if V[j, j] > 0 else (0.0 if dropped else float("nan"))
        z = b[j] / se if se == se and se > 0 else float("nan")
        if z != z:
            p = float("nan")
        elif df_r is not None and df_r == df_r:
            p = float(2 * dist.t_sf(abs(z), df_r))
        else:
            p = float(2 * dist.norm_sf(abs(z)))
        out.append(Coef(eq, name, float(b[j]), se, z, p))
    return out


@dataclass
class REParam:
    level: str          # "" for the residual
    label: str          # var(_cons), cov(ses,_cons), var(e)
    est: float
    se: float


def _re_from_model(res) -> list[REParam]:
    levels, residual = res.re_table("variance")
    out = []
    for title, rows in levels:
        lev = title.split(":")[0].strip()
        out += [REParam(lev, r.label, r.est, r.se if r.se is not None else float("nan")) for r in rows]
    section = res.residual_section("variance")
    if section is not None:
        out += [REParam("", r.label, r.est, r.se if r.se is not None else float("nan")) for r in section[1]]
    else:
        out.append(REParam("", "var(e)", residual.est, residual.se if residual.se is not None else float("nan")))
    return out


def _re_from_eb(res: EstimationResults) -> list[REParam]:
    """Results without the fit (rebuilt from e()): ln sd parameters as variances (delta
    method); correlations' atanh left out."""
    out = []
    revars = (res.macros.get("revars") or "").split()
    ivars = (res.macros.get("ivars") or "").split()
    for c in coefficients(res):
        m = re.match(r"lns(\d+)_(\d+)_(\d+)$", c.eq)
        if c.eq == "lnsig_e":
            v = math.exp(2 * c.b)
            out.append(REParam("", "var(e)", v, 2 * v * c.se))
        elif m:
            v = math.exp(2 * c.b)
            k = int(m.group(3)) - 1
            lev = ivars[int(m.group(1)) - 1] if int(m.group(1)) - 1 < len(ivars) else c.eq
            name = revars[k] if k < len(revars) else c.eq
            out.append(REParam(lev, f"var({name})", v, 2 * v * c.se))
    return out


def _re_from_me(res: EstimationResults) -> list[REParam]:
    """me* results: `/:var(_cons[district])` -> var(_cons) under district, as mixed's."""
    out = []
    for c in coefficients(res):
        m = _ME_RE.match(c.name) if c.eq == "/" else None
        if m:
            what = re.sub(r"\[[^\]]*\]", "", m.group(2))     # cov(age[district],_cons)
            out.append(REParam(m.group(3), f"{m.group(1)}({what})", c.b, c.se))
    return out


def re_params(res: EstimationResults) -> list[REParam]:
    if any(eq == "/" and _ME_RE.match(nm) for eq, nm in res.names):
        return _re_from_me(res)
    if res.cmd not in ("mixed", "xtmixed") or not any(is_re_eq(eq) for eq, _ in res.names):
        return []
    if getattr(res, "model", None) is not None and hasattr(res, "re_table"):
        try:
            return _re_from_model(res)
        except (AttributeError, TypeError, ValueError, IndexError):
            pass
    return _re_from_eb(res)


def stat_value(res: EstimationResults, s: str) -> float | None:
    if s in ("aic", "bic"):
        row = ic_row(res, "")
        return row[5] if s == "aic" else row[6]
    v = res.scalars.get(s)
    return None if v is None else float(v)


# --------------------------------------------------------------------------- options
_OPTS = (
    Opt("estimates", "est", "anything", None, "stored estimation results to tabulate"),
    Opt("cstat", "cstat", "anything", None, "coefficient statistic: _r_b _r_se _r_z _r_p _r_ci (repeatable)"),
    Opt("mstat", "mstat", "anything", None, "model statistic: N ll aic bic r2 or any e() scalar (repeatable)"),
    Opt("showstars", desc="show significance stars"),
    Opt("showstarsnote", desc="show the note that explains the stars"),
    Opt("stars", "stars", "anything", None, 'significance levels and labels: .05 "*" .01 "**" .001 "***"'),
    Opt("column", "col", "anything", None, "column headers: dvlabel depvar command title index estimates"),
    Opt("keep", "keep", "anything", None, "coefficients to show"),
    Opt("drop", "drop", "anything", None, "coefficients not to show"),
    Opt("varlabel", desc="variable labels for the rows (the default)"),
    Opt("novarlabel", desc="variable names for the rows"),
    Opt("title", "title", "string", None, "title of the table"),
    Opt("export", "export", "anything", None, "export to a file: .md .html .tex .docx .xlsx .txt [, replace]"),
    Opt("append", desc="add the columns to the previous etable's"),
)
_REPEATABLE = ("cstat", "mstat")
_CSTATS = ("_r_b", "_r_se", "_r_z", "_r_p", "_r_ci")
_CSTAT_FMT = {"_r_b": "%9.3f", "_r_se": "%9.3f", "_r_z": "%9.2f", "_r_p": "%9.3f", "_r_ci": "%9.3f"}
MSTAT_LABELS = {"N": "Number of observations", "ll": "Log likelihood", "aic": "AIC", "bic": "BIC",
                "r2": "R-squared", "r2_a": "Adjusted R-squared", "F": "F statistic",
                "chi2": "Wald chi-squared", "p": "p-value", "df_m": "Model DF", "rmse": "Root MSE",
                "N_clust": "Number of clusters", "rank": "Rank"}
_COLUMNS = ("dvlabel", "depvar", "command", "title", "index", "estimates")

# the previous etable's models, per session, for `append` (kept outside the session's state:
# it is a display convenience, like Stata's collection ETable)
_LAST: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass
class Spec:
    names: list[str]
    cstats: list[tuple[str, str]]                     # (stat, %fmt)
    mstats: list[str]
    stars: list[tuple[str, float]] | None
    starsnote: bool
    column: str
    keep: list[str]
    drop: list[str]
    varlabel: bool
    title: str
    export: tuple[str, bool] | None
    append: bool
    opts: dict = field(default_factory=dict)


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        raise StataError("invalid syntax", 198) from None


def _collect(options) -> tuple[dict, dict]:
    """Options typed -> (last value by name, all values of the repeatable ones)."""
    return collect_options(options, _OPTS, _REPEATABLE)


def _cstat(text: str) -> tuple[str, str]:
    head, _, tail = text.partition(",")
    stat = head.strip()
    if stat not in _CSTATS:
        raise StataError(f"option cstat() invalid; {stat} not allowed", 198)
    fmt = _CSTAT_FMT[stat]
    m = re.search(r"nformat\(\s*(%-?\d+\.\d+[fgec]c?)\s*\)", tail)
    if tail.strip() and not m:
        raise StataError("option cstat() invalid", 198)
    if m:
        fmt = m.group(1)
    return stat, fmt


def parse_stars(text: str | None) -> list[tuple[str, float]]:
    """`.05 "*" .01 "**"` -> [("*", .05), ("**", .01)] (levels in (0,1], each with a label)."""
    if text is None:
        return [("*", 0.05), ("**", 0.01), ("***", 0.001)]
    w = _words(text)
    if not w or len(w) % 2:
        raise StataError("option stars() invalid", 198)
    out = []
    for lev, lab in zip(w[::2], w[1::2]):
        try:
            x = float(lev)
        except ValueError:
            raise StataError("option stars() invalid", 198) from None
        if not 0 < x <= 1:
            raise StataError("option stars() invalid; significance levels must be in (0,1]", 198)
        out.append((lab, x))
    return out


def _export(text: str | None) -> tuple[str, bool] | None:
    if text is None:
        return None
    path, _, rest = text.partition(",")
    words = _words(path)
    if len(words) != 1:
        raise StataError("option export() invalid", 198)
    flags = re.findall(r"\w+\s*\([^)]*\)|\S+", rest)
    kind = None
    for f in flags:
        m = re.fullmatch(r"as\s*\(\s*(\w+)\s*\)", f)
        if m and m.group(1).lower() in _AS_TYPES:
            kind = _AS_TYPES[m.group(1).lower()]
        elif f != "replace":
            raise StataError(f"option export() invalid; {f} not allowed", 198)
    ext = kind or os.path.splitext(words[0])[1].lower()
    if ext not in _WRITERS:
        raise StataError(f"file type {ext or '(none)'} not supported by export(); use .md .html .tex "
                         ".docx .xlsx or .txt", 198)
    return words[0], "replace" in flags, ext


# export(file, as(type)): the type named instead of read from the file's suffix
_AS_TYPES = {"markdown": ".md", "md": ".md", "html": ".html", "tex": ".tex", "latex": ".tex",
             "docx": ".docx", "xlsx": ".xlsx", "txt": ".txt"}


def parse_spec(session, options) -> Spec:
    given, rep = _collect(options)
    cstats = [_cstat(t) for t in rep["cstat"]] or [("_r_b", "%9.3f"), ("_r_se", "%9.3f")]
    mstats = [w for t in rep["mstat"] for w in t.split()] or ["N"]
    column = _column(given.get("column"))
    if column not in _COLUMNS:
        raise StataError(f"option column() invalid; {column} not allowed", 198)
    if "varlabel" in given and "novarlabel" in given:
        raise StataError("options varlabel and novarlabel may not be combined", 198)
    starred = "showstars" in given or "stars" in given
    names = expand_names(session, given.get("estimates") or "", default=".")
    if not names:
        raise StataError("no estimation results", 301)
    return Spec(names, cstats, mstats, parse_stars(given.get("stars")) if starred else None,
                "showstarsnote" in given or "stars" in given, column,
                _coef_list(given.get("keep")), _coef_list(given.get("drop")), "novarlabel" not in given,
                _title(given.get("title")), _export(given.get("export")), "append" in given)


def _column(text: str | None) -> str:
    """column()'s word, an unambiguous abbreviation spelled out (column(estimate) is seen in
    real do-files)."""
    word = (text or "dvlabel").strip()
    hits = [c for c in _COLUMNS if c.startswith(word)] if len(word) >= 3 else []
    return hits[0] if len(hits) == 1 else word


def _title(text: str | None) -> str:
    if text is None:
        return ""
    t = text.strip()
    return t[1:-1] if len(t) >= 2 and t[0] == t[-1] == '"' else t


def _coef_list(text: str | None) -> list[str]:
    return [w for w in _words(text or "")]


# --------------------------------------------------------------------------- the table
def var_label(session, name: str, varlabel: bool, cons: str = "Intercept") -> str:
    if name == "_cons":
        return cons if varlabel else "_cons"
    if varlabel and session.data is not None and name in getattr(session.data, "vars", {}):
        lab = session.data.vars[name].label
        if lab:
            return lab
    return name


def _selected(c_eq: str, c_name: str, label: str, keep: list[str], drop: list[str]) -> bool:
    keys = {c_name, norm_name(c_name), f"{c_eq}:{c_name}", label}
    if keep and not keys & set(keep):
        return False
    return not (drop and keys & set(drop))


def _cell(stat: str, fmt_: str, c: Coef | REParam | None, stars) -> tuple[str, str]:
    if c is None:
        return ("", "")
    from hlmshell.output.numfmt import fmt as nfmt

    def f(x):
        return "." if x is None or x != x else nfmt(float(x), fmt_).strip()
    if isinstance(c, REParam):
        if stat == "_r_b":
            return (f(c.est), "")
        if stat == "_r_se":
            return (f"({f(c.se)})", "")
        return ("", "")
    if stat == "_r_b":
        return (f(c.b), pt.stars_for(c.p, stars) if stars else "")
    if stat == "_r_se":
        return (f"({f(c.se)})", "")
    if stat == "_r_z":
        return (f(c.z), "")
    if stat == "_r_p":
        return (f(c.p), "")
    crit = dist.norm_ppf(0.975)
    return (f"[{f(c.b - crit * c.se)} {f(c.b + crit * c.se)}]", "")


def _stat_rows(key_cells, spec: Spec) -> list[pt.PaperRow]:
    """A coefficient's rows: the first cstat on the label's row, the others under it."""
    label, indent, cells = key_cells
    rows = []
    for i, (stat, f) in enumerate(spec.cstats):
        rcells = [_cell(stat, f, c, spec.stars) for c in cells]
        if i and not any(a or b for a, b in rcells):
            continue                     # e.g. _r_z of a variance: nothing to show
        rows.append(pt.PaperRow(label if i == 0 else "", rcells, "coef" if i == 0 else "aux", indent))
    return rows


def merge_order(seqs: list[list]) -> list:
    """Rows of several models in one order (as estout/etable line them up): each model's order
    kept; a coefficient new to the table goes after its predecessor in its model, or, when it
    is the model's first, before the first of its model's later coefficients already there
    (model 2's `female` lands before `_cons`, not after it)."""
    out: list = []
    for seq in seqs:
        seq = list(dict.fromkeys(seq))
        prev = None
        for i, item in enumerate(seq):
            if item not in out:
                if prev is not None:
                    out.insert(out.index(prev) + 1, item)
                else:
                    nxt = next((x for x in seq[i + 1:] if x in out), None)
                    out.insert(out.index(nxt) if nxt is not None else len(out), item)
            prev = item
    return out


def _union(seqs: list[list]) -> list:
    out: list = []
    for seq in seqs:
        for item in seq:
            if item not in out:
                out.append(item)
    return out


def _fixed_rows(session, results, spec: Spec) -> list[pt.PaperRow]:
    coefs = [{(c.eq, c.name): c for c in coefficients(r, fixed_only=True)} for r in results]
    keys = _union([list(d) for d in coefs])
    # one equation per model (its depvar): rows by coefficient name across models
    names = merge_order([[k[1] for k in d] for d in coefs])
    aux = {n for d in coefs for (e, n) in d if e == "/"}      # /cut1, /lnalpha: after Intercept
    rows, group = [], None
    for name in _row_order(names, aux):
        factor, label = _row_label(session, name, spec, aux)
        cells = [next((c for (e, n), c in d.items() if n == name), None) for d in coefs]
        eq = next((e for e, n in keys if n == name), "")
        if not _selected(eq, name, label, spec.keep, spec.drop):
            continue
        if factor and factor[0] != group:
            rows.append(pt.PaperRow(factor[0], [], "eq"))
        group = factor[0] if factor else None
        rows += _stat_rows((label, 1 if factor else 0, cells), spec)
    return rows


def _row_order(names: list[str], aux: set) -> list[str]:
    """The covariates, then the Intercept, then the family's own parameters (/cut1 ...)."""
    return [n for n in names if n != "_cons" and n not in aux] + \
        [n for n in names if n == "_cons"] + [n for n in names if n in aux]


def _row_label(session, name: str, spec: Spec, aux: set) -> tuple[tuple[str, str] | None, str]:
    """(the factor's (variable, level) labels or None, the row's label)."""
    if name in aux:
        return None, "/" + name
    factor = factor_label(session, name) if spec.varlabel else None
    return factor, factor[1] if factor else var_label(session, name, spec.varlabel)


_LEVEL = re.compile(r"^(\d+)\.([A-Za-z_]\w*)$")


def factor_label(session, name: str) -> tuple[str, str] | None:
    """`2.sized` -> (the variable's label, the level's value label): etable shows a factor's
    levels under its variable (interactions keep their names)."""
    m = _LEVEL.match(name)
    ds = session.data
    if not m or ds is None or m.group(2) not in getattr(ds, "vars", {}):
        return None
    v = ds.vars[m.group(2)]
    level = int(m.group(1))
    text = (ds.value_labels.get(v.vallab, {}) if v.vallab else {}).get(float(level))
    return (v.label or v.name, text or str(level))


def _re_rows(results, spec: Spec) -> list[pt.PaperRow]:
    params = [re_params(r) for r in results]
    levels = _union([[p.level for p in ps if p.level] for ps in params])
    rows = []
    for lev in levels + [""]:
        labels = _union([[p.label for p in ps if p.level == lev] for ps in params])
        labels = [lab for lab in labels if _selected(lev, lab, lab, spec.keep, spec.drop)]
        if not labels:
            continue
        if lev:
            rows.append(pt.PaperRow(lev, [], "eq"))
        for lab in labels:
            cells = [next((p for p in ps if p.level == lev and p.label == lab), None) for ps in params]
            rows += _stat_rows((lab, 1 if lev else 0, cells), spec)
    return rows


def _mstat_rows(results, spec: Spec) -> list[pt.PaperRow]:
    rows = []
    for s in spec.mstats:
        cells = []
        for r in results:
            v = stat_value(r, s)
            if v is None or v != v:
                cells.append(("", ""))
            elif s in ("N", "N_clust", "df_m", "rank", "N_g") and v == int(v):
                cells.append((str(int(v)), ""))
            else:
                cells.append((pt.fixed(v, 3), ""))
        rows.append(pt.PaperRow(MSTAT_LABELS.get(s, s), cells, "stat"))
    return rows


def _header(session, results, labels: list[str], spec: Spec) -> list[str]:
    out = []
    for i, (r, name) in enumerate(zip(results, labels)):
        if spec.column == "index":
            out.append(str(i + 1))
        elif spec.column == "estimates":
            out.append(name)
        elif spec.column == "command":
            out.append(r.cmd)
        elif spec.column == "title":
            out.append(r.macros.get("estimates_title") or r.macros.get("title", ""))
        elif spec.column == "depvar" or not spec.varlabel:
            out.append(r.depvar)
        else:
            out.append(var_label(session, r.depvar, True))
    return out


def _stars_note(stars: list[tuple[str, float]]) -> str:
    parts = [f"{sym} p<{_lev(lev)}" for sym, lev in sorted(stars, key=lambda t: t[1])]
    return ", ".join(parts)


def _lev(x: float) -> str:
    s = f"{x:g}"
    return s[1:] if s.startswith("0.") else s


def build(session, spec: Spec, results, labels) -> pt.PaperTable:
    rows = _fixed_rows(session, results, spec) + _re_rows(results, spec) + _mstat_rows(results, spec)
    notes = [_stars_note(spec.stars)] if spec.stars and spec.starsnote else []
    return pt.PaperTable([_header(session, results, labels, spec)], rows, spec.title, notes)


# --------------------------------------------------------------------------- export
def _md(t):
    return pt.markdown_text(t)


def _txt(t):
    return "\n".join(pt.etable_lines(t)) + "\n"


_WRITERS = {".md": _md, ".html": pt.html_text, ".htm": pt.html_text, ".tex": pt.latex_text,
            ".txt": _txt, ".docx": pt.docx_bytes, ".xlsx": pt.xlsx_bytes}


def export_table(t: pt.PaperTable, path: str, replace: bool, ext: str | None = None) -> None:
    if os.path.exists(path) and not replace:
        raise StataError(f"file {path} already exists", 602)
    ext = ext or os.path.splitext(path)[1].lower()
    data = _WRITERS[ext](t)
    if isinstance(data, bytes):
        pt.write_bytes(path, data, shown=path)
    else:
        pt.write_text(path, data, shown=path)


# --------------------------------------------------------------------------- the command
@command("etable", byable=False, qualifiers="", changes_data=False, family="Postestimation",
          body="none", options=_OPTS, check_options=False,
          desc="table of estimation results (Stata 17)",
          example="etable, estimates(m1 m2) mstat(N) mstat(aic) showstars showstarsnote")
def etable_cmd(session, cmd) -> None:
    if (cmd.body or "").strip():
        raise StataError("invalid syntax", 198)
    spec = parse_spec(session, cmd.options)
    results = [lookup(session, n) for n in spec.names]
    labels = [n if n != "." else "Active" for n in spec.names]
    if spec.append:
        prev_r, prev_l = _LAST.get(session, ([], []))
        results, labels = prev_r + results, prev_l + labels
    table = build(session, spec, results, labels)
    if spec.export is not None:
        export_table(table, *spec.export)
    for line in pt.etable_lines(table):
        session.out.line(line)
    if spec.export is not None:
        session.out.line(f"(collection ETable exported to file {spec.export[0]})")
    _LAST[session] = (results, labels)
