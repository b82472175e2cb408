"""contrast: contrasts and ANOVA-style joint tests of factor effects on the marginal linear
predictions (Stata 17's `contrast`), after regress, mixed and the models whose fixed part is
a linear prediction.

    contrast termlist [, effects cieffects pveffects noeffects nowald mcompare(method)
                         level(#) post]

The margins are the balanced cell means of the fixed part ("Margins: asbalanced", continuous
covariates at their means; hlmshell.engine.contrasts); a term is
    sector            the joint test that its margins are equal (Wald table only)
    r.sector          reference contrasts, rb#. choosing the base; a. ar. g. h. j. p. q.
    sector#female     the interaction test; r.sector#r.female its interaction contrasts
    sector@female     the simple effects of sector within each level of female (and Joint)
Wald tests are chi2 (F with e(df_r) and a Denominator line after regress); the effects table
(shown when a term is operated or an effects option is given) lists each contrast. Stored:
r(b), r(V), r(table), r(L) (the contrasts as combinations of e(b)), r(df), r(chi2) or r(F),
r(p) per Wald row, r(level), r(df_r) after regress; e() with `post`.
"""
from __future__ import annotations

import itertools

import numpy as np

from hlmshell.commands import contrast_small as cs
from hlmshell.commands import contrast_terms as tm
from hlmshell.commands._postest import confidence_level
from hlmshell.commands.margins_build import r_table
from hlmshell.commands.program import NamedMatrix
from hlmshell.engine import contrasts as ce
from hlmshell.engine import margins as me
from hlmshell.errors import StataError
from hlmshell.output import contrast_layout as cl
from hlmshell.registry import Opt, bind_options, command
from hlmshell.results import EstimationResults, RResults

OPTIONS = (
    Opt("effects", "eff", desc="show effects table with confidence intervals and p-values"),
    Opt("cieffects", "cieff", desc="show effects table with confidence intervals"),
    Opt("pveffects", "pveff", desc="show effects table with p-values"),
    Opt("noeffects", "noeff", desc="suppress table of individual contrasts"),
    Opt("nowald", "nowald", desc="suppress table of Wald tests"),
    Opt("mcompare", "mcomp", "string", None,
        "adjust for multiple comparisons: noadjust, bonferroni, sidak or scheffe"),
    Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
    Opt("post", desc="post contrasts and their VCEs as estimation results"),
    Opt("small", desc="t and F tests on the small-sample DF of mixed's dfmethod()"),
)
TITLE = "Contrasts of marginal linear predictions"


class TermResult:
    """One term's contrasts: L (rows over e(b)'s fixed part), their names and labels, and
    the Wald rows [(label, L rows)] under `header` (None: one row named by the term)."""

    def __init__(self, term: tm.Term, L, names, labels, header, wald_rows):
        self.term, self.L, self.names, self.labels = term, L, names, labels
        self.header, self.wald_rows = header, wald_rows


def term_contrasts(session, st: tm.Setup, t: tm.Term) -> TermResult:
    _cells, G = st.grid(t.variables + t.within, t.slope)
    K = np.ones((1, 1))
    tag_lists = []
    for v, op, ref in zip(t.variables, t.ops, t.refs):
        C, tags = ce.operator_rows(op, st.levels[v], ref)
        K = np.kron(K, C)
        tag_lists.append([(v, op, tag) for tag in tags])
    wcells = tm.ce.cells_of(t.within, st.levels) if t.within else [()]
    K = np.kron(K, np.eye(len(wcells)))
    names, labels, wlab = [], [], []
    for combo in itertools.product(*tag_lists):
        head = "#".join(f"{ce.tag_name(op, tag)}.{v}" for v, op, tag in combo)
        lab = " ".join(tm.tag_label(session, v, tag) for v, _op, tag in combo)
        for wc in wcells:
            wl = " ".join(tm.value_label(session, w, lv) for w, lv in zip(t.within, wc))
            names.append(head + ("@" + "#".join(f"{lv}.{w}" for w, lv in zip(t.within, wc))
                                 if t.within else "") + (f"#c.{t.slope}" if t.slope else ""))
            labels.append(f"{lab} {wl}" if wl else lab)
            wlab.append(wl)
    L = K @ G
    n = L.shape[0]
    if not t.within and not t.operated:
        return TermResult(t, L, names, labels, None, [(t.text, list(range(n)))])
    if t.within and not t.operated:
        rows = [(" ".join(tm.value_label(session, w, lv) for w, lv in zip(t.within, wc)),
                 [i for i in range(n) if i % len(wcells) == k]) for k, wc in enumerate(wcells)]
    else:
        rows = [(labels[i], [i]) for i in range(n)]
    if len(rows) > 1:
        rows.append(("Joint", list(range(n))))
    return TermResult(t, L, names, labels, t.text, rows)


def _effects_mode(opts, terms) -> str | None:
    if "noeffects" in opts:
        given = [o for o in ("effects", "cieffects", "pveffects") if o in opts]
        if given:
            raise StataError(f"options noeffects and {given[0]} may not be combined", 198)
        return None
    if "effects" in opts or ("cieffects" in opts and "pveffects" in opts):
        return "effects"
    if "pveffects" in opts:
        return "pveffects"
    if "cieffects" in opts or any(t.operated for t in terms):
        return "cieffects"
    return None


@command("contrast", abbrev="contrast", family="Postestimation", body="anything",
         check_options=False, byable=False, changes_data=False,
         desc="contrasts and ANOVA-style joint tests of estimates",
         example="contrast r.sector, effects", options=OPTIONS)
def contrast_cmd(session, cmd) -> None:
    opts = bind_options(OPTIONS, cmd.options, strict=True)
    res, st = tm.setup(session, "contrast")
    method = tm.mcompare(opts)
    if method == "tukey":
        raise StataError("mcompare(tukey) is not allowed with contrast", 198)
    level = confidence_level(session, opts)
    terms = tm.parse_terms(session, st, cmd.body or "")
    results = [term_contrasts(session, st, t) for t in terms]
    mode = _effects_mode(opts, terms)
    small = cs.check(res, opts)
    L = np.vstack([r.L for r in results])
    b = L @ st.b
    V = me.delta_vcov(L, st.V)
    if small is not None:
        se, df = small.rows(L)
        T = cs.table(b, se, df, level)
        groups, wald = _wald(results, b, V, st.df_r, small)
    else:
        T = r_table(b, np.sqrt(np.clip(np.diag(V), 0, None)), st.df_r, level)
        groups, wald = _wald(results, b, V, st.df_r)
    _adjust(T, results, wald, method, level, st.df_r, small is not None)
    out = session.out
    for line in ["", TITLE, "", "Margins: asbalanced"]:
        out.line(line)
    F = st.df_r is not None or small is not None
    if not opts.nowald:
        for line in cl.wald_lines(groups, F=F, df_r=st.df_r, ddf=small is not None):
            out.line(line)
    if mode and method != "noadjust":
        for line in cl.count_lines([(r.term.text, len(r.names)) for r in results]):
            out.line(line)
    if mode:
        for line in cl.effects_lines(_entries(results, T), mode=mode, stat="t" if F else "z",
                                     level=level,
                                     top=None if method == "noadjust" else tm.MC_TITLE[method]):
            out.line(line)
    _store(session, res, cmd, st, results, (b, V, T, wald), level, method, post=opts.post,
           small=small is not None)


def _wald(results, b, V, df_r, small=None):
    """The Wald rows: (label, df, chi2 or F, p) -- with `small`, (label, df, F, p, ddf) on
    the small-sample DF."""
    groups, wald = [], []
    for r in results:
        rows = []
        base = sum(len(x.names) for x in results[:results.index(r)])
        for lab, idx in r.wald_rows:
            if small is not None:
                df, stat, ddf, p = small.joint(r.L[idx])
                row = (lab, df, stat, p, ddf)
            else:
                pos = [base + i for i in idx]
                row = (lab, *ce.wald(b[pos], V[np.ix_(pos, pos)], df_r))
            rows.append(row)
            wald.append((r.term.text if lab in ("Joint", r.term.text) else lab, *row[1:]))
        groups.append((r.header, rows))
    return groups, wald


def _adjust(T, results, wald, method, level, df_r, small=False) -> None:
    """mcompare(): p-values and intervals adjusted within each term (r(table) holds them)."""
    if method == "noadjust":
        return
    start = 0
    for r in results:
        idx = list(range(start, start + len(r.names)))
        start += len(r.names)
        rank = int(np.linalg.matrix_rank(r.L)) if r.L.size else 1
        if small:
            cs.adjust(T, idx, method, len(idx), rank, level)
            continue
        p, crit = ce.adjusted(method, T[2, idx], len(idx), rank, level, df_r)
        T[3, idx] = p
        T[4, idx] = T[0, idx] - crit * T[1, idx]
        T[5, idx] = T[0, idx] + crit * T[1, idx]
        T[7, idx] = crit


def _entries(results, T):
    out, j = [], 0
    for r in results:
        for lab in r.labels:
            out.append((r.term.text, lab, T[0, j], T[1, j], T[2, j], T[3, j], T[4, j], T[5, j]))
            j += 1
    return out


def _store(session, res, cmd, st, results, est, level, method, *, post, small=False) -> None:
    b, V, T, wald = est
    names = [n for r in results for n in r.names]
    L = np.vstack([r.L for r in results])
    rr = RResults()
    F = st.df_r is not None or small
    stat = "t" if F else "z"
    mats = {"b": NamedMatrix(b[None, :], ["r1"], names),
            "V": NamedMatrix(V, names, names),
            "table": NamedMatrix(T, ["b", "se", stat, "pvalue", "ll", "ul", "df", "crit", "eform"], names),
            "L": NamedMatrix(L, names, st.names)}
    wn = [w[0] for w in wald]
    key = "F" if F else "chi2"
    mats["df"] = NamedMatrix(np.array([[w[1] for w in wald]], dtype=float), ["r1"], wn)
    if small:
        mats["df2"] = NamedMatrix(np.array([[w[4] for w in wald]], dtype=float), ["r1"], wn)
    mats[key] = NamedMatrix(np.array([[w[2] for w in wald]], dtype=float), ["r1"], wn)
    mats["p"] = NamedMatrix(np.array([[w[3] for w in wald]], dtype=float), ["r1"], wn)
    sc = {"level": float(level), "k_terms": float(len(results)), "N": float(st.N)}
    if st.df_r is not None:
        sc["df_r"] = float(st.df_r)
    mac = {"cmd": "contrast", "cmdline": (cmd.text or "").strip() or "contrast",
           "est_cmd": res.cmd, "est_cmdline": res.macros.get("cmdline", ""),
           "title": TITLE, "margin_method": "asbalanced", "mcmethod": method,
           "mctitle": tm.MC_TITLE[method], "terms": " ".join(r.term.text for r in results)}
    rr.scalars, rr.macros, rr.matrices = sc, mac, mats
    if post:
        e = EstimationResults(cmd="contrast", names=[("", n) for n in names], b=b.copy(),
                              V=V.copy(), omitted=np.zeros(len(names), dtype=bool), k_f=len(names),
                              scalars=dict(sc), macros={**mac, "properties": "b V"},
                              matrices={k: v for k, v in mats.items() if k not in ("b", "V")},
                              sample=None)
        session.post_estimation(e)
    session.r = rr
