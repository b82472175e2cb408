"""What `contrast` and `pwcompare` share: the termlist (`r.sector`, `rb3.diet`,
`sector#female`, `a##b`, `r.sector@female`), the model's fixed part as a balanced reference
grid (hlmshell.engine.contrasts), mcompare() and the effects-table options.

A Term is the contrasted factors with their operators (None = unoperated) and reference
levels, and the `@` factors it is taken within. `Setup` holds e(b)'s fixed part, its
variance, the factors' levels and the continuous covariates' estimation-sample means.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np

from hlmshell.commands import margins_build as mb
from hlmshell.commands._postest import active
from hlmshell.commands.model_terms import resolve_var
from hlmshell.engine import contrasts as ce
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_g

# the estimation commands whose fixed part is a linear prediction contrast can work on
LINEAR_PREDICTION_CMDS = frozenset(
    "regress mixed xtmixed logit logistic probit cloglog poisson melogit meprobit mecloglog "
    "mepoisson".split())
_TOKEN = re.compile(r"^(?:(?P<op>ar|gw|hw|jw|pw|qw|a|r|g|h|j|p|q|i)"
                    r"(?:b(?P<ref>\d+|\(first\)|\(last\)|first|last))?\.)?(?P<name>[A-Za-z_]\w*)$",
                    re.IGNORECASE)
MCOMPARE = {"noadjust": "noadjust", "bonferroni": "bonferroni", "bon": "bonferroni",
            "sidak": "sidak", "scheffe": "scheffe", "tukey": "tukey"}
MC_TITLE = {"noadjust": "Unadjusted", "bonferroni": "Bonferroni", "sidak": "Sidak",
            "scheffe": "Scheffe", "tukey": "Tukey"}


@dataclass
class Term:
    variables: list[str]
    ops: list[str | None]
    refs: list[int | None]
    within: list[str] = field(default_factory=list)
    slope: str | None = None      # `a#c.x`: the factors' margins are the slopes of x

    @property
    def operated(self) -> bool:
        return any(op is not None for op in self.ops)

    @property
    def text(self) -> str:
        head = "#".join(self.variables) + (f"#c.{self.slope}" if self.slope else "")
        return f"{head}@{'#'.join(self.within)}" if self.within else head


@dataclass
class Setup:
    cols: list
    b: np.ndarray
    V: np.ndarray
    levels: dict
    bases: dict
    means: dict
    df_r: float | None
    names: list[str]
    N: int

    def grid(self, variables: list[str], slope: str | None = None):
        """The balanced cells of `variables` and their margins' rows of L; with `slope`, the
        rows of each cell's slope in that continuous covariate (the change of the margin
        when the covariate rises by one from its mean: its derivative where it enters
        linearly, as in `a#c.x`)."""
        if slope is None:
            return ce.grid(self.cols, variables, self.levels, self.means)
        cells, G0 = ce.grid(self.cols, variables, self.levels, self.means)
        _, G1 = ce.grid(self.cols, variables, self.levels,
                        {**self.means, slope: self.means[slope] + 1.0})
        return cells, G1 - G0


def setup(session, cmdname: str) -> tuple:
    """(the active results, Setup): r(301) without results, r(198) after a command whose
    fixed part is not a linear prediction."""
    res = active(session)
    if res.cmd not in LINEAR_PREDICTION_CMDS:
        raise StataError(f"{cmdname} after {res.cmd} is not implemented", 198)
    model = mb.model_of(res)
    sample = res.sample
    if sample is None or len(sample) != session.data.n:
        raise StataError("e(sample) does not identify the estimation sample", 322)
    mask = np.asarray(sample, dtype=bool)
    means = {}
    for v in model.cont:
        x = np.asarray(session.data.values(v), dtype=float)[mask]
        means[v] = float(np.mean(x)) if x.size else float("nan")
    df_r = res.scalars.get("df_r") if res.cmd == "regress" else None
    return res, Setup(model.cols, model.b, model.V, model.levels, model.bases, means, df_r,
                      model.names, int(np.count_nonzero(mask)))


def parse_terms(session, st: Setup, body: str, *, operators: bool = True) -> list[Term]:
    """The termlist: words, each a term, `a##b` giving a, b and a#b, `x@y` x within y."""
    words = (body or "").split()
    if not words:
        raise StataError("varlist required", 100)
    out: list[Term] = []
    for w in words:
        out += _word_terms(session, st, w, operators)
    return out


def _word_terms(session, st: Setup, w: str, operators: bool) -> list[Term]:
    """The terms one word of the termlist stands for."""
    if w.startswith("(") and w.endswith(")"):       # pwcompare (c.x#a)
        w = w[1:-1]
    if w.count("@") > 1 or w.startswith("@") or w.endswith("@") or "|" in w:
        raise StataError("invalid syntax", 198)
    left, _, right = w.partition("@")
    if "##" in left:
        if right:
            raise StataError("invalid syntax", 198)
        pieces = [_factor(session, st, p, operators) for p in left.split("##")]
        return [Term([c[0] for c in combo], [c[1] for c in combo], [c[2] for c in combo])
                for k in range(1, len(pieces) + 1) for combo in itertools.combinations(pieces, k)]
    slope, factors = _slope(session, st, left.split("#"))
    if slope and right:
        raise StataError("invalid syntax", 198)
    parts = [_factor(session, st, p, operators) for p in factors]
    within = [_factor(session, st, p, False)[0] for p in right.split("#")] if right else []
    names = [p[0] for p in parts] + within
    if len(set(names)) != len(names):
        raise StataError("invalid syntax", 198)
    return [Term([p[0] for p in parts], [p[1] for p in parts], [p[2] for p in parts], within, slope)]


def _slope(session, st: Setup, pieces: list[str]) -> tuple[str | None, list[str]]:
    """(the c. covariate of an interaction term such as `agent#c.trial`, the factor pieces):
    at most one, a continuous covariate of the model, beside at least one factor."""
    slopes = [p for p in pieces if p[:2].lower() == "c."]
    if not slopes:
        return None, pieces
    if len(slopes) > 1 or len(slopes) == len(pieces):
        raise StataError("invalid syntax", 198)
    vs = resolve_var(session.data, slopes[0][2:])
    if len(vs) != 1:
        raise StataError("invalid syntax", 198)
    if vs[0] not in st.means:
        raise StataError(f"{vs[0]} not found in e(b)", 111 if vs[0] not in st.names else 198)
    return vs[0], [p for p in pieces if p not in slopes]


def _factor(session, st: Setup, word: str, operators: bool) -> tuple[str, str | None, int | None]:
    m = _TOKEN.match(word or "")
    if not m:
        raise StataError("invalid syntax", 198)
    op = (m.group("op") or "").lower() or None
    ref = m.group("ref")
    if op is not None and op != "i" and not operators:
        raise StataError(f"{op}.{m.group('name')}:  contrast operators are not allowed", 198)
    if op and op.endswith("w") and len(op) == 2:
        raise StataError(f"weighted contrast operator {op}. is not implemented", 198)
    if ref and op not in ("r", "i"):
        raise StataError(f"{word}:  base levels may only be given with the r. operator", 198)
    vs = resolve_var(session.data, m.group("name"))
    if len(vs) != 1:
        raise StataError("invalid syntax", 198)
    var = vs[0]
    if var not in st.levels:
        if var in st.means:
            raise StataError(f"{var}:  continuous variables may not be contrasted; "
                             "factor variables are required", 198)
        raise StataError(f"factor {var} not found in e(b)", 111 if var not in st.names else 198)
    levels = st.levels[var]
    base = _ref_level(ref, levels, st.bases[var], word)
    return var, (None if op == "i" else op), base


def _ref_level(ref: str | None, levels: list[int], default: int, word: str) -> int:
    if ref is None:
        return default
    r = ref.strip("()").lower()
    if r == "first":
        return levels[0]
    if r == "last":
        return levels[-1]
    if int(r) not in levels:
        raise StataError(f"{word}:  level {r} not found", 111)
    return int(r)


def mcompare(opts) -> str:
    if "mcompare" not in opts:
        return "noadjust"
    word = (opts.raw("mcompare") or "").strip().lower()
    word = word.split(",")[0].strip()
    for full in ("noadjust", "bonferroni", "sidak", "scheffe", "tukey"):
        if word and (full.startswith(word) and len(word) >= 3):
            return full
    raise StataError(f"mcompare({word}) invalid", 198)


def value_label(session, var: str, level) -> str:
    try:
        vl = session.data.var(var).vallab
    except StataError:
        vl = None
    labels = session.data.value_labels.get(vl, {}) if vl else {}
    return labels.get(float(level), fmt_g(float(level), 9).strip())


def tag_label(session, var: str, tag: tuple) -> str:
    """`(Catholic vs Public)`, `(2 vs mean)`, `(1 vs >)`, `(2 vs <)`, `(linear)`."""
    kind = tag[0]
    if kind == "vs":
        return f"({value_label(session, var, tag[1])} vs {value_label(session, var, tag[2])})"
    if kind == "mean":
        return f"({value_label(session, var, tag[1])} vs mean)"
    if kind == "gt":
        return f"({value_label(session, var, tag[1])} vs >)"
    if kind == "lt":
        return f"({value_label(session, var, tag[1])} vs <)"
    return f"({ce.poly_name(tag[1])})"
