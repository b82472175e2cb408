"""Reading a teffects command: `teffects sub (ovar omvarlist [, omodel noconstant])
(tvar tmvarlist [, tmodel noconstant]) [if] [in] [weight] [, stat options]`, and building
what every teffects estimator needs from it (estimation sample, treatment levels, designs).

Why its own module: the six subcommands share the two parenthesised models, the sample rules
(Stata marks out missing values of every variable of both models and of biasadj()/ematch())
and the treatment-level rules (an integer variable; control() and tlevel() by value or by
value label), while each estimator only differs in which model it needs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hlmshell.commands.model_terms import engine_terms, factor_labels, resolve_terms
from hlmshell.engine import design as dz
from hlmshell.errors import StataError
from hlmshell.syntax.lexer import find_top, top_level_mask

OMODELS = ("linear", "logit", "probit", "poisson", "hetprobit", "flogit", "fprobit",
           "fhetprobit")
TMODELS = ("logit", "probit", "hetprobit")


@dataclass
class Model:
    """One parenthesised model: its first variable (ovar or tvar), its covariates as typed,
    its model word and noconstant."""
    var: str
    covariates: str
    model: str
    noconstant: bool


@dataclass
class TeSyntax:
    outcome: Model | None
    treatment: Model | None


def _paren_groups(text: str) -> list[str]:
    """The top-level parenthesised groups of `text`; anything else between them is an error."""
    groups, depth, start, rest = [], 0, 0, []
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                start = i + 1
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise StataError("unmatched close parenthesis", 198)
            if depth == 0:
                groups.append(text[start:i])
        elif depth == 0:
            rest.append(ch)
    if depth:
        raise StataError("unmatched open parenthesis", 198)
    if "".join(rest).strip():
        raise StataError("invalid syntax", 198)
    return groups


def _model(text: str, models: tuple[str, ...], default: str, what: str) -> Model:
    comma = find_top(text, ",", 0, top_level_mask(text))
    main, opts = (text, "") if comma < 0 else (text[:comma], text[comma + 1:])
    words = main.split()
    if not words:
        raise StataError(f"{what} variable required", 100)
    model, nocons = default, False
    for o in opts.split():
        low = o.lower()
        if "nocons".startswith(low[:6]) and "noconstant".startswith(low) and len(low) >= 6:
            nocons = True
        elif low in models:
            if model != default and low != model:
                raise StataError("only one model may be specified", 198)
            model = low
        else:
            raise StataError(f"option {o} not allowed", 198)
    return Model(words[0], " ".join(words[1:]), model, nocons)


def parse_models(body: str, sub: str) -> TeSyntax:
    """The two models of `sub` (ra: outcome and treatment variable; ipw: outcome variable and
    treatment model; the others both models; psmatch like ipw; nnmatch like ra)."""
    groups = _paren_groups(body)
    if len(groups) != 2:
        raise StataError("invalid syntax", 198)
    out = _model(groups[0], OMODELS, "linear", "outcome")
    trt = _model(groups[1], TMODELS, "logit", "treatment")
    if sub in ("ipw", "psmatch") and (out.covariates.strip() or out.model != "linear"
                                       or out.noconstant):
        raise StataError("outcome model must contain only the outcome variable", 198)
    if sub in ("ra", "nnmatch") and (trt.covariates.strip() or trt.noconstant
                                     or trt.model != "logit"):
        raise StataError("treatment model must contain only the treatment variable", 198)
    if sub in ("nnmatch", "psmatch") and out.model != "linear":
        raise StataError(f"option {out.model} not allowed", 198)
    return TeSyntax(out, trt)


def terms_of(session, text: str):
    from hlmshell.syntax.parser import parse_fvlist
    return resolve_terms(session.data, parse_fvlist(text.strip())) if text.strip() else []


def term_vars(terms) -> list[str]:
    out: list[str] = []
    for t in terms:
        for p in t.parts:
            if p.name not in out:
                out.append(p.name)
    return out


# ------------------------------------------------------------------------- treatment levels
def _level_value(session, tvar: str, text: str, levels: list[float], what: str) -> float:
    """control()/tlevel(): a level's value or its value label."""
    text = text.strip()
    try:
        v = float(text)
    except ValueError:
        ds = session.data
        vl = ds.var(tvar).vallab
        lab = ds.value_labels.get(vl, {}) if vl else {}
        match = [k for k, s in lab.items() if s == text]
        if not match:
            raise StataError(f"{what}({text}) invalid; label {text} not found", 198) from None
        v = float(match[0])
    if v not in levels:
        raise StataError(f"{what}({text}) is not a level of treatment variable {tvar}", 198)
    return v


def treatment_levels(session, tvar: str, t: np.ndarray, control: str | None,
                     tlevel: str | None) -> tuple[float, float]:
    """(control, treated) of a binary treatment; integer values are required."""
    levels = sorted(set(t.tolist()))
    if any(v != int(v) for v in levels):
        raise StataError(f"treatment variable {tvar} must be integer valued", 452)
    if len(levels) < 2:
        raise StataError(f"treatment variable {tvar} must have at least 2 levels", 459)
    if len(levels) > 2:
        raise StataError(f"treatment variable {tvar} has {len(levels)} levels; only binary "
                         "treatments are implemented here", 459)
    c = _level_value(session, tvar, control, levels, "control") if control else levels[0]
    tr = _level_value(session, tvar, tlevel, levels, "tlevel") if tlevel else None
    if tr is None:
        tr = next(v for v in levels if v != c)
    if tr == c:
        raise StataError("control() and tlevel() may not specify the same level", 198)
    return c, tr


def treatment_order(session, tvar: str, t: np.ndarray, control: str | None,
                    tlevel: str | None) -> tuple[list[float], float]:
    """(levels with the control first and the others ascending, the ATET's level) of a
    treatment with two or more integer levels."""
    levels = sorted(set(t.tolist()))
    if any(v != int(v) for v in levels):
        raise StataError(f"treatment variable {tvar} must be integer valued", 452)
    if len(levels) < 2:
        raise StataError(f"treatment variable {tvar} must have at least 2 levels", 459)
    c = _level_value(session, tvar, control, levels, "control") if control else levels[0]
    others = [v for v in levels if v != c]
    target = _level_value(session, tvar, tlevel, levels, "tlevel") if tlevel else others[0]
    if target == c:
        raise StataError("control() and tlevel() may not specify the same level", 198)
    return [c] + others, target


def level_text(session, tvar: str, v: float) -> str:
    ds = session.data
    vl = ds.var(tvar).vallab
    lab = ds.value_labels.get(vl, {}) if vl else {}
    return lab.get(v, lab.get(int(v), f"{int(v)}"))


# ------------------------------------------------------------------------- designs
@dataclass
class EqDesign:
    """One equation's design: Stata's names, which columns are estimated, and their values."""
    names: list[str]
    keep: np.ndarray
    X: np.ndarray
    groups_design: object = None
    labels: dict = field(default_factory=dict)


def design(session, terms, column, n, constant: bool) -> tuple[object, np.ndarray]:
    dsg = dz.build_fixed(engine_terms(terms), column, n, constant=constant)
    if len(dsg.names) == 0:
        raise StataError("no variables and no constant", 102)
    return dsg, dsg.X_keep


def estimable_within(X: np.ndarray, rows: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Columns of the kept design that stay linearly independent on `rows` (in order), so
    each outcome equation omits what its own treatment level cannot estimate."""
    sub = X[rows]
    chosen: list[int] = []
    scale = np.sqrt((sub * sub).sum(axis=0)) + 1e-300
    for j in range(X.shape[1]):
        trial = sub[:, chosen + [j]] / scale[chosen + [j]]
        if np.linalg.matrix_rank(trial, tol=1e-9 * max(1.0, np.sqrt(len(rows)))) == len(chosen) + 1:
            chosen.append(j)
    mask = np.zeros(X.shape[1], dtype=bool)
    mask[chosen] = True
    return mask


def value_labels_of(session, terms) -> dict:
    return factor_labels(session.data, terms)
