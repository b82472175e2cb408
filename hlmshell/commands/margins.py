"""margins: predictive margins, adjusted predictions and marginal effects after regress and
mixed (the fixed-portion linear prediction xb), after logit/probit/poisson and the me* GLMMs
(their predictions: margins_response), with Stata 17's layout and stored results.

    margins [marginlist] [if] [in] [, at() atmeans over() dydx() eyex() dyex() eydx()
            predict() expression() vce(delta|unconditional) level() post noatlegend vsquish
            nose pwcompare]

vce(unconditional) treats the covariates as sampled too (margins_uncond).

parse (here) -> compute (margins_build, on hlmshell.engine.margins) -> report
(hlmshell.output.margins_output) -> store r() (and e() with `post`). What marginsplot
needs is in r() as Stata leaves it (r(b), r(V), r(table), r(at), r(xvars), r(atstats#)) and,
typed, in the MarginsTable (hlmshell.engine.margins) kept as `session.r.margins` (and
`session.e.margins` after `post`).
"""
from __future__ import annotations

import itertools
import re

import numpy as np

from hlmshell.commands import margins_build as mb
from hlmshell.commands import (margins_contrast, margins_ordinal, margins_pw, margins_response,
                               margins_saving, margins_uncond, margins_xt)
from hlmshell.commands._postest import active, confidence_level
from hlmshell.commands.model_terms import resolve_var
from hlmshell.commands.program import NamedMatrix
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.engine import margins as me
from hlmshell.errors import StataError
from hlmshell.output import coeftable as ct
from hlmshell.output import margins_output as mo
from hlmshell.registry import Opt, bind_options, command
from hlmshell.results import EstimationResults, RResults
from hlmshell.syntax.evaluate import evaluate, marksample
from hlmshell.syntax.numlist import numlist
from hlmshell.syntax.parser import parse_expr

OPTIONS = (
    Opt("at", "at", "anything", None, "estimate margins at specified values of covariates"),
    Opt("atmeans", "atmeans", desc="estimate margins at the means of covariates"),
    Opt("over", "over", "varlist", None, "estimate margins at unique values of varlist"),
    Opt("dydx", "dydx", "varlist", None, "estimate marginal effect of variables in varlist"),
    Opt("eyex", "eyex", "varlist", None, "estimate elasticities of variables in varlist"),
    Opt("dyex", "dyex", "varlist", None, "estimate semielasticity d(y)/d(lnx)"),
    Opt("eydx", "eydx", "varlist", None, "estimate semielasticity d(lny)/d(x)"),
    Opt("predict", "pr", "anything", None, "estimate margins for predict, pred_opt (xb; after "
        "logit, poisson, me*: pr, n, mu, eta, fixedonly)"),
    Opt("expression", "exp", "anything", None, "estimate margins for an expression of predict(xb)"),
    Opt("vce", "vce", "string", None, "delta (the default) or unconditional"),
    Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
    Opt("post", desc="post margins and their VCE as estimation results"),
    Opt("noatlegend", "noatlegend", desc="suppress legend of fixed covariate values"),
    Opt("vsquish", "vsquish", desc="suppress blank space separating factor variables"),
    Opt("nose", desc="do not estimate SEs"),
    Opt("noestimcheck", desc="do not check estimability (hlmshell computes every margin, as "
        "Stata does with this option)"),
    Opt("saving", "saving", "anything", None, "save the margins as a dataset: saving(file[, replace])"),
    Opt("contrast", "contrast", "anything", None, "r. contrasts of the margins and their Wald test"),
    Opt("pwcompare", "pwcompare", "anything", None, "pairwise comparisons of the margins"),
)
_DERIVS = ("dydx", "eyex", "dyex", "eydx")
_STAT = re.compile(r"^(mean|median|min|max|zero|asobserved|asobs|p\d{1,2})$")
_RANDOM_STATS = ("fitted", "fit", "residuals", "r", "rstandard", "rsta", "reffects", "ref",
                 "reses", "stdp", "scores", "sc")


# --------------------------------------------------------------------------- options
def _split_at(options) -> tuple[list[str], list]:
    """The at() options (repeatable) apart from the rest; a bare `pwcompare` is given an
    empty argument so that the strict binding takes it."""
    ats, rest = [], []
    for o in options:
        if (OPTIONS[-1].matches(o.name) or OPTIONS[-2].matches(o.name)) and not o.arg:
            rest.append(type(o)(o.name, "cieffects"))
        elif o.name == "at":
            if not (o.arg or "").strip():
                raise StataError("invalid syntax", 198)
            ats.append(o.arg)
        else:
            rest.append(o)
    return ats, rest


def _model_var(session, model: mb.Model, word: str) -> str:
    vs = resolve_var(session.data, word)
    if len(vs) != 1:
        raise StataError("invalid syntax", 198)
    if vs[0] not in model.xvars:
        raise StataError(f"{vs[0]} not found in list of covariates", 322)
    return vs[0]


def _expand_special(model: mb.Model, word: str) -> list[str] | None:
    if word == "_all":
        return list(model.xvars)
    if word == "_factor":
        return [v for v in model.xvars if v in model.levels]
    if word == "_continuous":
        return [v for v in model.xvars if v not in model.levels]
    return None


# --------------------------------------------------------------------------- at()
def _at_tokens(text: str) -> list[tuple[str, str]]:
    """at() text -> [('stat', 'mean'), ('var', 'ses'), ('set', 'ses', '(-2(1)2)') ...]."""
    out: list = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "(":
            j = text.find(")", i)
            if j < 0:
                raise StataError("invalid syntax", 198)
            out.append(("stat", text[i + 1:j].strip()))
            i = j + 1
            continue
        m = re.match(r"([A-Za-z_][A-Za-z0-9_*~?]*)\s*(=)?\s*", text[i:])
        if not m:
            raise StataError("invalid syntax", 198)
        name = m.group(1)
        i += m.end()
        if not m.group(2):
            out.append(("var", name))
            continue
        i, value = _at_value(text, i)
        out.append(("set", name, value))
    return out


def _at_value(text: str, i: int) -> tuple[int, str]:
    if i < len(text) and text[i] == "(":
        depth, j = 0, i
        while j < len(text):
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            if depth == 0:
                return j + 1, text[i + 1:j]
            j += 1
        raise StataError("invalid syntax", 198)
    m = re.match(r"\S+", text[i:])
    if not m:
        raise StataError("invalid syntax", 198)
    return i + m.end(), m.group(0)


def _at_values(text: str) -> list[float]:
    try:
        vals = numlist(text)
    except StataError:
        raise StataError("invalid numlist in at()", 121) from None
    if not vals:
        raise StataError("invalid syntax", 198)
    return vals


def parse_at(session, model: mb.Model, text: str) -> list[list[mb.AtItem]]:
    """One at() -> its scenarios (the product of its numlists, the last varying fastest)."""
    stat = None
    fixed: list[mb.AtItem] = []
    lists: list[tuple[str, list[float]]] = []
    for tok in _at_tokens(text):
        if tok[0] == "stat":
            st = "p50" if tok[1] == "p50" else tok[1]
            if not _STAT.match(st):
                raise StataError(f"{tok[1]} not allowed in at()", 198)
            stat = "asobserved" if st == "asobs" else st
        elif tok[0] == "var":
            if stat is None:
                raise StataError("invalid syntax", 198)
            names = _expand_special(model, tok[1]) or [_model_var(session, model, tok[1])]
            fixed = [it for it in fixed if it.var not in names]     # a later statistic wins
            fixed += [mb.AtItem(v, 0.0 if stat == "zero" else None,
                                "value" if stat == "zero" else stat) for v in names]
        else:
            v = _model_var(session, model, tok[1])
            lists.append((v, _at_values(tok[2])))
    if not fixed and not lists:
        raise StataError("invalid syntax", 198)
    combos = itertools.product(*[vals for _, vals in lists]) if lists else [()]
    out = []
    for combo in combos:
        items = [mb.AtItem(v, x, "value") for (v, _), x in zip(lists, combo)]
        named = {it.var for it in items}
        out.append(items + [it for it in fixed if it.var not in named])
    return out


# --------------------------------------------------------------------------- marginlist
def parse_marginlist(session, model: mb.Model, body: str) -> tuple[list[tuple[str, ...]], bool]:
    """The factor terms of the marginlist, and whether any carries the r. contrast operator
    (`margins r.sector`: then every term is contrasted)."""
    terms: list[tuple[str, ...]] = []
    contrast = False
    for word in body.split():
        if word.lower().startswith("r.") and "#" not in word:
            contrast = True
            word = word[2:]
        if "##" in word:
            parts = [_factor_word(session, model, w) for w in word.split("##")]
            for r in range(1, len(parts) + 1):
                for combo in itertools.combinations(parts, r):
                    terms.append(tuple(combo))
        else:
            terms.append(tuple(_factor_word(session, model, w) for w in word.split("#")))
    return [t for i, t in enumerate(terms) if t not in terms[:i]], contrast


def _factor_word(session, model: mb.Model, word: str) -> str:
    if not word:
        raise StataError("invalid syntax", 198)
    low = word.lower()
    name = word
    if "." in word:
        op, _, name = word.partition(".")
        if not re.fullmatch(r"i|ib?n?|ib\(?\w*\)?|ibn", op.lower()):
            raise StataError(f"{op}:  operator invalid", 198)
    elif low.startswith(("r.", "a.", "ar.", "g.", "h.")):
        raise StataError("contrast operators are not allowed", 198)
    vs = resolve_var(session.data, name)
    if len(vs) != 1:
        raise StataError("invalid syntax", 198)
    if vs[0] not in model.levels:
        raise StataError(f"factor {vs[0]} not found in list of covariates", 322)
    return vs[0]


def _derivs(session, model: mb.Model, opts) -> tuple[str | None, list[str]]:
    given = [d for d in _DERIVS if d in opts]
    if len(given) > 1:
        raise StataError(f"options {given[0]}() and {given[1]}() may not be combined", 198)
    if not given:
        return None, []
    kind = given[0]
    words = getattr(opts, kind)
    out: list[str] = []
    for w in words:
        if w in ("*", "_all"):
            out += model.xvars
            continue
        w = w[2:] if w.startswith(("i.", "c.")) else w
        special = _expand_special(model, w)
        out += special if special is not None else [_model_var(session, model, w)]
    out = [v for i, v in enumerate(out) if v not in out[:i]]
    if kind != "dydx" and any(v in model.levels for v in out):
        bad = next(v for v in out if v in model.levels)
        raise StataError(f"factor variable {bad} not allowed in {kind}(); only dydx() takes "
                         "factor variables", 198)
    if not out:
        raise StataError("varlist required", 100)
    return kind, out


def _check_statistic(text: str) -> None:
    """predict()'s statistic: xb (or nothing); random-effects statistics are not functions
    of e(b) alone (Stata's r(498)), anything else is not an option of predict."""
    if text and text.split()[0].lower() != "xb":
        word = text.split()[0].lower()
        if word in _RANDOM_STATS or word.startswith(("fit", "res", "ref", "rsta")):
            raise StataError("prediction is a function of possibly stochastic quantities other "
                             "than e(b)", 498)
        raise StataError(f"option {word} not allowed", 198)
    if text and len(text.split()) > 1:
        raise StataError("only one statistic may be specified", 198)


_XB = re.compile(r"predict\(\s*(?:xb)?\s*\)|xb\(\s*\)", re.IGNORECASE)
_PLACEHOLDER = "__margins_xb"


class _Env:
    """The session as the expression evaluator sees it, with the margin's rows as the data."""

    def __init__(self, session, data):
        self._session = session
        self.data = data

    def __getattr__(self, name):
        return getattr(self._session, name)


def _cov_data(cov: me.Covariates, xb: np.ndarray) -> Dataset:
    ds = Dataset()
    ds.add(Variable(_PLACEHOLDER, np.asarray(xb, dtype=float), "double"))
    for v, x in cov.cont.items():
        ds.add(Variable(v, np.asarray(x, dtype=float), "double"))
    for v, levels in cov.fact.items():
        if v not in cov.cont:
            ds.add(Variable(v, sum(lv * ind for lv, ind in levels.items()) * np.ones(cov.n), "double"))
    return ds


def _expression(session, opts):
    """(label, r(expression), the function of the rows' covariates and xb) of expression()."""
    if "predict" in opts:
        raise StataError("options predict() and expression() may not be combined", 198)
    text = (opts.raw("expression") or "").strip()
    if not text:
        raise StataError("invalid syntax", 198)
    for m in re.finditer(r"predict\(([^)]*)\)", text, re.IGNORECASE):
        _check_statistic(m.group(1).strip())
    expr = parse_expr(_XB.sub(f" {_PLACEHOLDER} ", text))

    def fn(cov: me.Covariates, xb: np.ndarray) -> np.ndarray:
        out = evaluate(expr, _Env(session, _cov_data(cov, xb)))
        if isinstance(out, str) or (isinstance(out, np.ndarray) and out.dtype == object):
            raise StataError("type mismatch", 109)
        return np.asarray(out, dtype=float)

    return "", text, fn


def _nonlinear(session, res, model, req, opts):
    """(model, label, r(expression)) after logit, poisson, melogit ...: predict()'s statistic
    or expression() over the predictions it names (margins_response)."""
    if res.cmd == "xtmlogit":              # every outcome's probability (xtmlogit_predict)
        from hlmshell.commands import xtmlogit_predict
        if "expression" in opts or req.vce == "unconditional":
            raise StataError("expression() and vce(unconditional) after xtmlogit are not "
                             "implemented", 198)
        text = (opts.raw("predict") or "").strip() if "predict" in opts else ""
        return xtmlogit_predict.setup(session, res, model, req, text)
    if margins_xt.handles(res):            # the panel models' own statistics (margins_xt)
        return _panel(session, res, model, req, opts)
    if margins_ordinal.is_ordinal(res):
        if "expression" in opts:
            raise StataError(f"expression() after {res.cmd} is not implemented", 198)
        if req.vce == "unconditional" and res.cmd not in ("ologit", "oprobit"):
            raise StataError(f"vce(unconditional) after {res.cmd} is not implemented", 198)
        text = (opts.raw("predict") or "").strip() if "predict" in opts else ""
        return margins_ordinal.setup(session, res, model, req, text)
    if "expression" not in opts:
        text = (opts.raw("predict") or "").strip() if "predict" in opts else ""
        model, label = margins_response.setup(session, res, model, req, text)
        return model, label, f"predict({text})"
    if "predict" in opts:
        raise StataError("options predict() and expression() may not be combined", 198)
    text = (opts.raw("expression") or "").strip()
    if not text:
        raise StataError("invalid syntax", 198)
    fns, k = {}, 0

    def placeholder(m):
        nonlocal k
        k += 1
        name = f"{_PLACEHOLDER}{k}"
        fns[name] = m.group(1) if m.group(0).lower().startswith("predict") else "xb"
        return f" {name} "

    body = re.sub(r"predict\(([^)]*)\)|xb\(\s*\)", placeholder, text, flags=re.IGNORECASE)
    expr = parse_expr(body)
    stats = {nm: margins_response.statistic(res, t) for nm, t in fns.items()}
    needs = any(margins_response.uses_theta(res, st, fo) for st, fo in stats.values())
    model, _ = margins_response.setup(session, res, model, req, "mu" if needs else "xb")
    pieces = {nm: margins_response.response(res, st, fo, margins_response.z_value)
              for nm, (st, fo) in stats.items()}

    def fn(cov, xb, theta):
        ds = _cov_data(cov, xb)
        for nm, f in pieces.items():
            ds.add(Variable(nm, np.asarray(f(cov, xb, theta), dtype=float) * np.ones(cov.n), "double"))
        out = evaluate(expr, _Env(session, ds))
        if isinstance(out, str) or (isinstance(out, np.ndarray) and out.dtype == object):
            raise StataError("type mismatch", 109)
        return np.asarray(out, dtype=float)

    req.theta_fn = fn
    return model, "", text


def _panel(session, res, model, req, opts):
    """(model, label, r(expression)) after xtlogit, xtpoisson, xttobit, ... (margins_xt)."""
    if "expression" in opts or req.vce == "unconditional":
        raise StataError(f"expression() and vce(unconditional) after {res.cmd} are not "
                         "implemented", 198)
    text = (opts.raw("predict") or "").strip() if "predict" in opts else ""
    return margins_xt.setup(session, res, model, req, text)


def _predict_label(res: EstimationResults, opts) -> tuple[str, str]:
    """(r(predict_label), r(expression)) -- refusing what is not the fixed-part xb."""
    text = (opts.raw("predict") or "").strip() if "predict" in opts else ""
    _check_statistic(text)
    label = "Linear prediction, fixed portion" if res.cmd == "mixed" else "Linear prediction"
    return label, f"predict({text})"


def _touse(session, cmd, res: EstimationResults) -> np.ndarray:
    sample = res.sample
    if sample is None or len(sample) != session.data.n:
        raise StataError("e(sample) does not identify the estimation sample", 322)
    mask = np.asarray(sample, dtype=bool).copy()
    if cmd.if_ is not None or cmd.in_ is not None:
        mask &= np.asarray(marksample(session, cmd), dtype=bool)
    if not mask.any():
        raise StataError("no observations", 2000)
    return mask


def _over(session, opts, touse) -> list[str]:
    if "over" not in opts:
        return []
    out = []
    for w in opts.over:
        for v in resolve_var(session.data, w):
            if session.data.var(v).is_string:
                raise StataError(f"{v}:  string variables may not be used as factors", 109)
            x = np.asarray(session.data.values(v), dtype=float)[touse]
            if np.any(np.isnan(x)) or np.any(x < 0) or np.any(x != np.floor(x)):
                raise StataError(f"{v}:  factor variables may not contain noninteger values", 452)
            out.append(v)
    return out


@command("margins", abbrev="margins", family="Postestimation", qualifiers="if in",
          body="anything", check_options=False, byable=False, changes_data=False,
          desc="predictive margins, adjusted predictions and marginal effects",
          example="margins sector, at(ses=(-2(1)2))", options=OPTIONS)
def margins_cmd(session, cmd) -> None:
    res = active(session)
    if res.cmd == "margins" and getattr(res, "margins_replay", None) is not None:
        _replay(session, res, cmd)
        return
    linear = (res.cmd in ("regress", "mixed") and res.model is not None) or res.cmd in ("qreg", "newey")
    if not linear and not margins_response.handles(res) and res.cmd != "xtmlogit" \
            and not margins_xt.handles(res):
        raise StataError(f"margins after {res.cmd} is not implemented", 198)
    ats, rest = _split_at(cmd.options)
    opts = bind_options(OPTIONS, _by_as_over(rest), strict=True)
    target = margins_saving.saving_target(opts.raw("saving")) if "saving" in opts else None
    req, model = _request(session, cmd, res, opts, ats)
    req.vce = _vce(opts)
    if not linear:
        model, label, expression = _nonlinear(session, res, model, req, opts)
    else:
        label, expression = _predict_label(res, opts)
        if "expression" in opts:
            label, expression, req.expr_fn = _expression(session, opts)
    table = build_table(session, res, req, model, label, expression)
    pw = _pw_mode(opts)
    con = margins_contrast.apply(table, model) if req.contrast else None
    report(session, res, table, req, opts, pw, con)
    store(session, res, table, cmd, pw, post=opts.post, con=con)
    if target is not None:
        margins_saving.save_margins(session, table, target)
    if opts.post:
        session.e.margins_replay = (res, req, pw, con)


def _by_as_over(options: list) -> list:
    """by(varlist): margins' older name for over(varlist), which do-files still type."""
    from hlmshell.syntax.ast import Option
    return [Option("over", o.arg) if o.name == "by" else o for o in options]


def _vce(opts) -> str:
    """vce(delta) (the default) or vce(unconditional), with Stata's abbreviations."""
    vce = (opts.raw("vce") or "").strip().lower() if "vce" in opts else "delta"
    if vce and "delta".startswith(vce) and len(vce) >= 3:
        return "delta"
    if vce and "unconditional".startswith(vce) and len(vce) >= 3:
        return "unconditional"
    raise StataError(f"vce({vce}) invalid" if vce else "option vce() incorrectly specified", 198)


def _replay(session, posted: EstimationResults, cmd) -> None:
    """`margins` after `margins, post`: the posted table again (noatlegend and vsquish may be
    given); anything else would need the model margins was run on."""
    ats, rest = _split_at(cmd.options)
    opts = bind_options(OPTIONS, rest, strict=True)
    extra = [o for o in opts.given if o not in ("noatlegend", "vsquish")]
    if (cmd.body or "").strip() or ats or extra or cmd.if_ is not None or cmd.in_ is not None:
        raise StataError("margins may not be run on the results of margins, post; "
                         "type margins to replay them", 198)
    res, req, pw, con = posted.margins_replay
    report(session, res, posted.margins, req, opts, pw, con)


def _request(session, cmd, res, opts, ats) -> tuple[mb.MarginsRequest, mb.Model]:
    model = mb.model_of(res)
    touse = _touse(session, cmd, res)
    terms, contrast = parse_marginlist(session, model, cmd.body or "")
    scenarios: list[list[mb.AtItem]] = []
    for text in ats:
        scenarios += parse_at(session, model, text)
    kind, dvars = _derivs(session, model, opts)
    for t in terms:
        both = [v for v in t if v in dvars]
        if both:
            raise StataError(f"{both[0]} may not be specified in both the marginlist and {kind}()", 198)
    req = mb.MarginsRequest(terms=terms, scenarios=scenarios or [[]], atmeans=opts.atmeans,
                            over=_over(session, opts, touse), deriv=kind, deriv_vars=dvars,
                            level=confidence_level(session, opts), nose=opts.nose, touse=touse)
    req.contrast = contrast or "contrast" in opts
    if req.contrast:
        if "pwcompare" in opts:
            raise StataError("options contrast and pwcompare may not be combined", 198)
        margins_contrast.check(req)
    return req, model


def _pw_mode(opts) -> str | None:
    if "pwcompare" not in opts:
        return None
    arg = (opts.raw("pwcompare") or "").strip().lower()
    if arg in ("", "cieffects", "cieff"):
        return "cieffects"
    if arg in ("effects", "eff"):
        return "effects"
    if arg in ("pveffects", "pveff"):
        return "effects"
    raise StataError(f"option {arg} not allowed", 198)


# --------------------------------------------------------------------------- compute
def _title(req: mb.MarginsRequest, model: mb.Model, at_items) -> str:
    fixed_all = True
    for items in at_items:
        fixed = {it.var for it in items if it.stat != "asobserved"}
        fixed |= {v for t in req.terms for v in t}
        fixed |= {v for v in req.deriv_vars if v in model.levels}
        if any(v not in fixed for v in model.xvars):
            fixed_all = False
    if req.deriv:
        return "Conditional marginal effects" if fixed_all else "Average marginal effects"
    return "Adjusted predictions" if fixed_all else "Predictive margins"


def build_table(session, res, req, model, label, expression) -> me.MarginsTable:
    lay, at_rows, at_items = mb.compute(req, res, session.data, model)
    k = len(lay.est)
    b = np.array(lay.est, dtype=float)
    J = np.vstack(lay.jac) if k else np.zeros((0, len(model.names) + len(model.theta)))
    if getattr(req, "vce", "delta") == "unconditional" and k:
        V = _unconditional(session, res, req, lay, J, model.theta_idx)
    else:
        V = me.delta_vcov(J, model.V_all if model.theta.size else model.V)
    status = [None] * k
    for j, d in enumerate(lay.deriv):
        if d and re.match(r"^\d+b\.", d):
            status[j] = "base"
            b[j] = 0.0
            V[j, :] = 0.0
            V[:, j] = 0.0
    df_r = res.scalars.get("df_r") if res.cmd in ("regress", "qreg", "newey") or res.macros.get("prefix") == "svy" \
        else None                               # after svy: t on the design df, as Stata
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    if req.nose:
        V = np.zeros_like(V)
        se = np.full(k, np.nan)
    names = [mb.column_name(dm, vals, d if lay.dims[j] or d else None)
             for j, (dm, vals, d) in enumerate(zip(lay.dims, lay.cells, lay.deriv))]
    atm, at_names = mb.at_matrix(model, at_rows)
    tbl = me.MarginsTable(
        names=names, b=b, V=V, status=status, table=mb.r_table(b, se, df_r, req.level),
        dims=lay.dims[0] if lay.dims else [], cells=lay.cells, deriv=lay.deriv, at=atm,
        at_names=at_names, atstats=_atstats(model, at_items, at_names),
        at_specs=[[(it.var, it.value, it.stat) for it in items] for items in at_items],
        xvars=model.xvars, stat="t" if df_r is not None else "z", df_r=df_r, level=req.level,
        title=_title(req, model, at_items),
        expression=f"{label}, {expression}" if label else expression,
        predict_label=label, expr=expression,
        derivatives=mb.DERIV_LABEL.get(req.deriv or "", ""), N=int(np.count_nonzero(req.touse)),
        jacobian=J, n_cells=list(lay.n), all_dims=lay.dims, over=list(req.over),
        vce=getattr(req, "vce", "delta"), predict_lines=list(getattr(req, "predict_lines", [])),
        theta_idx=list(model.theta_idx), group_at=list(lay.group_at))
    return tbl


def _unconditional(session, res, req, lay, J, theta_idx=()) -> np.ndarray:
    """vce(unconditional): the margins' linearized variance over the sampled rows (and the
    model's clusters); see margins_uncond."""
    infl, units, srows = margins_uncond.influence(session, res, list(theta_idx))
    pos = np.searchsorted(srows, np.flatnonzero(req.touse))
    cells = [(pos[p], v) for p, v in zip(lay.rowpos, lay.rowvals)]
    with np.errstate(invalid="ignore"):
        return me.unconditional_vcov(np.nan_to_num(J), cells, infl, units)


def _atstats(model, at_items, at_names) -> list[list[str]]:
    out = []
    for items in at_items:
        by_var = {it.var: it.stat for it in items}
        row = []
        for nm in at_names:
            var = nm.split(".", 1)[1] if "." in nm else nm
            row.append(by_var.get(var, "asobserved"))
        out.append(row)
    return out


# --------------------------------------------------------------------------- report
def _value_labels(session, var: str) -> dict:
    try:
        vl = session.data.var(var).vallab
    except StataError:
        return {}
    return session.data.value_labels.get(vl, {}) if vl else {}


def _row_label(session, dims, vals) -> str:
    if len(dims) == 1 and dims[0] != "_at":
        labels = _value_labels(session, dims[0])
        if float(vals[0]) in labels:
            return labels[float(vals[0])]
    return " ".join(str(v) for v in vals)


def sections(session, table: me.MarginsTable) -> list:
    """[(equation, [Group])]: per derivative variable (None without derivatives), the groups
    of rows sharing their dimensions."""
    out: list = []
    for j, name in enumerate(table.names):
        if table.status[j] == "base":
            continue
        dims = table.all_dims[j]
        eq = table.deriv[j] if dims else None
        if table.deriv[j] and not dims:
            eq_sec, label = None, table.deriv[j]
        else:
            eq_sec, label = eq, None
        if not out or out[-1][0] != eq_sec:
            out.append((eq_sec, []))
        groups = out[-1][1]
        status = table.status[j]
        if not dims:
            row_label = label or "_cons"
            if label and re.match(r"^\d+\.", label):
                var = label.split(".", 1)[1]
                lv = label.split(".", 1)[0]
                vl = _value_labels(session, var)
                head = var
                text = vl.get(float(lv), lv)
                if groups and groups[-1].header == head:
                    groups[-1].rows.append(ct.Row(text, j, None))
                else:
                    groups.append(ct.Group(head, [ct.Row(text, j, None)]))
                continue
            groups.append(ct.Group(None, [ct.Row(row_label, j, None)]))
            continue
        head = "#".join(dims)
        row = ct.Row(_row_label(session, dims, table.cells[j]), j, status)
        if groups and groups[-1].header == head:
            groups[-1].rows.append(row)
        else:
            groups.append(ct.Group(head, [row]))
    return out


_GROUP_STATS = ("mean", "median", "min", "max")


def _by_group(table: me.MarginsTable) -> bool:
    """over() with a statistic in at()/atmeans: the values differ from group to group."""
    return bool(table.over and table.group_at and len(table.group_at[0]) > 1 and any(
        st in _GROUP_STATS or re.fullmatch(r"p\d+", st or "")
        for items in table.at_specs for _v, _x, st in items))


def _group_legend(table: me.MarginsTable, model: mb.Model) -> list[str]:
    """The at legend of over() with statistics: each over group's own values under its name,
    `At: 0.sector` then its covariates (the over variables themselves left out)."""
    multi = len(table.at_specs) > 1
    rows = []
    for k, items in enumerate(table.at_specs):
        prefix = f"{k + 1}._at: " if multi else "At: "
        for g, (key, rec) in enumerate(table.group_at[k]):
            head = " ".join(f"{v}.{n}" for n, v in zip(table.over, key))
            rows.append((prefix if g == 0 else " " * len(prefix), head, None))
            look = rec.get
            for var, value, stat in items:
                if stat == "asobserved" or var in table.over:
                    continue
                for nm, v, st in _entries(model, look, var, stat):
                    rows.append((" " * len(prefix), None, (nm, v, st)))
    entries = [e for _p, _h, e in rows if e is not None]
    wn = max((len(nm) for nm, _v, _s in entries), default=0)
    wv = max((len(mo.value_text(v)) for _n, v, _s in entries), default=0)
    out = []
    for lead, head, e in rows:
        if head is not None:
            out.append(f"{lead}{head}")
            continue
        nm, v, st = e
        tail = "" if st in ("value", "values") else f" ({st})"
        out.append(f"{lead}    {nm:<{wn}} = {mo.value_text(v):>{wv}}{tail}")
    return out


def _legend(table: me.MarginsTable, req: mb.MarginsRequest, model: mb.Model, noatlegend: bool) -> list[str]:
    at_lines: list[str] = []
    if not noatlegend and _by_group(table):
        at_lines = _group_legend(table, model)
    elif not noatlegend:
        blocks = []
        for items in table.at_specs:
            block = []
            for var, value, stat in items:
                if stat == "asobserved":
                    continue
                k = table.at_specs.index(items)
                block += _legend_entries(model, table, k, var, value, stat)
            blocks.append(block)
        if any(blocks):
            at_lines = mo.at_block(blocks, multi=len(blocks) > 1)
    dvars = []
    for v in req.deriv_vars:
        if v in model.levels:
            dvars += [f"{lv}.{v}" for lv in model.levels[v] if lv != model.bases[v]]
        else:
            dvars.append(v)
    label = mb.DERIV_LABEL.get(req.deriv or "") if req.deriv else None
    return mo.legend_lines(table.expression, label, dvars, at_lines)


def _legend_entries(model, table, k, var, value, stat) -> list[tuple]:
    row = table.at[k]

    def look(name):                 # r(at)'s column, base levels named `0b.var`
        lv, _, v = name.partition(".")
        alt = f"{lv}b.{v}" if v else name
        col = name if name in table.at_names else alt
        return float(row[table.at_names.index(col)]) if col in table.at_names else None

    return _entries(model, look, var, stat)


def _entries(model, look, var, stat) -> list[tuple]:
    """(name, value, statistic) lines of one at() item; look(column) gives a value."""
    if var in model.levels and stat == "mean":
        return [(f"{lv}.{var}", look(f"{lv}.{var}"), stat) for lv in model.levels[var]]
    if var in model.levels:
        lv = next(lv for lv in model.levels[var] if look(f"{lv}.{var}") == 1.0)
        return [(var, float(lv), stat)]
    return [(var, look(var), stat)]


def _model_vce(res: EstimationResults) -> str | None:
    vcetype = res.macros.get("vcetype", "")
    if vcetype:
        return vcetype
    if res.cmd == "mixed":
        return None
    vce = res.macros.get("vce", "")
    if vce == "conventional":             # xtgee and the xt*, pa fits: Stata's "Conventional"
        return "Conventional"
    return vce.upper() if vce else None


def report(session, res, table: me.MarginsTable, req, opts, pw, con=None) -> None:
    out = session.out
    model = mb.model_of(res)
    title = table.title
    if pw:
        title = "Pairwise comparisons of " + title[0].lower() + title[1:]
    for line in mo.header_lines(title, table.N, _model_vce(res)):
        out.line(line)
    for line in _legend(table, req, model, opts.noatlegend):
        if line.startswith("Expression: ") and table.predict_lines:
            for pl in table.predict_lines:
                out.line(pl)
            continue
        out.line(line)
    first = mb.DERIV_LABEL.get(req.deriv or "", "Margin")
    if con is not None:
        lines = margins_contrast.lines(con, table, lambda v: _value_labels(session, v))
    elif pw:
        lines = margins_pw.pw_lines(session, table, pw, sections(session, table))
    else:
        lines = mo.table_lines(sections(session, table), table.b, table.table[1],
                               first=first, stat=table.stat, df_r=table.df_r,
                               level=table.level, nose=req.nose, vsquish=opts.vsquish)
    if table.vce == "unconditional":
        lines = [ln.replace("Delta-method", "Unconditional") for ln in lines]
    for line in lines:
        out.line(line)
    if req.deriv == "dydx" and any(v in model.levels for v in req.deriv_vars):
        out.line("Note: dy/dx for factor levels is the discrete change from the base level.")


# --------------------------------------------------------------------------- r() and e()
def store(session, res: EstimationResults, table: me.MarginsTable, cmd, pw, *, post: bool,
          con=None) -> None:
    rr = RResults()
    sc = {"N": float(table.N), "k_margins": float(len({tuple(d) for d in table.all_dims}) or 1),
          "k_by": float(max(1, len({_over_key(c, d, table) for c, d in zip(table.cells, table.all_dims)}))),
          "k_at": float(len(table.at_specs)), "level": table.level}
    if table.df_r is not None:
        sc["df_r"] = float(table.df_r)
    mac = {"cmd": "margins", "cmdline": (cmd.text or "").strip() or "margins",
           "est_cmd": res.cmd, "est_cmdline": res.macros.get("cmdline", ""),
           "title": table.title, "model_vce": res.macros.get("vce", ""),
           "model_vcetype": res.macros.get("vcetype", ""), "vce": table.vce,
           "vcetype": "Unconditional" if table.vce == "unconditional" else "Delta-method", "predict_label": table.predict_label, "expression": table.expr,
           "xvars": " ".join(table.xvars), "derivatives": table.derivatives,
           "properties": "b V"}
    mac.update(_list_macros(table))
    for i, row in enumerate(table.atstats):
        mac[f"atstats{i + 1}"] = " ".join(row)
    cols = [_eqname(n) for n in table.names]
    colnames = [f"{e}:{n}" if e else n for e, n in cols]
    mats = {"b": NamedMatrix(table.b[None, :], ["y1"], colnames),
            "V": NamedMatrix(table.V, colnames, colnames),
            "table": NamedMatrix(table.table, ["b", "se", "z" if table.stat == "z" else "t",
                                               "pvalue", "ll", "ul", "df", "crit", "eform"], colnames),
            "Jacobian": NamedMatrix(table.jacobian, colnames,
                                    [f"{res.names[j][0]}:{res.names[j][1]}" for j in _jac_cols(res, table)]),
            "_N": NamedMatrix(np.array([table.n_cells], dtype=float), ["r1"], colnames)}
    if table.at.size:
        mats["at"] = NamedMatrix(table.at, [f"r{i + 1}" for i in range(table.at.shape[0])], table.at_names)
    if pw is not None and getattr(table, "pw", None) is not None:
        pwt = table.pw
        mats["b_vs"] = NamedMatrix(pwt["b"][None, :], ["y1"], pwt["names"])
        mats["V_vs"] = NamedMatrix(pwt["V"], pwt["names"], pwt["names"])
        mats["table_vs"] = NamedMatrix(pwt["table"], ["b", "se", table.stat, "pvalue", "ll", "ul",
                                                      "df", "crit", "eform"], pwt["names"])
    if con is not None:
        for nm, M in margins_contrast.r_results(con, table).items():
            mats[nm] = NamedMatrix(M, ["r1"], con["terms"])
    rr.scalars, rr.macros, rr.matrices = sc, mac, mats
    rr.margins = table
    if post:
        _post(session, table, cols, sc, mac, mats)
    session.r = rr


def _jac_cols(res: EstimationResults, table: me.MarginsTable) -> list[int]:
    """e(b)'s entries behind r(Jacobian)'s columns: the fixed part, then the further entries
    (cutpoints, random-effects variances) the predictions use."""
    return list(range(res.k_f)) + list(table.theta_idx)


def _over_key(cell, dims, table) -> tuple:
    """The over() part of a cell (r(k_by) counts the over groups)."""
    return tuple(v for v, d in zip(cell, dims) if d in table.over)


def _list_macros(table: me.MarginsTable) -> dict:
    """r(margins): the marginlist (its terms, without _at, _predict and the over() variables);
    r(over): the over() variables -- each only when given, as Stata stores them."""
    out = {}
    skip = {"_at", "_predict", *table.over}
    terms = [t for t in _unique(["#".join(x for x in d if x not in skip)
                                 for d in table.all_dims]) if t]
    if terms:
        out["margins"] = " ".join(terms)
    if table.over:
        out["over"] = " ".join(table.over)
    return out


def _unique(items):
    out = []
    for d in items:
        if d not in out:
            out.append(d)
    return out


def _eqname(name: str) -> tuple[str, str]:
    if ":" in name:
        e, n = name.split(":", 1)
        return e, n
    return "", name


def _post(session, table: me.MarginsTable, cols, sc, mac, mats) -> None:
    k = len(cols)
    omitted = np.array([s == "base" for s in table.status], dtype=bool)
    e = EstimationResults(cmd="margins", names=[(eq, n) for eq, n in cols],
                          b=table.b.copy(), V=table.V.copy(), omitted=omitted, k_f=k,
                          scalars=dict(sc), macros=dict(mac),
                          matrices={m: v for m, v in mats.items() if m not in ("b", "V")},
                          sample=None)
    e.margins = table
    session.post_estimation(e)
