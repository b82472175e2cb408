"""Rank tests and rank correlations: ranksum, signrank, kwallis, spearman, ktau.

    ranksum var [if] [in], by(groupvar) [porder]
    signrank var = exp [if] [in]
    kwallis var [if] [in], by(groupvar)
    spearman [varlist] [if] [in] [, stats(rho obs p)]
    ktau var1 var2 [if] [in]

The nonparametric checks course handouts run before or beside a multilevel model. Statistics
as Stata's manual defines them: midranks for ties, the tie and zero adjustments of the variance,
normal approximations (no exact p-values), Kendall's score with its tie-corrected SE and a
continuity-corrected z. All r-class.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._toolkit import touse, typed_args, value_text, varlist
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_count, fmt_g
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, command
from hlmshell.results import RResults
from hlmshell.syntax.evaluate import evaluate


def midranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with tied values sharing their average rank."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    r = np.empty(len(x))
    _, start, counts = np.unique(xs, return_index=True, return_counts=True)
    avg = start + (counts + 1) / 2.0
    r[order] = np.repeat(avg, counts)
    return r


def _tie_counts(x: np.ndarray) -> np.ndarray:
    return np.unique(x, return_counts=True)[1].astype(float)


def _numeric(session, names: list[str]) -> None:
    if any(session.data.var(nm).is_string for nm in names):
        raise StataError("type mismatch", 109)


def _one_var(session, cmd) -> str:
    names = varlist(session, cmd.body or "", all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    if len(names) > 1:
        raise StataError("too many variables specified", 103)
    _numeric(session, names)
    return names[0]


def _by_var(session, opts) -> str:
    if opts.by is None:
        raise StataError("option by() required", 198)
    names = varlist(session, " ".join(opts.by), all_if_empty=False)
    if len(names) != 1:
        raise StataError("too many variables specified", 103)
    return names[0]


def _sample(session, cmd, y: str, g: str):
    ds = session.data
    mask = touse(session, cmd, [y, g])
    if not mask.any():
        raise StataError("no observations", 2000)
    gv = ds.var(g)
    return ds.var(y).values[mask].astype(float), (gv.values[mask] if gv.is_string
                                                  else gv.values[mask].astype(float)), gv


# ----------------------------------------------------------------------------- ranksum
def ranksum_stats(x: np.ndarray, g1: np.ndarray) -> dict:
    """Wilcoxon rank-sum for group 1 (boolean mask) against the rest."""
    n = len(x)
    r = midranks(x)
    n1 = int(g1.sum())
    n2 = n - n1
    T = float(r[g1].sum())
    E = n1 * (n + 1) / 2
    var_u = n1 * n2 * (n + 1) / 12
    t = _tie_counts(x)
    adj = -n1 * n2 * float((t ** 3 - t).sum()) / (12 * n * (n - 1))
    var = var_u + adj
    z = (T - E) / math.sqrt(var) if var > 0 else math.nan
    U = T - n1 * (n1 + 1) / 2
    return {"N_1": float(n1), "N_2": float(n2), "sum_obs": T, "sum_exp": E, "Var_a": var,
            "var_u": var_u, "adj": adj, "z": z, "p": float(2 * dist.norm_sf(abs(z))),
            "p_l": float(dist.norm_cdf(z)), "p_u": float(dist.norm_sf(z)), "porder": U / (n1 * n2),
            "T2": float(r[~g1].sum()), "E2": n2 * (n + 1) / 2}


@command("ranksum", byable=True, qualifiers="if in", body="varlist", changes_data=False,
         family="Statistics", desc="Wilcoxon rank-sum (Mann-Whitney) test", example="ranksum mathach, by(sector)",
         options=(Opt("by", type="varlist", desc="grouping variable (two groups)"),
                  Opt("porder", desc="probability that variable for first group is larger"),
                  Opt("exact", desc="not supported")))
def ranksum_cmd(session, cmd):
    opts = typed_args(cmd)
    if opts.exact:
        raise StataError("option exact not implemented", 198)
    y = _one_var(session, cmd)
    g = _by_var(session, opts)
    x, gv, var = _sample(session, cmd, y, g)
    levels = sorted(set(gv.tolist()))
    if len(levels) != 2:
        raise StataError("more than 2 groups found, only 2 allowed" if len(levels) > 2
                         else "1 group found, 2 required", 420)
    g1 = gv == levels[0]
    st = ranksum_stats(x, g1)
    ds = session.data
    labs = [value_text(ds, var, lv) for lv in levels]
    out = session.out
    out.line("")
    out.line("Two-sample Wilcoxon rank-sum (Mann–Whitney) test")
    out.line("")
    out.line(f"{abbrev(g, 12):>12} |      Obs    Rank sum    Expected")
    out.line("-------------+---------------------------------")
    rows = [(labs[0], st["N_1"], st["sum_obs"], st["sum_exp"]), (labs[1], st["N_2"], st["T2"], st["E2"])]
    for lab, n, T, E in rows:
        out.line(f"{abbrev(lab, 12):>12} |{fmt_count(int(n)):>9}{fmt_g(T, 10):>12}{fmt_g(E, 10):>12}")
    out.line("-------------+---------------------------------")
    tot = st["sum_obs"] + st["T2"]
    out.line(f"{'Combined':>12} |{fmt_count(len(x)):>9}{fmt_g(tot, 10):>12}{fmt_g(tot, 10):>12}")
    out.line("")
    out.line(f"Unadjusted variance  {st['var_u']:10.2f}")
    out.line(f"Adjustment for ties  {st['adj']:10.2f}")
    out.line(f"{'':21}----------")
    out.line(f"Adjusted variance    {st['Var_a']:10.2f}")
    out.line("")
    cond = [f"{g}=={_code(lv)}" for lv in levels]
    out.line(f"H0: {y}({cond[0]}) = {y}({cond[1]})")
    out.line(f"         z = {st['z']:7.3f}")
    out.line(f"Prob > |z| = {st['p']:7.4f}")
    if opts.porder:
        out.line("")
        out.line(f"P{{{y}({cond[0]}) > {y}({cond[1]})}} = {st['porder']:.3f}")
    session.r = RResults(scalars={k: st[k] for k in ("N_1", "N_2", "z", "Var_a", "sum_obs", "sum_exp",
                                                    "p", "p_l", "p_u", "porder")}
                         | {"group1": levels[0] if not isinstance(levels[0], str) else math.nan,
                            "N": float(len(x))})


def _code(v) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    return str(int(v)) if float(v).is_integer() else fmt_g(v, 9)


# ----------------------------------------------------------------------------- signrank
def signrank_stats(d: np.ndarray) -> dict:
    n = len(d)
    r = midranks(np.abs(d))
    pos, neg, zero = d > 0, d < 0, d == 0
    n0 = int(zero.sum())
    tot = n * (n + 1) / 2
    E = (tot - n0 * (n0 + 1) / 2) / 2
    var_u = n * (n + 1) * (2 * n + 1) / 24
    t = _tie_counts(np.abs(d))
    adj_t = -float((t ** 3 - t).sum()) / 48
    adj_z = -n0 * (n0 + 1) * (2 * n0 + 1) / 24
    var = var_u + adj_t + adj_z
    Tp = float(r[pos].sum())
    z = (Tp - E) / math.sqrt(var) if var > 0 else math.nan
    return {"N": float(n), "N_pos": float(pos.sum()), "N_neg": float(neg.sum()), "N_tie": float(n0),
            "sum_pos": Tp, "sum_neg": float(r[neg].sum()), "sum_zero": float(r[zero].sum()),
            "E": E, "var_u": var_u, "adj_t": adj_t, "adj_z": adj_z, "Var_a": var, "z": z,
            "p": float(2 * dist.norm_sf(abs(z))), "p_l": float(dist.norm_cdf(z)),
            "p_u": float(dist.norm_sf(z)), "tot": tot}


@command("signrank", byable=True, qualifiers="if in", body="varlist", exp="required",
         changes_data=False, family="Statistics", desc="Wilcoxon matched-pairs signed-rank test",
         example="signrank mathach = 12", options=())
def signrank_cmd(session, cmd):
    y = _one_var(session, cmd)
    text = (cmd.exp_text or "").lstrip("=").strip()
    if not text:
        raise StataError("=exp required", 100)
    from hlmshell.commands import generate as g
    rhs = g.broadcast(evaluate(g.parse_expr(text), session), session.data.n)
    if rhs.dtype == object:
        raise StataError("type mismatch", 109)
    x = session.data.var(y).values.astype(float)
    mask = touse(session, cmd, [y]) & ~np.isnan(rhs.astype(float))
    if not mask.any():
        raise StataError("no observations", 2000)
    st = signrank_stats(x[mask] - rhs.astype(float)[mask])
    out = session.out
    out.line("")
    out.line("Wilcoxon signed-rank test")
    out.line("")
    out.line("        Sign |      Obs   Sum ranks    Expected")
    out.line("-------------+---------------------------------")
    ez = st["sum_zero"]
    for lab, n, s, e in (("Positive", st["N_pos"], st["sum_pos"], st["E"]),
                         ("Negative", st["N_neg"], st["sum_neg"], st["E"]),
                         ("Zero", st["N_tie"], st["sum_zero"], ez)):
        out.line(f"{lab:>12} |{fmt_count(int(n)):>9}{fmt_g(s, 10):>12}{fmt_g(e, 10):>12}")
    out.line("-------------+---------------------------------")
    out.line(f"{'All':>12} |{fmt_count(int(st['N'])):>9}{fmt_g(st['tot'], 10):>12}{fmt_g(st['tot'], 10):>12}")
    out.line("")
    out.line(f"Unadjusted variance   {st['var_u']:>10.2f}")
    out.line(f"Adjustment for ties   {st['adj_t']:>10.2f}")
    out.line(f"Adjustment for zeros  {st['adj_z']:>10.2f}")
    out.line(f"{'':22}----------")
    out.line(f"Adjusted variance     {st['Var_a']:>10.2f}")
    out.line("")
    out.line(f"H0: {y} = {text}")
    out.line(f"         z = {st['z']:7.3f}")
    out.line(f"Prob > |z| = {st['p']:7.4f}")
    session.r = RResults(scalars={k: st[k] for k in ("N", "N_pos", "N_neg", "N_tie", "sum_pos",
                                                    "sum_neg", "z", "Var_a", "p", "p_l", "p_u")})


# ----------------------------------------------------------------------------- kwallis
def kwallis_stats(x: np.ndarray, g: np.ndarray) -> dict:
    n = len(x)
    r = midranks(x)
    levels, inv = np.unique(g, return_inverse=True)
    ni = np.bincount(inv).astype(float)
    Ri = np.bincount(inv, weights=r)
    H = 12 / (n * (n + 1)) * float((Ri ** 2 / ni).sum()) - 3 * (n + 1)
    t = _tie_counts(x)
    c = 1 - float((t ** 3 - t).sum()) / (n ** 3 - n)
    df = len(levels) - 1
    Ht = H / c if c > 0 else math.nan
    return {"levels": levels, "n": ni, "R": Ri, "chi2": H, "chi2_adj": Ht, "df": df,
            "p": float(dist.chi2_sf(H, df)), "p_adj": float(dist.chi2_sf(Ht, df))}


@command("kwallis", byable=True, qualifiers="if in", body="varlist", changes_data=False,
         family="Statistics", desc="Kruskal-Wallis equality-of-populations rank test",
         example="kwallis mathach, by(sector)",
         options=(Opt("by", type="varlist", desc="grouping variable"),))
def kwallis_cmd(session, cmd):
    opts = typed_args(cmd)
    y = _one_var(session, cmd)
    g = _by_var(session, opts)
    x, gv, var = _sample(session, cmd, y, g)
    st = kwallis_stats(x, gv)
    if st["df"] < 1:
        raise StataError("1 group found, 2 or more required", 420)
    ds = session.data
    labs = [value_text(ds, var, lv) for lv in st["levels"]]
    w = max(len(g), *(len(lb) for lb in labs), 5)
    rs = [fmt_g(v, 10) for v in st["R"]]
    wr = max(8, *(len(v) for v in rs))
    wo = max(5, *(len(fmt_count(int(n))) for n in st["n"]))
    out = session.out
    out.line("")
    out.line("Kruskal–Wallis equality-of-populations rank test")
    out.line("")
    bar = f"  +{'-' * (w + 2)}+{'-' * (wo + 2)}+{'-' * (wr + 2)}+"
    out.line(bar)
    out.line(f"  | {g:>{w}} | {'Obs':>{wo}} | {'Rank sum':>{wr}} |")
    out.line(f"  |{'-' * (w + 2)}+{'-' * (wo + 2)}+{'-' * (wr + 2)}|")
    for lab, n, rr in zip(labs, st["n"], rs):
        out.line(f"  | {lab:>{w}} | {fmt_count(int(n)):>{wo}} | {rr:>{wr}} |")
    out.line(bar)
    out.line("")
    out.line(f"chi2({st['df']}) = {st['chi2']:9.3f}")
    out.line(f"Prob = {st['p']:9.4f}")
    out.line("")
    out.line(f"chi2({st['df']}) with ties = {st['chi2_adj']:9.3f}")
    out.line(f"Prob = {st['p_adj']:9.4f}")
    session.r = RResults(scalars={"df": float(st["df"]), "chi2": st["chi2"], "chi2_adj": st["chi2_adj"],
                                  "p": st["p"], "p_adj": st["p_adj"]})


# ----------------------------------------------------------------------------- spearman, ktau
def _pair_sample(session, cmd, names):
    _numeric(session, names)
    mask = touse(session, cmd, names)
    if not mask.any():
        raise StataError("no observations", 2000)
    return [session.data.var(nm).values[mask].astype(float) for nm in names]


def spearman_stats(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    n = len(x)
    rho = float(np.corrcoef(midranks(x), midranks(y))[0, 1])
    if abs(rho) >= 1 or n < 3:
        return rho, 0.0 if n > 2 else math.nan
    t = rho * math.sqrt((n - 2) / (1 - rho * rho))
    return rho, float(2 * dist.t_sf(abs(t), n - 2))


@command("spearman", byable=True, qualifiers="if in", body="varlist", changes_data=False,
         family="Statistics", desc="Spearman's rank correlation", example="spearman mathach ses",
         options=(Opt("stats", "st", "string", desc="rho obs p"), Opt("matrix", "mat", desc="display as a matrix"),
                  Opt("pw", desc="pairwise deletion")))
def spearman_cmd(session, cmd):
    typed_args(cmd)
    names = varlist(session, cmd.body or "", all_if_empty=True)
    if len(names) < 2:
        raise StataError("too few variables specified", 102)
    cols = _pair_sample(session, cmd, names)
    out = session.out
    if len(names) == 2:
        rho, p = spearman_stats(*cols)
        n = len(cols[0])
        out.line("")
        out.line(f" Number of obs = {n:>8}")
        out.line(f"Spearman's rho = {rho:>12.4f}")
        out.line("")
        out.line(f"Test of H0: {names[0]} and {names[1]} are independent")
        out.line(f"    Prob > |t| = {p:>12.4f}")
        session.r = RResults(scalars={"N": float(n), "rho": rho, "p": p})
        return
    k = len(names)
    R = np.eye(k)
    P = np.zeros((k, k))
    for i in range(k):
        for j in range(i):
            R[i, j] = R[j, i] = spearman_stats(cols[i], cols[j])[0]
            P[i, j] = P[j, i] = spearman_stats(cols[i], cols[j])[1]
    out.line(f"(obs={fmt_count(len(cols[0]))})")
    out.line("")
    for start in range(0, k, 6):
        blk = list(range(start, min(k, start + 6)))
        out.line(f"{'':13}|" + "".join(f"{abbrev(names[j], 8):>9}" for j in blk))
        out.line("-" * 13 + "+" + "-" * (9 * len(blk)))
        for i in range(blk[0], k):
            out.line(f"{abbrev(names[i], 12):>12} |" + "".join(f"{R[i, j]:>9.4f}" for j in blk if j <= i))
        out.line("")
    session.r = RResults(scalars={"N": float(len(cols[0])), "rho": float(R[-1, -2]), "p": float(P[-1, -2])},
                         matrices={"Rho": R, "P": P})


def ktau_stats(x: np.ndarray, y: np.ndarray) -> dict:
    """Kendall's score S by merge counting (O(n log n) via scipy), tau-a, tau-b, tie-corrected
    SE of S and the continuity-corrected p-value."""
    from scipy.stats import kendalltau

    n = float(len(x))
    n0 = n * (n - 1) / 2
    t, u = _tie_counts(x), _tie_counts(y)
    n1, n2 = float((t * (t - 1) / 2).sum()), float((u * (u - 1) / 2).sum())
    tb = float(kendalltau(x, y, variant="b").statistic)
    S = tb * math.sqrt((n0 - n1) * (n0 - n2))
    S = float(round(S))
    v = (n * (n - 1) * (2 * n + 5) - float((t * (t - 1) * (2 * t + 5)).sum())
         - float((u * (u - 1) * (2 * u + 5)).sum())) / 18
    v += float((t * (t - 1) * (t - 2)).sum()) * float((u * (u - 1) * (u - 2)).sum()) / (9 * n * (n - 1) * (n - 2))
    v += float((t * (t - 1)).sum()) * float((u * (u - 1)).sum()) / (2 * n * (n - 1))
    se = math.sqrt(v)
    z = (abs(S) - 1) / se if se > 0 else math.nan
    return {"N": n, "tau_a": S / n0, "tau_b": tb, "score": S, "se_score": se,
            "p": min(1.0, float(2 * dist.norm_sf(z)))}


@command("ktau", byable=True, qualifiers="if in", body="varlist", changes_data=False,
         family="Statistics", desc="Kendall's rank correlation", example="ktau mathach ses",
         options=(Opt("stats", "st", "string", desc="taua taub score se obs p"),))
def ktau_cmd(session, cmd):
    typed_args(cmd)
    names = varlist(session, cmd.body or "", all_if_empty=False)
    if len(names) != 2:
        raise StataError("too few variables specified" if len(names) < 2 else "too many variables specified",
                         102 if len(names) < 2 else 103)
    x, y = _pair_sample(session, cmd, names)
    if len(x) < 3:
        raise StataError("insufficient observations", 2001)
    st = ktau_stats(x, y)
    out = session.out
    out.line("")
    out.line(f"  Number of obs = {int(st['N']):>8}")
    out.line(f"Kendall's tau-a = {st['tau_a']:>12.4f}")
    out.line(f"Kendall's tau-b = {st['tau_b']:>12.4f}")
    out.line(f"Kendall's score = {int(st['score']):>8}")
    out.line(f"    SE of score = {st['se_score']:>12.3f}   (corrected for ties)")
    out.line("")
    out.line(f"Test of H0: {names[0]} and {names[1]} are independent")
    out.line(f"     Prob > |z| = {st['p']:>12.4f}  (continuity corrected)")
    session.r = RResults(scalars=st)
