"""What coefplot plots: the coefficients of each model with their confidence intervals, as
coefplot collects them from e(b) and e(V).

Per model: e(b)'s names without Stata's markers (`bn.` -> `.`; omitted `o.` and base `b.`
coefficients whose value is 0 are left out unless omitted / baselevels); keep() and drop()
(`eq:coef` patterns with * and ?); by default only the first equation that has a selected
coefficient; confidence limits b -/+ q*se for every level (q the normal quantile, or t with
e(df_r) / df() degrees of freedom; citype() logit, probit, atanh, log transform them); then
eform, rescale() and rename(), in that order. The models of all plots are then laid out on
one categorical axis (coefplot_layout)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from hlmshell.commands import _postest
from hlmshell.commands import graph_common as gc
from hlmshell.errors import StataError
from hlmshell.syntax.lexer import strip_quotes
from hlmshell.syntax.numlist import numlist


@dataclass
class Rows:
    """The collected coefficients (one entry per coefficient per model)."""

    eq: list = field(default_factory=list)
    coef: list = field(default_factory=list)
    b: list = field(default_factory=list)
    se: list = field(default_factory=list)
    df: list = field(default_factory=list)
    cis: list = field(default_factory=list)      # per row: [(lo, hi) per level]
    at: list = field(default_factory=list)
    plot: list = field(default_factory=list)     # plot number (1-based, across subgraphs)
    by: list = field(default_factory=list)       # subgraph number (1-based)

    def extend(self, other: Rows) -> None:
        for k in self.__dataclass_fields__:
            getattr(self, k).extend(getattr(other, k))

    def __len__(self) -> int:
        return len(self.b)


def glob_regex(pattern: str) -> re.Pattern:
    """Stata's strmatch(): * any string, ? any one character, the rest literal."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                              for c in pattern) + r"\Z", re.DOTALL)


def namelist(text: str) -> list[tuple[str, str]]:
    """A coeflist -> (equation pattern, coefficient pattern) pairs; `eq:` carries on to the
    names after it; `eq:` alone is every coefficient of eq; no equation is ''."""
    out = []
    eq = ""
    for w in (text or "").split():
        if ":" in w:
            eq, _, coef = w.partition(":")
            out.append((eq, coef or "*"))
        else:
            out.append((eq, w))
    return out


def matches(pairs, eqs, coefs) -> np.ndarray:
    """Rows matched by any of the (eq, coef) patterns ('' equation: any)."""
    hit = np.zeros(len(coefs), dtype=bool)
    for e, c in pairs:
        er, cr = glob_regex(e or "*"), glob_regex(c)
        hit |= np.array([bool(er.match(a)) and bool(cr.match(b)) for a, b in zip(eqs, coefs)],
                        dtype=bool)
    return hit


def levels(session, opts: dict) -> list[float]:
    if "noci" in opts:
        return []
    text = opts.get("levels")
    if text is None or not text.strip():
        return [float(session.settings.get("level", 95.0))]
    try:
        vals = [float(v) for v in numlist(text)]
    except StataError:
        raise StataError("invalid numlist", 121) from None
    for v in vals:
        if not 10 <= v <= 99.99:
            raise StataError("level() must be between 10 and 99.99 inclusive", 198)
    return vals


def _clean_names(names: list[str], b: np.ndarray, opts: dict) -> tuple[list[str], np.ndarray]:
    """Stata's markers off the names; the selection of omitted and base coefficients."""
    keep = np.ones(len(names), dtype=bool)
    out = []
    for i, n in enumerate(names):
        n = n.replace("bno.", "o.").replace("bn.", ".")
        if "omitted" not in opts and "o." in n and b[i] == 0:
            keep[i] = False
        n = n.removeprefix("o.")
        n = n.replace("o.", ".")
        if "baselevels" not in opts and "b." in n and b[i] == 0:
            keep[i] = False
        out.append(n.replace("b.", "."))
    return out, keep


def _quantiles(lv: float, df: np.ndarray) -> np.ndarray:
    from scipy.stats import norm
    from scipy.stats import t as tdist
    level = 1 - (1 - lv / 100) / 2
    q = np.full(len(df), float(norm.ppf(level)))
    fin = np.isfinite(df) & (df < 2e17)
    if fin.any():
        q[fin] = tdist.ppf(level, df[fin])
    return q


CITYPES = ("normal", "logit", "probit", "atanh", "log")


def intervals(b, se, df, lv: float, citype: str):
    """(lower, upper) of one level: b -/+ q*se, or the transformed limits of citype()."""
    from scipy.stats import norm
    q = _quantiles(lv, df) * se
    with np.errstate(all="ignore"):
        if citype == "logit":
            h = q / (b * (1 - b))
            lg = np.log(b / (1 - b))
            return 1 / (1 + np.exp(-(lg - h))), 1 / (1 + np.exp(-(lg + h)))
        if citype == "probit":
            z = norm.ppf(b)
            h = q / norm.pdf(z)
            return norm.cdf(z - h), norm.cdf(z + h)
        if citype == "atanh":
            h = q / (1 - b * b)
            return np.tanh(np.arctanh(b) - h), np.tanh(np.arctanh(b) + h)
        if citype == "log":
            h = q / b
            return np.exp(np.log(b) - h), np.exp(np.log(b) + h)
    return b - q, b + q


def _citype(opts: dict) -> str:
    word = (opts.get("citype") or "normal").strip().lower()
    if word not in CITYPES:
        raise StataError(f"citype({word}) not allowed", 198)
    return word


def _df(res, opts: dict, k: int) -> np.ndarray:
    if res is None and opts.get("df") in (None, ""):
        return np.full(k, np.nan)
    if opts.get("df") not in (None, ""):
        try:
            v = float(opts["df"])
        except ValueError:
            raise StataError("option df() incorrectly specified", 198) from None
        return np.full(k, v if v > 0 else np.nan)
    v = res.scalars.get("df_r")
    return np.full(k, float(v) if v is not None and np.isfinite(v) else np.nan)


def _source(session, name: str, opts: dict):
    """(Source, e() results or None, b, (eq, name) pairs, se, df, label) of one model."""
    from hlmshell.commands import coefplot_matrix as cm
    if name.startswith("matrix("):
        src = cm.Source(session, None, name[len("matrix("):-1])
        b_all, pairs = src.estimates()
        se_all = np.full(len(b_all), np.nan)
        res, label, plain = None, src.main_name, False
    else:
        res = _postest.lookup(session, name)
        src = cm.Source(session, res)
        b_all, pairs, label = np.asarray(res.b, dtype=float).ravel(), list(res.names), name
        se_all = np.sqrt(np.clip(np.diag(np.asarray(res.V, dtype=float)), 0, None)) \
            if res.V is not None and np.size(res.V) else np.full(len(b_all), np.nan)
        from hlmshell.syntax.matrix_expr import NO_EQUATION  # e(b) without equation names
        plain = res.macros.get("cmd", res.cmd) in NO_EQUATION
    k = len(b_all)
    if opts.get("se"):
        se_all = src.vector(opts["se"], k)
    elif opts.get("v"):
        se_all = np.sqrt(np.clip(src.variances(opts["v"], k), 0, None))
    eqs = [("_" if plain or not e else e) for e, _n in pairs]
    df = _df(res, opts, k)
    return src, res, b_all, eqs, [n for _e, n in pairs], se_all, df, label


def _intervals(session, src, opts, b, se, df, idx) -> list:
    """The confidence limits of the selected rows: ci() as given, else every level."""
    citype = _citype(opts)
    if opts.get("ci"):
        out = []
        for item in src.intervals(opts["ci"], len(se)):
            if isinstance(item, float):
                if not 10 <= item <= 99.99:
                    raise StataError("level() must be between 10 and 99.99 inclusive", 198)
                out.append(intervals(b, se[idx], df[idx], item, citype))
            else:
                out.append((item[0][idx], item[1][idx]))
        return out
    return [intervals(b, se[idx], df[idx], lv, citype) for lv in levels(session, opts)]


def collect(session, name: str, opts: dict, plot: int, by: int) -> tuple[Rows, str]:
    """One model's rows and its plot label (the model name, or `name=eq` when one equation
    of a multi-equation model was selected; the matrix's name in matrix mode)."""
    src, res, b_all, eqs, raw, se_all, df_all, label = _source(session, name, opts)
    coefs, keep = _clean_names(raw, b_all, opts)
    multi = len(set(eqs)) > 1
    keep, first_only = _select(opts, eqs, coefs, keep)
    if res is None:
        at_pos = src.vector(opts["at"] or "at", len(b_all)) if "at" in opts \
            else np.full(len(b_all), np.nan)           # at: matrix at; at(#): a row of main
    else:
        at_pos = _at_positions(res, opts, coefs)
    idx = np.flatnonzero(keep)
    rows = Rows()
    if not len(idx):
        return rows, label
    b = b_all[idx]
    cis = _intervals(session, src, opts, b, se_all, df_all, idx)
    sel_eqs = [eqs[i] for i in idx]
    sel_coefs = [coefs[i] for i in idx]
    b, cis = _eform_rescale(opts, sel_eqs, sel_coefs, b, cis)
    sel_coefs = rename(opts.get("rename"), sel_eqs, sel_coefs)
    sel_eqs = _equation(opts, label, sel_eqs)
    if "swapnames" in opts:
        sel_eqs, sel_coefs = sel_coefs, sel_eqs
    rows.eq, rows.coef, rows.b = sel_eqs, sel_coefs, list(b)
    rows.se, rows.df = list(se_all[idx]), list(df_all[idx])
    rows.cis = [[(float(lo[i]), float(hi[i])) for lo, hi in cis] for i in range(len(idx))]
    for j, (lo, hi) in enumerate(cis, 1):         # coefplot's notes on what it cannot draw
        gone = np.isnan(lo) | np.isnan(hi)
        if gone.any():
            session.out.line(f"({label}: could not determine CI{j})" if gone.all()
                             else f"({label}: CI{j} missing for some coefficients)")
    rows.at = [float(at_pos[i]) for i in idx]
    rows.plot, rows.by = [plot] * len(idx), [by] * len(idx)
    if not first_only and multi and len(set(sel_eqs)) == 1:
        label = sel_eqs[0] if name == "." else f"{name}={sel_eqs[0]}"
    return rows, label


def _select(opts: dict, eqs: list, coefs: list, keep: np.ndarray):
    """keep() and drop(); then, unless they name an equation, only the first equation with a
    selected coefficient. Returns (selection, first equation only?)."""
    first_only = True
    for key, drop in (("keep", False), ("drop", True)):
        if opts.get(key) is None:
            continue
        pairs = namelist(opts[key])
        if any(e for e, _c in pairs):
            first_only = False
        hit = matches(pairs, eqs, coefs)
        keep = keep & (~hit if drop else hit)
    if first_only and keep.any():
        keep = keep & np.array([e == eqs[int(np.argmax(keep))] for e in eqs])
    return keep, first_only


def _equation(opts: dict, name: str, eqs: list[str]) -> list[str]:
    if "asequation" not in opts:
        return eqs
    text = gc.text_arg(opts["asequation"]) if opts["asequation"] else name
    return [text] * len(eqs)


def _eform_rescale(opts, eqs, coefs, b, cis):
    b = np.array(b, dtype=float)
    cis = [(np.array(lo, float), np.array(hi, float)) for lo, hi in cis]
    if "eform" in opts:
        sel = matches(namelist(opts["eform"]), eqs, coefs) if opts["eform"].strip() \
            else np.ones(len(b), dtype=bool)
        b[sel] = np.exp(b[sel])
        for lo, hi in cis:
            lo[sel], hi[sel] = np.exp(lo[sel]), np.exp(hi[sel])
    if opts.get("rescale"):
        factor = _rescale_factors(opts["rescale"], eqs, coefs)
        b = b * factor
        cis = [(lo * factor, hi * factor) for lo, hi in cis]
        cis = [(np.minimum(lo, hi), np.maximum(lo, hi)) for lo, hi in cis]
    return b, cis


def _rescale_factors(text: str, eqs, coefs) -> np.ndarray:
    text = text.strip()
    if "=" not in text:
        return np.full(len(coefs), gc.number(text, "rescale"))
    factor = np.ones(len(coefs))
    done = np.zeros(len(coefs), dtype=bool)
    for names, value in assignments(text, "rescale"):
        hit = matches(namelist(names), eqs, coefs) & ~done
        factor[hit] = gc.number(value, "rescale")
        done |= hit
    return factor


_ASSIGN = re.compile(r'\s*(?P<names>[^=]+?)\s*=\s*(?P<value>"[^"]*"|`"[^\']*"\'|\S+)')


def assignments(text: str, what: str) -> list[tuple[str, str]]:
    """`names = value [names = value ...]` pairs (values may be quoted)."""
    out = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _ASSIGN.match(text, pos)
        if m is None:
            raise StataError(f"invalid {what}()", 198)
        out.append((m.group("names"), m.group("value")))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def rename(spec: str | None, eqs: list[str], coefs: list[str]) -> list[str]:
    """rename(coef = new ... [, regex]): whole names, prefix* or *suffix (equation patterns
    allowed); with regex, Python's re.sub on the coefficient name."""
    if not spec or not spec.strip():
        return coefs
    head, _, tail = spec.partition(",")
    regex = tail.strip().lower() in ("r", "re", "reg", "rege", "regex")
    if tail.strip() and not regex:
        raise StataError("invalid rename()", 198)
    out = list(coefs)
    done = [False] * len(coefs)
    for names, new in assignments(head, "rename"):
        new = strip_quotes(new)
        for e, c in namelist(names):
            er = glob_regex(e or "*")
            for i, (eq, co) in enumerate(zip(eqs, coefs)):
                if done[i] or not er.match(eq):
                    continue
                got = _rename_one(c, new, co, regex)
                if got is not None:
                    out[i], done[i] = got, True
    return out


def _rename_one(pattern: str, new: str, name: str, regex: bool) -> str | None:
    if regex:
        try:
            rx = re.compile(pattern)
        except re.error:
            raise StataError("invalid regular expression in rename()", 198) from None
        if not rx.search(name):
            return None
        return rx.sub(re.sub(r"\\(\d)", r"\\g<\1>", new), name, count=1)
    if pattern.endswith("*") and not pattern.startswith("*"):
        pre = pattern[:-1]
        return new + name[len(pre):] if name.startswith(pre) else None
    if pattern.startswith("*") and not pattern.endswith("*"):
        suf = pattern[1:]
        return name[:-len(suf)] + new if suf and name.endswith(suf) else None
    return new if name == pattern else None


def _at_positions(res, opts: dict, coefs: list[str]) -> np.ndarray:
    """at: plot positions from e(at) after `margins, post` (the #th at() variable that was
    given values), or from matrix at; NaN when not asked."""
    k = len(coefs)
    if "at" not in opts:
        return np.full(k, np.nan)
    spec = (opts["at"] or "").strip()
    which = int(gc.number(spec, "at")) if spec else 1
    if which < 1:
        raise StataError("option at() incorrectly specified", 198)
    mat = res.matrices.get("at")
    if mat is None:
        raise StataError("matrix e(at) not found", 111)
    at0 = np.atleast_2d(np.asarray(getattr(mat, "values", mat), dtype=float))
    out = np.full(k, np.nan)
    if res.cmd != "margins":
        if at0.shape[1] == k:
            return at0[0].copy()
        raise StataError("e(at) does not conform to e(b)", 503)
    for i in range(at0.shape[0]):
        stats = (res.macros.get(f"atstats{i + 1}") or "").split()
        cols = [j for j, s in enumerate(stats) if s in ("value", "values")]
        if which > len(cols):
            continue
        pat = re.compile(rf"{i + 1}(bn)?\._at(#|\Z)")
        for c, name in enumerate(coefs):
            if pat.match(name):
                out[c] = at0[i, cols[which - 1]]
    return out
