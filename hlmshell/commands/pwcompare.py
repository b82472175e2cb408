"""pwcompare: pairwise comparisons of the marginal linear predictions of factor terms
(Stata 17's `pwcompare`), after regress, mixed and the models whose fixed part is a linear
prediction.

    pwcompare termlist [, effects cieffects pveffects cimargins groups mcompare(method)
                          level(#) post]

The margins are the balanced cell means of the fixed part ("Margins: asbalanced",
hlmshell.engine.contrasts); every pair of cells of a term is compared, later minus earlier in
Stata's cell order (`Catholic vs Public`, `(1 1) vs (0 0)`). mcompare(bonferroni | sidak |
scheffe | tukey) adjusts p-values and intervals within each term (the Number of comparisons
table says how many); groups shows which margins do not differ (letters), cimargins the
margins themselves. Stored: r(b), r(V), r(table) the margins; r(b_vs), r(V_vs), r(table_vs)
the comparisons; r(L) the comparisons as combinations of e(b); e() with `post`.
"""
from __future__ import annotations

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
    Opt("cieffects", "cieff", desc="show effects table with confidence intervals; the default"),
    Opt("pveffects", "pveff", desc="show effects table with p-values"),
    Opt("cimargins", "cimar", desc="show table of margins and confidence intervals"),
    Opt("groups", "group", desc="show table of margins and group codes"),
    Opt("mcompare", "mcomp", "string", None,
        "adjust for multiple comparisons: noadjust, bonferroni, sidak, scheffe or tukey"),
    Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
    Opt("post", desc="post margins and their VCEs as estimation results"),
    Opt("small", desc="t tests on the small-sample DF of mixed's dfmethod()"),
)
TITLE = "Pairwise comparisons of marginal linear predictions"


class TermPairs:
    """One term's cells (margins G b) and pairs (rows of P over the cells)."""

    def __init__(self, term, cells, G, pairs, cell_labels, pair_labels, names, margin_names):
        self.term, self.cells, self.G, self.pairs = term, cells, G, pairs
        self.cell_labels, self.pair_labels = cell_labels, pair_labels
        self.names, self.margin_names = names, margin_names


def term_pairs(session, st: tm.Setup, t: tm.Term) -> TermPairs:
    cells, G = st.grid(t.variables, t.slope)
    multi = len(t.variables) > 1
    tail = f"#c.{t.slope}" if t.slope else ""
    labs = [" ".join(tm.value_label(session, v, lv) for v, lv in zip(t.variables, c)) for c in cells]
    pairs, plabs, names = [], [], []
    for i in range(len(cells)):
        for j in range(i + 1, len(cells)):
            pairs.append((i, j))
            plabs.append(f"({labs[j]}) vs ({labs[i]})" if multi else f"{labs[j]} vs {labs[i]}")
            names.append("#".join(f"{b}vs{a}.{v}" for v, a, b in zip(t.variables, cells[i], cells[j]))
                         + tail)
    mnames = ["#".join(f"{lv}.{v}" for v, lv in zip(t.variables, c)) + tail for c in cells]
    return TermPairs(t, cells, G, pairs, labs, plabs, names, mnames)


def _mode(opts) -> str:
    shown = [o for o in ("cimargins", "groups") if o in opts]
    if len(shown) > 1:
        raise StataError("options cimargins and groups may not be combined", 198)
    if shown:
        return shown[0]
    if "effects" in opts or ("cieffects" in opts and "pveffects" in opts):
        return "effects"
    return "pveffects" if "pveffects" in opts else "cieffects"


@command("pwcompare", abbrev="pwcompare", family="Postestimation", body="anything",
         check_options=False, byable=False, changes_data=False,
         desc="pairwise comparisons of estimates",
         example="pwcompare sector, mcompare(bonferroni) effects", options=OPTIONS)
def pwcompare_cmd(session, cmd) -> None:
    opts = bind_options(OPTIONS, cmd.options, strict=True)
    res, st = tm.setup(session, "pwcompare")
    method = tm.mcompare(opts)
    level = confidence_level(session, opts)
    mode = _mode(opts)
    terms = tm.parse_terms(session, st, cmd.body or "", operators=False)
    if any(t.within for t in terms):
        raise StataError("the @ operator is not allowed with pwcompare", 198)
    tps = [term_pairs(session, st, t) for t in terms]
    G = np.vstack([tp.G for tp in tps])
    m = G @ st.b
    Vm = me.delta_vcov(G, st.V)
    Lvs = np.vstack([np.array([tp.G[j] - tp.G[i] for i, j in tp.pairs]).reshape(-1, len(st.b))
                     for tp in tps])
    bvs = Lvs @ st.b
    Vvs = me.delta_vcov(Lvs, st.V)
    small = cs.check(res, opts)
    if small is not None:
        T = cs.table(m, *small.rows(G), level)
        Tvs = cs.table(bvs, *small.rows(Lvs), level)
        _adjust_small(tps, T, Tvs, method, level)
    else:
        T = r_table(m, np.sqrt(np.clip(np.diag(Vm), 0, None)), st.df_r, level)
        Tvs = r_table(bvs, np.sqrt(np.clip(np.diag(Vvs), 0, None)), st.df_r, level)
        _adjust(tps, T, Tvs, method, level, st.df_r)
    out = session.out
    for line in ["", TITLE, "", "Margins: asbalanced"]:
        out.line(line)
    if method != "noadjust":
        for line in cl.count_lines([(tp.term.text, len(tp.pairs)) for tp in tps]):
            out.line(line)
    stat = "t" if st.df_r is not None or small is not None else "z"
    for line in _table(tps, T, Tvs, mode, stat, level, method):
        out.line(line)
    if mode == "groups":
        out.line(f"Note: Margins sharing a letter in the group label are not significantly "
                 f"different at the {100 - level:g}% level.")
    _store(session, res, cmd, st, tps, (m, Vm, T), (bvs, Vvs, Tvs, Lvs), level, method,
           post=opts.post, t_stat=stat == "t")


def _adjust(tps, T, Tvs, method, level, df_r) -> None:
    """Adjusted p-values and intervals of each term's comparisons (and, for cimargins, of
    its margins, with the same critical value)."""
    if method == "noadjust":
        return
    s, c = 0, 0
    for tp in tps:
        idx = list(range(s, s + len(tp.pairs)))
        cidx = list(range(c, c + len(tp.cells)))
        s, c = s + len(idx), c + len(cidx)
        if not idx:
            continue
        p, crit = ce.adjusted(method, Tvs[2, idx], len(idx), len(tp.cells) - 1, level, df_r,
                              ncells=len(tp.cells))
        Tvs[3, idx] = p
        for M, ii in ((Tvs, idx), (T, cidx)):
            M[4, ii] = M[0, ii] - crit * M[1, ii]
            M[5, ii] = M[0, ii] + crit * M[1, ii]
            M[7, ii] = crit


def _adjust_small(tps, T, Tvs, method, level) -> None:
    """_adjust with each comparison (and margin) on its own small-sample DF."""
    if method == "noadjust":
        return
    s, c = 0, 0
    for tp in tps:
        idx = list(range(s, s + len(tp.pairs)))
        cidx = list(range(c, c + len(tp.cells)))
        s, c = s + len(idx), c + len(cidx)
        if idx:
            for M, ii in ((Tvs, idx), (T, cidx)):
                cs.adjust(M, ii, method, len(idx), len(tp.cells) - 1, level, ncells=len(tp.cells))


def _table(tps, T, Tvs, mode, stat, level, method) -> list[str]:
    top = tm.MC_TITLE[method]
    if mode in ("cimargins", "groups"):
        entries, c = [], 0
        for tp in tps:
            letters = groups(tp, Tvs, sum(len(x.pairs) for x in tps[:tps.index(tp)]), level) \
                if mode == "groups" else None
            for k, lab in enumerate(tp.cell_labels):
                e = (tp.term.text, lab, *T[[0, 1, 2, 3, 4, 5], c])
                entries.append(e + ((letters[k],) if letters else ()))
                c += 1
        return cl.effects_lines(entries, mode="cieffects", stat=stat, level=level, top=top,
                                first="Margin", groups_col=mode == "groups")
    entries, j = [], 0
    for tp in tps:
        for lab in tp.pair_labels:
            entries.append((tp.term.text, lab, *Tvs[[0, 1, 2, 3, 4, 5], j]))
            j += 1
    return cl.effects_lines(entries, mode=mode, stat=stat, level=level, top=top)


def groups(tp: TermPairs, Tvs, start: int, level: float) -> list[str]:
    """Letters: margins that share a letter do not differ significantly (the adjusted p of
    their comparison is at least 1 - level/100). Insert-and-absorb: every significant pair
    splits the sets holding both; sets inside others are dropped; letters go to the sets in
    the order of their smallest margin."""
    n = len(tp.cells)
    alpha = 1 - level / 100
    sets = [set(range(n))]
    for k, (i, j) in enumerate(tp.pairs):
        p = Tvs[3, start + k]
        if not (p < alpha):
            continue
        new = []
        for s in sets:
            if i in s and j in s:
                new += [s - {i}, s - {j}]
            else:
                new.append(s)
        sets = [s for a, s in enumerate(new)
                if s and not any((s < o) or (s == o and b < a) for b, o in enumerate(new))]
    margins = Tvs  # placeholder for ordering below
    del margins
    order = sorted(range(len(sets)), key=lambda a: min(sets[a]))
    letters = [chr(ord("A") + r) for r in range(len(sets))]
    out = []
    for c in range(n):
        out.append("".join(letters[r] if c in sets[a] else " " for r, a in enumerate(order)).rstrip())
    return out


def _store(session, res, cmd, st, tps, marg, comp, level, method, *, post, t_stat) -> None:
    m, Vm, T = marg
    bvs, Vvs, Tvs, Lvs = comp
    mn = [n for tp in tps for n in tp.margin_names]
    vn = [n for tp in tps for n in tp.names]
    stat = "t" if t_stat else "z"
    rows = ["b", "se", stat, "pvalue", "ll", "ul", "df", "crit", "eform"]
    mats = {"b": NamedMatrix(m[None, :], ["r1"], mn), "V": NamedMatrix(Vm, mn, mn),
            "table": NamedMatrix(T, rows, mn),
            "b_vs": NamedMatrix(bvs[None, :], ["r1"], vn), "V_vs": NamedMatrix(Vvs, vn, vn),
            "table_vs": NamedMatrix(Tvs, rows, vn), "L": NamedMatrix(Lvs, vn, st.names)}
    sc = {"level": float(level), "k_terms": float(len(tps)), "N": float(st.N)}
    if st.df_r is not None:
        sc["df_r"] = float(st.df_r)
    mac = {"cmd": "pwcompare", "cmdline": (cmd.text or "").strip() or "pwcompare",
           "est_cmd": res.cmd, "est_cmdline": res.macros.get("cmdline", ""), "title": TITLE,
           "margin_method": "asbalanced", "mcmethod_vs": method, "mctitle_vs": tm.MC_TITLE[method],
           "groups": " ".join(tp.term.text for tp in tps)}
    rr = RResults()
    rr.scalars, rr.macros, rr.matrices = sc, mac, mats
    if post:
        e = EstimationResults(cmd="pwcompare", names=[("", n) for n in mn], b=m.copy(), V=Vm.copy(),
                              omitted=np.zeros(len(mn), dtype=bool), k_f=len(mn), scalars=dict(sc),
                              macros={**mac, "properties": "b V"},
                              matrices={k: v for k, v in mats.items() if k not in ("b", "V")},
                              sample=None)
        session.post_estimation(e)
    session.r = rr
