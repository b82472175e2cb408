"""test, testparm, lincom: Wald tests and linear combinations of the active coefficients.

Constraint expressions are parsed here by a small recursive-descent parser over coefficient
names (never eval): `ses`, `2.sized`, `1.female#2.sized`, `_b[ses]`, `_b[mathach:ses]`,
`[mathach]ses`, numbers, + - * / and parentheses. Every expression must be linear in the
coefficients; it becomes a row of R and a right-hand side r, so `test` computes Stata's
chi2 = (Rb - r)' (R V R')^-1 (Rb - r) after dropping constraints that are linearly dependent
on earlier ones (or that only touch omitted coefficients).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import lincom_eform
from hlmshell.commands._postest import (
    LEVEL_NAME,
    active,
    confidence_level,
    norm_name,
    norm_part,
)
from hlmshell.commands.program import NamedMatrix
from hlmshell.errors import StataError
from hlmshell.output import postest_output as po
from hlmshell.output.numfmt import fmt
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results import EstimationResults, RResults
from hlmshell.session import TestChain
from hlmshell.syntax.lexer import paren_groups, split_top
from hlmshell.syntax.parser import parse_fvlist
from hlmshell.syntax.varlist import expand_varlist


# --------------------------------------------------------------------------- name matching
def _sorted_parts(name: str) -> tuple:
    return tuple(sorted(norm_name(name).split("#")))


def equations(res: EstimationResults) -> list[str]:
    seen: list[str] = []
    for eq, _ in res.names:
        if eq not in seen:
            seen.append(eq)
    return seen


def multi_eq(res: EstimationResults) -> bool:
    return len(equations(res)) > 1


def coef_label(res: EstimationResults, j: int) -> str:
    eq, name = res.names[j]
    return f"[{eq}]{name}" if multi_eq(res) and eq else name


def find_coef(res: EstimationResults, eq: str | None, name: str) -> int:
    """Column of `name` in equation `eq` (first equation when None); StataError r(111)/r(303)."""
    eqs = equations(res)
    if eq is None and name.startswith("/") and "/" in eqs:   # [/var(e.y)]: the `/` equation
        eq, name = "/", name[1:]
    if eq is not None and eq not in eqs:
        raise StataError(f"equation {eq} not found", 303)
    target = eq if eq is not None else (eqs[0] if eqs else "")
    cols = [j for j, (e, _) in enumerate(res.names) if e == target]
    for j in cols:
        if res.names[j][1] == name:
            return j
    nn = norm_name(name)
    hits = [j for j in cols if norm_name(res.names[j][1]) == nn]
    if not hits:
        sp = _sorted_parts(name)
        hits = [j for j in cols if _sorted_parts(res.names[j][1]) == sp]
    if hits:
        live = [j for j in hits if not res.omitted[j]]
        return (live or hits)[0]
    shown = f"[{target}]{name}" if multi_eq(res) and target else name
    raise StataError(f"{shown} not found", 111)


# --------------------------------------------------------------------------- the parser
_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![\w.#]))"
                    r"|(?P<name>[\w.#]+)"
                    r"|(?P<op>[-+*/()=\[\]:]))")


def tokenize(text: str) -> list[tuple[str, str]]:
    toks: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise StataError("invalid syntax", 198)
        kind = m.lastgroup
        toks.append((kind, m.group(kind)))
        pos = m.end()
    return toks


@dataclass
class Linear:
    """A linear form sum(coef[j] * b[j]) + const."""

    coef: dict[int, float]
    const: float = 0.0

    @property
    def is_const(self) -> bool:
        return not any(v != 0 for v in self.coef.values())

    def scaled(self, s: float) -> "Linear":
        return Linear({j: v * s for j, v in self.coef.items()}, self.const * s)

    def plus(self, other: "Linear", sign: float = 1.0) -> "Linear":
        c = dict(self.coef)
        for j, v in other.coef.items():
            c[j] = c.get(j, 0.0) + sign * v
        return Linear(c, self.const + sign * other.const)


class _Parser:
    def __init__(self, res: EstimationResults, toks: list[tuple[str, str]], what: str = "test"):
        self.res = res
        self.toks = toks
        self.i = 0
        self.what = what

    def peek(self, k: int = 0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else (None, None)

    def take(self):
        t = self.peek()
        self.i += 1
        return t

    def expect(self, val: str):
        kind, v = self.take()
        if v != val:
            raise StataError("invalid syntax", 198)

    def at_end(self) -> bool:
        return self.i >= len(self.toks)

    # coefficient references ------------------------------------------------------
    def _bracket_text(self) -> str:
        """Tokens up to the matching ']' joined back into text."""
        parts = []
        while True:
            kind, v = self.take()
            if v is None:
                raise StataError("invalid syntax", 198)
            if v == "]":
                return "".join(parts)
            parts.append(v)

    def coef_ref(self) -> int | None:
        kind, v = self.peek()
        if kind == "name" and v in ("_b", "_coef") and self.peek(1)[1] == "[":
            self.i += 2
            inner = self._bracket_text()
            eq, _, nm = inner.rpartition(":")
            return find_coef(self.res, eq or None, nm)
        if v == "[":
            self.i += 1
            eq = self._bracket_text()
            kind, v = self.peek()
            if kind == "name" and v in ("_b", "_coef") and self.peek(1)[1] == "[":
                self.i += 2
                nm = self._bracket_text()
            elif kind == "name":
                self.i += 1
                nm = v
            else:
                raise StataError("invalid syntax", 198)
            return find_coef(self.res, eq.strip(), nm)
        if kind == "name":
            self.i += 1
            return find_coef(self.res, None, v)
        return None

    # linear expressions ------------------------------------------------------------
    def expr(self) -> Linear:
        left = self.term()
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            right = self.term()
            left = left.plus(right, 1.0 if op == "+" else -1.0)
        return left

    def term(self) -> Linear:
        left = self.factor()
        while self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            right = self.factor()
            if op == "*":
                if right.is_const:
                    left = left.scaled(right.const)
                elif left.is_const:
                    left = right.scaled(left.const)
                else:
                    raise StataError(f"not possible with {self.what}", 131)
            else:
                if not right.is_const or right.const == 0:
                    raise StataError(f"not possible with {self.what}", 131)
                left = left.scaled(1.0 / right.const)
        return left

    def factor(self) -> Linear:
        kind, v = self.peek()
        if v in ("+", "-"):
            self.i += 1
            f = self.factor()
            return f if v == "+" else f.scaled(-1.0)
        if v == "(":
            self.i += 1
            e = self.expr()
            self.expect(")")
            return e
        if kind == "num":
            self.i += 1
            return Linear({}, float(v))
        j = self.coef_ref()
        if j is None:
            raise StataError("invalid syntax", 198)
        return Linear({j: 1.0}, 0.0)


_EQ_EQUAL = re.compile(r"\[\s*([^\]]*=[^\]]*)\]\s*(?::\s*(.*))?", re.DOTALL)
_EQ_ONLY = re.compile(r"\[\s*([^\]=]+?)\s*\]\s*(?::\s*(.*))?", re.DOTALL)


@dataclass(frozen=True)
class EquationRules:
    """test's options for the equation syntaxes: `common` keeps the coefficients every listed
    equation has; `constant` adds _cons to the coefficients tested."""
    common: bool = False
    constant: bool = False


def _equation_name(res: EstimationResults, text: str) -> str:
    """An equation by name or by number (`#2`), as Stata's [eqno]."""
    eqs = equations(res)
    text = text.strip()
    if text.startswith("#"):
        try:
            k = int(text[1:])
        except ValueError:
            raise StataError("invalid syntax", 198) from None
        if not 1 <= k <= len(eqs):
            raise StataError(f"equation {text} not found", 303)
        return eqs[k - 1]
    if text not in eqs:
        raise StataError(f"equation [{text}] not found", 303)
    return text


def _wanted(res: EstimationResults, names: list[str], var_text: str | None,
            rules: EquationRules) -> list[str]:
    first = [nm for e, nm in res.names if e == names[0]]
    if var_text and var_text.strip():
        wanted = var_text.split()
        missing = [v for v in wanted if v not in first]
        if missing:
            raise StataError(f"[{names[0]}]{missing[0]} not found", 111)
        return wanted
    wanted = [nm for nm in first if rules.constant or nm != "_cons"]
    if rules.common:
        wanted = [nm for nm in wanted if all(res.coef_index(e, nm) >= 0 for e in names[1:])]
    return wanted


def _equal_equations(res: EstimationResults, eq_text: str, var_text: str | None,
                     rules: EquationRules = EquationRules()) -> list[Linear]:
    """`test [eq1 = eq2 (= eq3 ...)] [: varlist]`: each coefficient of the first equation (the
    listed ones, else all but _cons) equal across them, as after suest or mvreg; a coefficient
    another equation lacks is an error unless `common` restricts the test to shared ones."""
    parts = [e.strip() for e in eq_text.split("=")]
    if any(not n for n in parts):
        raise StataError("invalid syntax", 198)
    names = [_equation_name(res, n) for n in parts]
    out = []
    for nm in _wanted(res, names, var_text, rules):
        j0 = res.coef_index(names[0], nm)
        for other in names[1:]:
            j = res.coef_index(other, nm)
            if j < 0:
                raise StataError(f"[{other}]{nm} not found", 111)
            out.append(Linear({j0: 1.0, j: -1.0}, 0.0))
    if not out:
        raise StataError("equations have no coefficients in common", 198)
    return out


def _zero_equation(res: EstimationResults, eq_text: str, var_text: str | None,
                   rules: EquationRules) -> list[Linear]:
    """`test [eq] [: varlist]`: the equation's coefficients (all but _cons unless `constant`)
    are zero."""
    name = _equation_name(res, eq_text)
    wanted = _wanted(res, [name], var_text, rules)
    if not wanted:
        raise StataError("invalid syntax", 198)
    return [Linear({res.coef_index(name, nm): 1.0}, 0.0) for nm in wanted]


def parse_spec(res: EstimationResults, spec: str,
               rules: EquationRules = EquationRules()) -> list[Linear]:
    """One test specification -> constraints (Linear forms that must equal 0)."""
    spec = spec.strip()
    if not spec:
        raise StataError("invalid syntax", 198)
    spec = re.sub(r"(?<![=<>!~])==(?!=)", "=", spec)     # `test a == b` is `test a = b`
    eqs = _EQ_EQUAL.fullmatch(spec)
    if eqs:
        return _equal_equations(res, eqs.group(1), eqs.group(2), rules)
    eq_only = _EQ_ONLY.fullmatch(spec)
    if eq_only:
        return _zero_equation(res, eq_only.group(1), eq_only.group(2), rules)
    sides = split_top(spec, "=")
    if len(sides) > 1:
        forms = []
        for s in sides:
            p = _Parser(res, tokenize(s))
            f = p.expr()
            if not p.at_end():
                raise StataError("invalid syntax", 198)
            forms.append(f)
        return [forms[0].plus(f, -1.0) for f in forms[1:]]
    # coefficient list
    p = _Parser(res, tokenize(spec))
    out = []
    while not p.at_end():
        j = p.coef_ref()
        if j is None:
            raise StataError("invalid syntax", 198)
        out.append(Linear({j: 1.0}, 0.0))
    return out


def parse_test_body(res: EstimationResults, body: str,
                    rules: EquationRules = EquationRules()) -> list[Linear]:
    groups = paren_groups(body)
    if groups is None:
        return parse_spec(res, body, rules)
    out: list[Linear] = []
    for g in groups:
        out += parse_spec(res, g, rules)
    return out


# --------------------------------------------------------------------------- Wald test
@dataclass
class Constraint:
    row: np.ndarray     # length k
    rhs: float


def to_constraint(res: EstimationResults, lin: Linear) -> Constraint:
    row = np.zeros(len(res.names))
    for j, v in lin.coef.items():
        row[j] += v
    if not (np.all(np.isfinite(row)) and math.isfinite(lin.const)):
        raise _missing_values()     # a number beyond Stata's largest double is missing there
    return Constraint(row, -lin.const)


def _missing_values() -> StataError:
    return StataError("matrix has missing values", 504)


def constraint_display(res: EstimationResults, c: Constraint) -> str:
    terms = [(float(c.row[j]), coef_label(res, j)) for j in range(len(c.row)) if c.row[j] != 0]
    return po.constraint_text(terms, c.rhs)


@dataclass
class WaldResult:
    stat: float
    df: int
    p: float
    dropped: list[int]          # 1-based constraint numbers
    df_r: float | None
    chi2: float


def wald(res: EstimationResults, cons: list[Constraint], svy_adjust: bool = True) -> WaldResult:
    k = len(res.names)
    b = np.asarray(res.b, dtype=float).reshape(-1)
    V = np.asarray(res.V, dtype=float).reshape(k, k)
    om = np.asarray(res.omitted, dtype=bool)
    if len(cons) == 0:
        R = np.zeros((0, k))
        r = np.zeros(0)
    else:
        R = np.vstack([c.row for c in cons]).astype(float)
        r = np.array([c.rhs for c in cons], dtype=float)
    R[:, om] = 0.0
    used = np.flatnonzero(np.any(R != 0, axis=0))     # 0 * a missing variance is not missing
    with np.errstate(over="ignore", invalid="ignore"):
        M = R[:, used] @ V[np.ix_(used, used)] @ R[:, used].T
    if not np.all(np.isfinite(M)):
        raise _missing_values()
    kept: list[int] = []
    dropped: list[int] = []
    for i in range(R.shape[0]):
        if not np.any(R[i] != 0):
            dropped.append(i + 1)
            continue
        trial = kept + [i]
        sub = M[np.ix_(trial, trial)]
        scale = max(np.max(np.abs(np.diag(sub))), 1e-300)
        rank = np.linalg.matrix_rank(sub / scale, tol=1e-10 * len(trial))
        rank_r = np.linalg.matrix_rank(R[trial], tol=1e-12 * max(1.0, np.max(np.abs(R[trial]))))
        if rank == len(trial) and rank_r == len(trial):
            kept.append(i)
        else:
            dropped.append(i + 1)
    df = len(kept)
    df_r = res.scalars.get("df_r")
    if df_r is not None and (df_r != df_r):
        df_r = None
    if df == 0:
        nan = float("nan")
        return WaldResult(nan, 0, nan, dropped, df_r, nan)
    Rk, rk = R[kept], r[kept]
    if res.macros.get("dfmethod"):
        small = _small_sample(res, Rk, rk)
        if small is not None:
            small.dropped = dropped
            return small
    d = Rk @ b - rk
    Mk = M[np.ix_(kept, kept)]
    chi2 = float(d @ np.linalg.solve(Mk, d))
    if df_r is None:
        return WaldResult(chi2, df, float(dist.chi2_sf(chi2, df)), dropped, None, chi2)
    F = chi2 / df
    if svy_adjust and res.macros.get("prefix") == "svy":     # the adjusted Wald test on the design df
        df_r = df_r - df + 1
        F = F * df_r / (df_r + df - 1) if df_r >= 1 else float("nan")
    return WaldResult(F, df, float(dist.f_sf(F, df, df_r)) if F == F else F, dropped, float(df_r), chi2)


def _small_sample(res: EstimationResults, R: np.ndarray, r: np.ndarray) -> WaldResult | None:
    """After mixed's dfmethod(): the F test of fixed-effects constraints on the method's
    denominator DF (None when a constraint involves a variance parameter: Wald chi2 then)."""
    from hlmshell.commands import mixed_dfmethod
    kf = res.k_f
    if np.any(R[:, kf:] != 0):
        return None
    F, df1, ddf, chi2 = mixed_dfmethod.small_test(res, R[:, :kf], r)
    p = float(dist.f_sf(F, df1, ddf)) if ddf == ddf else float("nan")
    return WaldResult(F, df1, p, [], ddf, chi2)


def _small_lincom(res: EstimationResults, row: np.ndarray, const: float, se: float):
    """lincom after dfmethod(): (standard error -- Kenward-Roger's adjusted one -- and the
    method's DF) of a combination of fixed effects."""
    from hlmshell.commands import mixed_dfmethod
    kf = res.k_f
    Vdf = res.matrices.get("V_df")
    if Vdf is not None:
        v = float(row[:kf] @ np.asarray(Vdf, dtype=float) @ row[:kf])
        se = math.sqrt(max(v, 0.0))
    _, _, ddf, _ = mixed_dfmethod.small_test(res, row[None, :kf], np.zeros(1))
    return se, ddf


def _store_r(session, w: WaldResult) -> None:
    sc = {"df": float(w.df), "p": w.p, "drop": float(bool(w.dropped))}
    if w.df_r is None:
        sc["chi2"] = w.stat
    else:
        sc["F"] = w.stat
        sc["df_r"] = w.df_r
    session.r = RResults(scalars=sc)


def run_test(session, res: EstimationResults, cons: list[Constraint], *, notest: bool = False,
             ddf: float | None = None, svy_adjust: bool = True) -> None:
    w = _with_df(wald(res, cons, svy_adjust), ddf)
    texts = [constraint_display(res, c) for c in cons]
    out = session.out
    out.line()
    if svy_adjust and res.macros.get("prefix") == "svy":
        out.line("Adjusted Wald test")
        out.line()
    for line in po.constraint_lines(texts, w.dropped):
        out.line(line)
    if not notest:
        out.line()
        for line in po.wald_lines(w.stat, w.df, w.p, w.df_r,
                                  decimals=bool(res.macros.get("dfmethod"))):
            out.line(line)
    _store_r(session, w)


def _check_small(res: EstimationResults, opts) -> None:
    """`small` (Stata 17, after mixed): the small-sample statistics hlmshell reports anyway
    after dfmethod(); without a dfmethod() fit there are no degrees of freedom to use."""
    if opts.small and not res.macros.get("dfmethod"):
        raise StataError("option small is allowed only after mixed with dfmethod()", 198)


def _split_options(cmd) -> tuple[str, list]:
    """The hypothesis text and the options: the parser has split `, options` off the body
    (cmd.options); the handler binds them to the spec on its registration line."""
    return (cmd.body or "").strip(), list(cmd.options)


# --------------------------------------------------------------------------- test
_MTEST_METHODS = {"noadjust": "unadjusted", "bonferroni": "Bonferroni-adjusted",
                  "holm": "Holm-adjusted", "sidak": "Sidak-adjusted"}


_MTEST_SPEC = Opt("mtest", "mt", "string")     # its argument is optional: bound apart


def mtest_method(text: str | None) -> str:
    """mtest's argument, unabbreviated as Stata's _mtest syntax does (b, h, s, noadj)."""
    word = (text or "noadjust").strip().lower()
    for name, least in (("bonferroni", 1), ("holm", 1), ("sidak", 1), ("noadjust", 5)):
        if len(word) >= least and name.startswith(word):
            return name
    raise StataError(f"mtest({word}) invalid; allowed are bonferroni, holm, sidak, and noadjust", 198)


def adjust_p(p: np.ndarray, method: str) -> np.ndarray:
    """Multiple-testing adjustment of p-values (Bonferroni, Holm's step-down, Sidak)."""
    m = len(p)
    if method == "bonferroni":
        return np.minimum(1.0, p * m)
    if method == "sidak":
        return 1.0 - (1.0 - p) ** m
    if method == "holm":
        order = np.argsort(p, kind="stable")
        out = np.empty(m)
        running = 0.0
        for rank, i in enumerate(order):
            running = max(running, min(1.0, (m - rank) * p[i]))
            out[i] = running
        return out
    return p.copy()


def _with_df(w: WaldResult, ddf: float | None) -> WaldResult:
    """df(#): the F reference distribution on # denominator degrees of freedom."""
    if ddf is None or w.df == 0:
        return w
    F = w.chi2 / w.df
    return WaldResult(F, w.df, float(dist.f_sf(F, w.df, ddf)), w.dropped, float(ddf), w.chi2)


def _mtest_table(session, cons, whole: WaldResult, method: str, ddf, one) -> NamedMatrix:
    """mtest: each constraint tested alone (`one`), p-values adjusted, then the joint test."""
    rows = []
    for c in cons:
        w = _with_df(one(c), ddf)
        if w.df:
            rows.append(w)
    p = np.array([w.p for w in rows], dtype=float)
    adj = adjust_p(p, method)
    out = session.out
    F = whole.df_r is not None
    head = f"F(df,{whole.df_r:.0f})" if F else "chi2"
    out.line()
    out.line("-" * 39)
    out.line(f"       |{head:>11}     df{'p':>9}")
    out.line("-------+" + "-" * 31)
    for i, (w, pa) in enumerate(zip(rows, adj), start=1):
        out.line(f"{f'  ({i})':<7}|{fmt(w.stat, '%11.2f')}{w.df:7d}"
                 f"{fmt(pa, '%9.4f')} #")
    out.line("-------+" + "-" * 31)
    out.line(f"  all  |{fmt(whole.stat, '%11.2f')}{whole.df:7d}{fmt(whole.p, '%9.4f')}")
    out.line("-" * 39)
    out.line(f"# {_MTEST_METHODS[method]} p-values".rjust(37))
    cols = (["F", "df", "df_r", "p", "adjp"] if F else ["chi2", "df", "p", "adjp"])
    vals = [[w.stat, w.df] + ([w.df_r] if F else []) + [w.p, a] for w, a in zip(rows, adj)]
    return NamedMatrix(np.array(vals, dtype=float).reshape(len(rows), len(cols)),
                       [f"({i})" for i in range(1, len(rows) + 1)], cols)


@command("test", exp=False, byable=False, qualifiers="",
          family="Postestimation", body="anything", check_options=False, desc="Wald tests of linear hypotheses",
          example="test ses meanses",
          options=(Opt("accumulate", "a", desc="test jointly with the previous test"),
                   Opt("coef", desc="report estimated constrained coefficients"),
                   Opt("notest", desc="do not display the test"),
                   Opt("small", desc="F test on the dfmethod() degrees of freedom (after mixed, as by default)"),
                   Opt("mtest", "mt", "string", desc="test each condition separately: mtest[(bonferroni|holm|sidak|noadjust)]"),
                   Opt("common", desc="[eq1=eq2]: test only the coefficients common to all the equations"),
                   Opt("constant", "cons", desc="[eq] syntaxes: include _cons in the coefficients tested"),
                   Opt("nosvyadjust", desc="after svy: the unadjusted Wald test"),
                   Opt("df", type="real", desc="F reference distribution with # denominator degrees of freedom"),
                   Opt("matvlc", type="string", desc="save R V R' in the named matrix")))
def test_cmd(session, cmd) -> None:
    body, options = _split_options(cmd)
    mt_opts = [o for o in options if _MTEST_SPEC.matches(o.name)]
    opts = bind_command("test", [o for o in options if o not in mt_opts])
    res = active(session)
    _check_small(res, opts)
    if not body:
        raise StataError("invalid syntax", 198)
    method = mtest_method(mt_opts[-1].arg) if mt_opts else None
    ddf = opts.df if "df" in opts else None
    if ddf is not None and not ddf > 0:
        raise StataError("df() must be positive", 198)
    rules = EquationRules(common=bool(opts.common), constant=bool(opts.constant))
    cons = [to_constraint(res, lin) for lin in parse_test_body(res, body, rules)]
    if opts.accumulate:
        chain = session.test_chain
        if chain is not None and chain.serial == res.serial:
            cons = [Constraint(np.array(c[0]), c[1]) for c in chain.constraints] + cons
    adjust = not opts.nosvyadjust
    run_test(session, res, cons, notest=opts.notest or method is not None, ddf=ddf, svy_adjust=adjust)
    if method is not None and not opts.notest:
        whole = _with_df(wald(res, cons, adjust), ddf)
        session.r.matrices["mtest"] = _mtest_table(session, cons, whole, method, ddf,
                                                   lambda c: wald(res, [c], adjust))
    if opts.matvlc:
        session.matrices[opts.matvlc.strip()] = _vlc(res, cons)
    if opts.coef and not opts.notest:
        _constrained_coefficients(session, res, cons)
    session.test_chain = TestChain(res.serial, [(c.row.tolist(), c.rhs) for c in cons])


def _constrained_coefficients(session, res: EstimationResults, cons: list[Constraint]) -> None:
    """test's coef: the coefficients re-estimated under the tested constraints by minimum
    distance in the model's metric, b_c = b - V R'(R V R')^-1 (R b - r) and
    V_c = V - V R'(R V R')^-1 R V (the dropped constraints left out)."""
    from hlmshell.output import coeftable as ct
    k = len(res.names)
    w = wald(res, cons, svy_adjust=False)
    kept = [c for i, c in enumerate(cons, start=1) if i not in w.dropped]
    b = np.asarray(res.b, dtype=float).reshape(-1)
    V = np.asarray(res.V, dtype=float).reshape(k, k)
    if kept:
        R = np.vstack([c.row for c in kept])
        R[:, np.asarray(res.omitted, dtype=bool)] = 0.0
        VR = V @ R.T
        G = np.linalg.pinv(R @ VR)
        b = b - VR @ G @ (R @ b - np.array([c.rhs for c in kept]))
        V = V - VR @ G @ VR.T
    var = np.diag(V)
    se = np.sqrt(np.clip(var, 0, None))
    pinned = np.abs(var) <= 1e-12 * max(float(np.max(np.abs(var))), 1e-300)
    status = ["omitted" if res.omitted[j] else ("constrained" if pinned[j] else None) for j in range(k)]
    sections = []
    for eq in equations(res):
        cols = [j for j in range(k) if res.names[j][0] == eq]
        groups = ct.groups_from_names([res.names[j][1] for j in cols], [status[j] for j in cols])
        sections.append((eq, [ct.Group(g.header, [ct.Row(r.label, cols[r.index], r.status)
                                                  for r in g.rows]) for g in groups]))
    df_r = res.scalars.get("df_r")
    stat = "t" if df_r is not None and df_r == df_r else "z"
    level = float(session.settings.get("level", 95.0))
    if len(sections) > 1:
        lines = ct.equation_table(res.depvar, sections, b, se, stat=stat, level=level)
    else:
        lines = ct.coef_table(res.depvar, sections[0][1] if sections else [], b, se, stat=stat,
                              df_r=df_r if stat == "t" else None, level=level)
    out = session.out
    out.line()
    out.line("Constrained coefficients")
    out.line()
    for line in lines:
        out.line(line)


def _vlc(res: EstimationResults, cons: list[Constraint]) -> NamedMatrix:
    k = len(res.names)
    R = np.vstack([c.row for c in cons]) if cons else np.zeros((0, k))
    V = np.asarray(res.V, dtype=float).reshape(k, k)
    M = R @ V @ R.T
    names = [f"c{i}" for i in range(1, len(cons) + 1)]
    return NamedMatrix(M, names, names)


# --------------------------------------------------------------------------- testparm
def _expand_fv_terms(text: str) -> list[list[str]]:
    """'a##b c' -> [['a'], ['b'], ['a','b'], ['c']] (parts as typed)."""
    terms: list[list[str]] = []
    for word in text.split():
        if "##" in word:
            pieces = word.split("##")
            from itertools import combinations
            for r in range(1, len(pieces) + 1):
                for combo in combinations(pieces, r):
                    parts: list[str] = []
                    for c in combo:
                        parts += c.split("#")
                    terms.append(parts)
        else:
            terms.append(word.split("#"))
    return terms


def _part_matches(spec: str, col: str) -> bool:
    """Does a typed part (i.x, c.x, x, 2.x, i(1 2).x) match a column part (2.x, x)?"""
    colp = norm_part(col)
    m = LEVEL_NAME.match(colp)
    col_level, col_var = (m.group(1), m.group(2)) if m else (None, colp)
    s = spec.strip()
    if s.startswith("i."):
        return col_level is not None and col_var == s[2:]
    if s.startswith("c."):
        return col_level is None and col_var == s[2:]
    if s.startswith("o."):                               # o.x: the continuous x
        return col_level is None and col_var == s[2:]
    mb = re.match(r"^ib(n|\d+|\([^()]*\))\.(.+)$", s)    # ibn.x ib3.x ib(last).x: any level
    if mb:
        return col_level is not None and col_var == mb.group(2)
    m2 = re.match(r"^i\(([\d\s]+)\)\.(.+)$", s)
    if m2:
        return col_level is not None and col_var == m2.group(2) and col_level in m2.group(1).split()
    m3 = LEVEL_NAME.match(s)
    if m3:
        return col_level == m3.group(1) and col_var == m3.group(2)
    return col_level is None and col_var == s


def _fv_term_parts(text: str) -> list[list[str]]:
    """The terms of a factor-variable varlist, each as its parts' canonical spellings (`i.x`,
    `c.x`, `2.x`, `i(2 3).x`, `ibn.x`): the grammar's expansion of ##, i.(a b), grouped
    interactions `c.x#(c.a i.b)`, `i2.x`, `i(2/4).x`; the word-wise split as a fallback."""
    try:
        return [[str(p) for p in term.parts] for term in parse_fvlist(text)]
    except StataError:
        return _expand_fv_terms(text)


def testparm_columns(res: EstimationResults, text: str) -> list[int]:
    eqs = equations(res)
    eq0 = eqs[0] if eqs else ""
    cols: list[int] = []
    for parts in _fv_term_parts(text):
        for j, (eq, name) in enumerate(res.names):
            if eq != eq0 or res.omitted[j] or j in cols:
                continue
            cparts = name.split("#")
            if len(cparts) != len(parts):
                continue
            used = [False] * len(cparts)
            ok = True
            for sp in parts:
                hit = next((i for i, cp in enumerate(cparts) if not used[i] and _part_matches(sp, cp)), None)
                if hit is None:
                    ok = False
                    break
                used[hit] = True
            if ok:
                cols.append(j)
    return sorted(cols)


def _expand_ts_words(text: str) -> str:
    """`L(1/2).x` -> `L.x L2.x`: time-series operators as e(b) names them (tsops' canonical
    strings), each its own term; other words as typed."""
    from hlmshell.syntax.tsops import distribute_groups, split_ts_word
    out = []
    for word in _top_words(distribute_groups(text)):
        sp = split_ts_word(word)
        if sp is None:
            out.append(word)
        else:
            ops, name = sp
            out += [f"{op}.{name}" if op else name for op in ops]
    return " ".join(out)


def _top_words(text: str) -> list[str]:
    """Blank-separated words, a parenthesised group (`c.x#(c.a i.b)`) kept inside its word."""
    return re.findall(r"(?:[^\s()]|\([^()]*\))+", text)


def _strip_ops(word: str) -> str:
    """The variable behind an operator-prefixed word (what must exist in the data)."""
    from hlmshell.syntax.tsops import split_ts_word
    sp = split_ts_word(word)
    return word if sp is None else sp[1]


def _check_varlist(session, text: str) -> None:
    """testparm takes a (factor-variable) varlist of the data: junk is invalid syntax and a name
    that is no variable is r(111), before looking for the model's coefficients."""
    for term in parse_fvlist(text):
        for part in term.parts:
            expand_varlist(session.data, part.name)


@command("testparm", exp=False, byable=False, qualifiers="",
          family="Postestimation", body="anything", check_options=False, desc="Wald test that the coefficients of a varlist are zero",
          example="testparm i.sector",
          options=(Opt("equal", "eq", desc="test that the coefficients are equal, not that they are zero"),
                   Opt("notest", desc="do not display the test"),
                   Opt("small", desc="F test on the dfmethod() degrees of freedom (after mixed, as by default)")))
def testparm_cmd(session, cmd) -> None:
    body, options = _split_options(cmd)
    opts = bind_command("testparm", options)
    res = active(session)
    _check_small(res, opts)
    if not body:
        raise StataError("varlist required", 100)
    body = _expand_ts_words(body)
    _check_varlist(session, " ".join(_strip_ops(w) for w in _top_words(body)))
    cols = testparm_columns(res, body)
    if not cols:
        raise StataError("no such variables;\nthe specified varlist does not identify any testable coefficients", 111)
    k = len(res.names)
    cons = []
    if opts.equal:
        if len(cols) < 2:
            raise StataError("at least two coefficients required with option equal", 198)
        for j in cols[1:]:
            row = np.zeros(k)
            row[cols[0]] = -1.0
            row[j] = 1.0
            cons.append(Constraint(row, 0.0))
    else:
        for j in cols:
            row = np.zeros(k)
            row[j] = 1.0
            cons.append(Constraint(row, 0.0))
    run_test(session, res, cons, notest=opts.notest)
    session.test_chain = TestChain(res.serial, [(c.row.tolist(), c.rhs) for c in cons])


# --------------------------------------------------------------------------- lincom
@command("lincom", exp=False, byable=False, qualifiers="",
          family="Postestimation", body="anything", check_options=False, desc="linear combination of coefficients",
          example="lincom ses + meanses",
          options=(Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
                   Opt("small", desc="t statistic on the dfmethod() degrees of freedom (after mixed, as by default)"),
                   Opt("or", desc="report exp(b) as an odds ratio"),
                   Opt("irr", "ir", desc="report exp(b) as an incidence-rate ratio"),
                   Opt("rrr", "rr", desc="report exp(b) as a relative-risk ratio"),
                   Opt("hr", desc="report exp(b) as a hazard ratio"),
                   Opt("shr", desc="report exp(b) as a subhazard ratio"),
                   Opt("eform", "ef", desc="report exp(b)")))
def lincom_cmd(session, cmd) -> None:
    # parse -> validate
    body, options = _split_options(cmd)
    opts = bind_command("lincom", options)
    res = active(session)
    _check_small(res, opts)
    if not body or "=" in body:
        raise StataError("invalid syntax", 198)
    level = confidence_level(session, opts)
    p = _Parser(res, tokenize(body), what="lincom")
    lin = p.expr()
    if not p.at_end():
        raise StataError("invalid syntax", 198)
    eform = lincom_eform.requested(opts, res.cmd)
    if eform:
        lincom_eform.check_constant(eform, lin.const)
    # compute -> report
    c, sc, tstat = _lincom_estimate(res, lin, level)
    if eform:
        sc = lincom_eform.transform(sc)
    _lincom_report(session, res, c, sc, tstat, level, eform)
    session.r = RResults(scalars=sc)


def _lincom_estimate(res: EstimationResults, lin, level: float):
    """The constraint row, r() of lincom (estimate, se, statistic, p, interval) and whether
    the statistic is a t (the model has e(df_r))."""
    k = len(res.names)
    b = np.asarray(res.b, dtype=float).reshape(-1)
    V = np.asarray(res.V, dtype=float).reshape(k, k)
    c = to_constraint(res, lin)
    row = c.row.copy()
    row[np.asarray(res.omitted, dtype=bool)] = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        est = float(row @ b + lin.const)
        var = float(row @ V @ row)
    # an estimate or variance beyond the largest double is Stata's missing
    est = est if math.isfinite(est) else float("nan")
    se = math.sqrt(max(var, 0.0)) if math.isfinite(var) else float("nan")
    df_r = res.scalars.get("df_r")
    if res.macros.get("dfmethod") and not np.any(row[res.k_f:] != 0):
        se, df_r = _small_lincom(res, row, lin.const, se)
    tstat = df_r is not None and df_r == df_r
    zval = est / se if se > 0 else float("nan")
    if tstat:
        p_val = float(2 * dist.t_sf(abs(zval), df_r)) if se > 0 else float("nan")
        crit = float(dist.t_ppf(1 - (1 - level / 100) / 2, df_r))
    else:
        p_val = float(2 * dist.norm_sf(abs(zval))) if se > 0 else float("nan")
        crit = float(dist.norm_ppf(1 - (1 - level / 100) / 2))
    lo, hi = est - crit * se, est + crit * se
    sc = {"estimate": est, "se": se, "p": p_val, "lb": lo, "ub": hi, "level": level}
    if tstat:
        sc["t"] = zval
        sc["df"] = float(df_r)
    else:
        sc["z"] = zval
    return c, sc, tstat


def _lincom_report(session, res: EstimationResults, c: Constraint, sc: dict, tstat: bool,
                   level: float, eform: str | None = None) -> None:
    out = session.out
    out.line()
    out.line(f" ( 1)  {constraint_display(res, Constraint(c.row, 0.0))}")
    out.line()
    if eform:
        for line in lincom_eform.table_lines(res.depvar or "", eform, sc, tstat, level):
            out.line(line)
        return
    for line in po.coef_header(res.depvar or "", tstat, level):
        out.line(line)
    zval = sc["t"] if tstat else sc["z"]
    out.line(po.coef_row("(1)", sc["estimate"], sc["se"], zval, sc["p"], sc["lb"], sc["ub"]))
    out.line("-" * po.WIDE)
