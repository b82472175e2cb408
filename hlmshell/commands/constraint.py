"""constraint: Stata's numbered linear constraints ([R] constraint), and what estimation
commands need to apply them through their constraints() option.

`constraint [define] # exp = exp | coeflist`, `constraint list|dir [numlist|_all]`,
`constraint drop numlist|_all`, `constraint get #` (r(defined), r(contents)) and
`constraint free` (r(free)). A constraint is kept as text (numbers 1-1,999) in the session:
it means nothing until a model's coefficient names are known, so it is parsed only when an
estimation command applies it, with test's linear-expression parser (commands/test.py).

Applying them (makecns): each listed constraint becomes a row of R b = r over e(b)'s
columns; one that names a coefficient the model lacks is skipped with Stata's note
`note: constraint number # caused error r(111)`; an undefined number is an error; rows that
contradict the others are r(412). The model is then fitted over the null space of the kept
rows (engine/constrained.py); e(Cns) holds [R | r] and the output lists the constraints above
the coefficient table, coefficients the constraints pin down showing `(constrained)`."""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np

from hlmshell.engine import constrained as ec
from hlmshell.errors import StataError
from hlmshell.output import coeftable as ct
from hlmshell.registry import command
from hlmshell.results import EstimationResults, RResults

MAX_NUMBER = 1999
_DEFINE = ("define", 3)
_LISTING = {"list": 1, "dir": 3}


# --------------------------------------------------------------------------- numbers
def _number(text: str) -> int:
    try:
        v = float(text)
    except ValueError:
        raise StataError("invalid syntax", 198) from None
    if v != int(v):
        raise StataError(f"{text} invalid constraint number", 198)
    if not 1 <= v <= MAX_NUMBER:
        raise StataError("constraint number must be between 1 and 1,999", 198)
    return int(v)


def numbers(text: str) -> list[int]:
    """A clist or numlist: `1 2`, `1/3`, `1-3`, `1,10-11` -> constraint numbers in order,
    each once."""
    from hlmshell.syntax.numlist import numlist
    spec = re.sub(r"(?<=\d)\s*-\s*(?=\d)", "/", text.strip())
    try:
        values = numlist(spec)
    except StataError:
        raise StataError("invalid numlist", 121) from None
    out: list[int] = []
    for v in values:
        n = _number(repr(v) if v != int(v) else str(int(v)))
        if n not in out:
            out.append(n)
    return out


def _selection(session, text: str) -> list[int]:
    text = text.strip()
    if not text or text == "_all":
        return sorted(session.constraints)
    return numbers(text)


# --------------------------------------------------------------------------- the command
def _define(session, rest: str) -> None:
    parts = rest.strip().split(None, 1)
    if len(parts) < 2:
        raise StataError("invalid syntax", 198)
    n = _number(parts[0])
    body = parts[1].strip()
    if body.startswith(","):
        raise StataError("invalid syntax", 198)
    session.constraints = {**session.constraints, n: body}


def _list(session, rest: str) -> None:
    for n in _selection(session, rest):
        if n in session.constraints:
            session.out.line(f"{n:6d}:  {session.constraints[n]}")


def _drop(session, rest: str) -> None:
    if not rest.strip():
        raise StataError("invalid syntax", 198)
    gone = set(_selection(session, rest))
    session.constraints = {k: v for k, v in session.constraints.items() if k not in gone}


def _get(session, rest: str) -> None:
    words = rest.split()
    if len(words) != 1:
        raise StataError("invalid syntax", 198)
    n = _number(words[0])
    text = session.constraints.get(n)
    r = RResults(scalars={"defined": 1.0 if text is not None else 0.0})
    if text is not None:
        r.macros["contents"] = text
    session.r = r


def _free(session, rest: str) -> None:
    if rest.strip():
        raise StataError("invalid syntax", 198)
    for n in range(1, MAX_NUMBER + 1):
        if n not in session.constraints:
            session.r = RResults(macros={"free": str(n)})
            return
    raise StataError("no free constraints", 412)


def _subcommand(word: str):
    if len(word) >= _DEFINE[1] and _DEFINE[0].startswith(word):
        return _define
    for name, least in _LISTING.items():
        if len(word) >= least and name.startswith(word):
            return _list
    return {"drop": _drop, "get": _get, "free": _free}.get(word)


@command("constraint", abbrev="cons", raw=True, byable=False, qualifiers="", changes_data=False,
         family="Estimation", desc="define, list and drop linear constraints",
         example="constraint 1 [Labour]rldist3 = 0")
def constraint_cmd(session, cmd) -> None:
    text = (cmd.body or "").strip()
    if not text:
        _list(session, "")
        return
    word, _, rest = text.partition(" ")
    word = word.strip()
    if word[:1].isdigit():
        _define(session, text)
        return
    handler = _subcommand(word)
    if handler is None:
        raise StataError("invalid syntax", 198)
    handler(session, rest)


# --------------------------------------------------------------------------- applying them
@dataclass
class Applied:
    """The constraints an estimation applies: R b = r over e(b)'s columns (kept rows only),
    and the reparametrisation over the columns the model estimates (`free`)."""

    numbers: list[int]
    R: np.ndarray
    r: np.ndarray
    free: np.ndarray              # indexes of e(b) columns not omitted
    basis: ec.Basis               # over b[free]

    def cns_matrix(self, names: list[tuple[str, str]]):
        from hlmshell.commands.program import NamedMatrix
        cols = [f"{e}:{n}" if e else n for e, n in names] + ["_r"]
        vals = np.column_stack([self.R, self.r]) if len(self.r) else np.zeros((0, len(cols)))
        return NamedMatrix(vals, [f"r{i}" for i in range(1, len(self.r) + 1)], cols)


def _stand_in(names, omitted) -> EstimationResults:
    k = len(names)
    return EstimationResults(cmd="", names=list(names), b=np.zeros(k), V=np.zeros((k, k)),
                             omitted=np.asarray(omitted, dtype=bool), k_f=k)


_EQ_ZERO = re.compile(r"\s*(\[[^\]=]+\])\s*=\s*(?:0+(?:\.0*)?|\.0+)\s*")


def _spec_text(text: str) -> str:
    """`[eq] = 0` (the constraint help's spelling): every coefficient of eq is zero, which
    test's parser writes `[eq]`."""
    m = _EQ_ZERO.fullmatch(text)
    return m.group(1) if m else text


def _parsed_rows(session, nums: list[int], res: EstimationResults):
    """(numbers, rows, rhs) of the constraints that parse against the model's names."""
    from hlmshell.commands import test as tc
    kept, rows, rhs = [], [], []
    for n in nums:
        text = session.constraints.get(n)
        if text is None:
            raise StataError(f"constraint {n} not defined", 111)
        try:
            forms = tc.parse_spec(res, _spec_text(text))
            cons = [tc.to_constraint(res, f) for f in forms]
        except StataError as err:
            session.out.line(f"note: constraint number {n} caused error r({err.rc})")
            continue
        for c in cons:
            kept.append(n)
            rows.append(c.row)
            rhs.append(c.rhs)
    return kept, rows, rhs


def prepare(session, text: str | None, names, omitted) -> Applied | None:
    """The constraints listed in constraints(`text`) applied to a model with e(b) columns
    `names` (None when the option was not given)."""
    if text is None or not text.strip():
        return None
    nums = numbers(text)
    omitted = np.asarray(omitted, dtype=bool)
    res = _stand_in(names, omitted)
    kept, rows, rhs = _parsed_rows(session, nums, res)
    k = len(names)
    R = np.vstack(rows) if rows else np.zeros((0, k))
    r = np.asarray(rhs, dtype=float)
    R[:, omitted] = 0.0
    free = np.flatnonzero(~omitted)
    try:
        B = ec.basis(R[:, free], r) if len(r) else ec.basis(np.zeros((0, len(free))), r)
    except ec.InconsistentConstraints:
        raise StataError("redundant or inconsistent constraints", 412) from None
    use = B.kept
    if not use:                   # none applies: the unconstrained model
        return None
    B.kept = list(range(len(use)))
    return Applied([kept[i] for i in use], R[use], r[use], free, B)


# --------------------------------------------------------------------------- reporting
def report_lines(res: EstimationResults) -> list[str]:
    """` ( 1)  [eq]x = 0` for each row of e(Cns), then a blank line: what estimation output
    shows between its header and the table (nothing without e(Cns) or with nocnsreport)."""
    from hlmshell.commands import test as tc
    from hlmshell.output import postest_output as po
    cns = res.matrices.get("Cns")
    if cns is None or not len(cns.values) or getattr(res, "nocnsreport", False):
        return []
    vals = cns.values
    texts = [tc.constraint_display(res, tc.Constraint(row[:-1], float(row[-1]))) for row in vals]
    return po.constraint_lines(texts, []) + [""]


def constrained_columns(res: EstimationResults) -> set[int]:
    """Columns whose variance the constraints took away entirely (not omitted ones)."""
    if res.matrices.get("Cns") is None:
        return set()
    V = np.asarray(res.V, dtype=float)
    scale = max(float(np.max(np.abs(np.diag(V)))) if V.size else 0.0, 1e-300)
    return {j for j in range(len(res.names))
            if not res.omitted[j] and abs(V[j, j]) <= 1e-12 * scale}


def mark_groups(groups, res: EstimationResults, offset: int = 0):
    """Display groups with `constrained` as the status of the pinned-down rows."""
    pinned = constrained_columns(res)
    if not pinned:
        return groups
    out = []
    for g in groups:
        rows = [ct.Row(r.label, r.index, "constrained" if r.status is None and r.index + offset in pinned
                       else r.status) for r in g.rows]
        out.append(dataclasses.replace(g, rows=rows))
    return out


def post(res: EstimationResults, applied: Applied | None) -> None:
    """e(Cns) and the model test's degrees of freedom under the constraints."""
    if applied is None:
        return
    res.matrices["Cns"] = applied.cns_matrix(res.names)
    res.scalars["rank"] = float(applied.basis.T.shape[1])


def model_wald(res: EstimationResults) -> tuple[float, int, float]:
    """The model's Wald test (chi2, df, p) that every coefficient but the constants is zero,
    constraints dropping the directions they fix (Stata's test after constrained fits)."""
    from hlmshell.commands import test as tc
    k = len(res.names)
    cons = []
    for j, (_, nm) in enumerate(res.names[:res.k_f]):      # not cutpoints or ln alpha
        if nm != "_cons" and not res.omitted[j]:
            row = np.zeros(k)
            row[j] = 1.0
            cons.append(tc.Constraint(row, 0.0))
    if not cons:
        return 0.0, 0, float("nan")
    w = tc.wald(res, cons, svy_adjust=False)
    return w.chi2 if w.df else 0.0, w.df, w.p if w.df else float("nan")


def post_ml(res: EstimationResults, applied: Applied | None, nocnsreport: bool = False) -> None:
    """After a constrained maximum-likelihood fit: e(Cns), e(rank), and the model test as a
    Wald test (the constant-only model need not satisfy the constraints, so no LR test)."""
    if applied is None:
        return
    post(res, applied)
    res.nocnsreport = bool(nocnsreport)
    if "chi2type" in res.macros:
        chi2, df, p = model_wald(res)
        res.scalars.update({"chi2": chi2, "df_m": float(df), "p": p})
        res.macros["chi2type"] = "Wald"
