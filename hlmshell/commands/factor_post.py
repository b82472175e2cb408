"""After factor and pca: rotate, predict (factor scores, component scores), estat kmo /
smc / loadings, and screeplot.

    rotate [, varimax promax[(#)] oblimin[(#)] orthogonal oblique normalize factors(#)
              blanks(#) noloading norotation clear]
    predict newvars|stub* [if] [in] [, regression bartlett norotated notable]   (factor)
    predict newvars|stub* [if] [in] [, score norotated notable]                (pca)
    estat kmo | smc | loadings [, cnorm(unit|eigen|inveigen)]
    screeplot [, mean graph options]

Stata's rotate defaults (varimax, no Kaiser normalization; promax power 3) differ from R's;
these follow Stata. Rotations are posted into e() (e(r_L), e(r_T), e(r_Ev), e(r_Phi),
e(r_criterion), ...) so that replay, predict and estat see them.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands import factor_display as fd
from hlmshell.commands._postest import active
from hlmshell.commands.program import NamedMatrix
from hlmshell.data.dataset import Variable, to_storage
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_g
from hlmshell.registry import Opt, bind_options, command

_ROTATE_OPTS = (Opt("varimax", "v", desc="varimax (orthogonal only); the default"),
                Opt("promax", "p", "string", None, "promax power # (implies oblique); default promax(3)"),
                Opt("oblimin", "oblimi", "string", None, "oblimin with gamma=#; default oblimin(0)"),
                Opt("orthogonal", "ortho", desc="restrict to orthogonal rotations"),
                Opt("oblique", "obliq", desc="allow oblique rotations"),
                Opt("normalize", "norm", desc="rotate Kaiser normalized matrix"),
                Opt("horst", desc="synonym for normalize"),
                Opt("factors", "f", "int", None, "rotate # factors; default all"),
                Opt("components", "comp", "int", None, "synonym for factors()"),
                Opt("blanks", "bl", "real", 0.0, "display loadings as blank when |loading| < #"),
                Opt("detail", "det", desc="accepted for compatibility"),
                Opt("format", "for", "string", None, "accepted for compatibility"),
                Opt("noloading", "noload", desc="suppress display of rotated loadings"),
                Opt("norotation", "norota", desc="suppress display of rotation matrix"),
                Opt("clear", desc="discard the rotation"))


def factor_or_pca(session):
    """The active factor/pca results, or Stata's refusal."""
    res = session.e
    if res is None:
        raise StataError("last estimates not found", 301)
    if res.cmd not in ("factor", "pca"):
        raise StataError(f"{res.cmd} not supported; use after factor or pca", 321)
    return res


def _number(text: str | None, default: float, name: str) -> float:
    if text is None or not text.strip():
        return default
    try:
        return float(text)
    except ValueError:
        raise StataError(f"option {name}() incorrectly specified", 198) from None


def _rotation_request(opts) -> tuple[str, float, float]:
    methods = [m for m in ("varimax", "promax", "oblimin") if m in opts]
    if len(methods) > 1:
        raise StataError(f"options {methods[0]} and {methods[1]} may not be combined", 198)
    method = methods[0] if methods else "varimax"
    if opts.orthogonal and opts.oblique:
        raise StataError("options orthogonal and oblique may not be combined", 198)
    if method == "varimax" and opts.oblique:
        raise StataError("varimax rotation is orthogonal only; option oblique not allowed", 198)
    if method in ("promax", "oblimin") and opts.orthogonal:
        raise StataError(f"{method} rotation is oblique only; option orthogonal not allowed", 198)
    power = _number(opts.raw("promax"), 3.0, "promax")
    if method == "promax" and power < 1:
        raise StataError("promax() power must be at least 1", 198)
    gamma = _number(opts.raw("oblimin"), 0.0, "oblimin")
    return method, power, gamma


@command("rotate", abbrev="rot", byable=False, qualifiers="", body="none", changes_data=False,
         family="Multivariate", desc="orthogonal and oblique rotations after factor and pca",
         example="rotate, promax", options=_ROTATE_OPTS)
def rotate_cmd(session, cmd):
    opts = bind_options(_ROTATE_OPTS, cmd.options)
    if (cmd.body or "").strip():
        raise StataError("invalid syntax", 198)
    for nm in ("factors", "components", "blanks"):
        if nm in opts and not (opts.raw(nm) or "").strip():
            raise StataError("invalid syntax", 198)
    res = _fresh_copy(factor_or_pca(session))
    st = res.model
    if opts.clear:
        st.rotation = None
        for k in [k for k in res.macros if k.startswith("r_")]:
            del res.macros[k]
        for k in [k for k in res.matrices if k.startswith("r_")]:
            del res.matrices[k]
        session.e = res
        return
    method, power, gamma = _rotation_request(opts)
    k = opts.factors if opts.factors is not None else opts.components
    if k is None:
        k = st.f
    if st.f < 1:
        raise StataError("no factors retained; nothing to rotate", 198)
    if not 1 <= k <= st.f:
        raise StataError(f"factors() must be between 1 and {st.f}", 198)
    if opts.blanks < 0:
        raise StataError("blanks() must be nonnegative", 198)
    apply_rotation(res, method, opts.normalize or opts.horst, power, gamma, k)
    session.e = res
    if st.kind == "factor":
        from hlmshell.commands.factor import display
        display(session, res, opts.blanks)
    else:
        from hlmshell.commands.pca import display_pca
        display_pca(session, res, opts.blanks)


def _fresh_copy(res):
    """e() to change: a copy with its own macros, matrices and model state, so that results
    kept by `estimates store` (and the session's snapshot) are never changed in place."""
    import copy

    new = copy.copy(res)
    new.macros = dict(res.macros)
    new.matrices = dict(res.matrices)
    new.model = copy.copy(res.model)
    return new


def apply_rotation(res, method: str, normalize: bool, power: float, gamma: float, k: int) -> None:
    from hlmshell.engine.factor_rotate import rotate

    st = res.model
    A = st.L[:, :k]          # pca: Stata rotates the unit-normalized eigenvectors
    rot = rotate(A, method, normalize, power, gamma)
    st.rotation = rot
    fn = st.factor_names(k)
    res.macros.update({"r_class": rot.klass, "r_criterion": rot.criterion,
                       "r_ctitle": rot.criterion if rot.criterion != "promax" else f"promax({fmt_g(power, 9)})",
                       "r_normalization": "kaiser" if normalize else "none"})
    res.matrices.update({"r_L": NamedMatrix(rot.L, st.names, fn), "r_T": NamedMatrix(rot.T, fn, fn),
                         "r_Ev": NamedMatrix((rot.L ** 2).sum(0)[None, :], ["r_Ev"], fn)})
    if rot.klass == "oblique":
        res.matrices["r_Phi"] = NamedMatrix(rot.Phi, fn, fn)


# ----------------------------------------------------------------------------- predict
_PRED_OPTS = (Opt("regression", "reg", desc="regression scoring; the default after factor"),
              Opt("bartlett", "b", desc="Bartlett scoring"),
              Opt("score", "sc", desc="component scores after pca; the default"),
              Opt("norotated", "norot", desc="use unrotated results"),
              Opt("notable", "notab", desc="suppress the table of scoring coefficients"),
              Opt("format", "for", "string", None, "accepted for compatibility"))
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
_TYPES = ("byte", "int", "long", "float", "double")


def _new_names(body: str, maximum: int, kind: str) -> tuple[str, list[str]]:
    words = body.split()
    vtype = "float"
    if words and words[0] in _TYPES:
        vtype = words.pop(0)
    if not words:
        raise StataError("varlist required", 100)
    if len(words) == 1 and words[0].endswith("*"):
        stub = words[0][:-1]
        names = [f"{stub}{i}" for i in range(1, maximum + 1)]
    else:
        names = words
    if len(names) > maximum:
        what = "factors" if kind == "factor" else "components"
        raise StataError(f"too many variables specified\nonly {maximum} {what} available", 103)
    for nm in names:
        if not _NAME.match(nm) or "*" in nm:
            raise StataError(f"{nm} invalid name", 198)
    return vtype, names


def _check_predict_options(st, opts) -> None:
    if st.kind == "factor" and opts.score:
        raise StataError("option score not allowed", 198)
    if st.kind == "pca" and (opts.regression or opts.bartlett):
        raise StataError(f"option {'regression' if opts.regression else 'bartlett'} not allowed", 198)
    if opts.regression and opts.bartlett:
        raise StataError("options regression and bartlett may not be combined", 198)


def _check_new(session, st, names) -> None:
    for nm in names:
        if nm in session.data:
            raise StataError(f"variable {nm} already defined", 110)
    if len(set(names)) != len(names):
        raise StataError(f"variable {names[0]} already defined", 110)
    missing = [v for v in st.names if v not in session.data]
    if missing:
        raise StataError(f"variable {missing[0]} not found", 111)


def _predict_notes(out, st, opts, names) -> None:
    if st.kind == "factor" and not (opts.regression or opts.bartlett):
        out.line("(regression scoring assumed)")
    if st.kind == "pca" and not opts.score:
        out.line("(score assumed)")
    if st.kind == "pca" and len(names) < st.f:
        skipped = st.f - len(names)
        out.line(f"({skipped} component{'s' if skipped != 1 else ''} skipped)")


def predict_scores(session, cmd, res, opts_any) -> None:
    """predict after factor (regression/Bartlett scores) and pca (component scores)."""
    from hlmshell.commands.predict import _touse

    opts = bind_options(_PRED_OPTS, cmd.options)
    st = res.model
    _check_predict_options(st, opts)
    rot = None if opts.norotated else st.rotation
    kmax = st.f if rot is None else rot.L.shape[1]
    if kmax < 1:
        raise StataError("no factors retained", 198)
    vtype, names = _new_names(cmd.body or "", kmax, st.kind)
    _check_new(session, st, names)
    W, label = scoring(st, rot, "bartlett" if opts.bartlett else "regression")
    out = session.out
    _predict_notes(out, st, opts, names)
    if not opts.notable:
        out.line("")
        out.line(label)
        out.line("")
        fd.matrix_table(out, st.names, st.factor_names(W.shape[1]), W, fmtspec="%9.5f")
    X = np.column_stack([np.asarray(session.data.var(v).values, dtype=float) for v in st.names])
    scale = st.sds if not (st.kind == "pca" and st.extra.get("covariance")) else np.ones(len(st.names))
    S = ((X - st.means) / scale) @ W
    touse = _touse(session, cmd) & ~np.isnan(X).any(1)
    for j, nm in enumerate(names):
        vals = to_storage(np.where(touse, S[:, j], np.nan), vtype)
        what = "factor" if st.kind == "factor" else "component"
        session.data.add(Variable(nm, vals, vtype, label=f"Scores for {what} {j + 1}"))


def scoring(st, rot, method: str) -> tuple[np.ndarray, str]:
    """Scoring coefficients for standardized variables and the table's title."""
    from hlmshell.engine.factor import scoring_coefficients

    if st.kind == "pca":
        W = st.L[:, :st.f] if rot is None else rot.L
        return W, "Scoring coefficients\n    sum of squares(column-loading) = 1"
    L = st.L if rot is None else rot.L
    Phi = None if rot is None else rot.Phi
    W = scoring_coefficients(st.R, L, st.psi, Phi, method)
    based = "" if rot is None else f"; based on {rot.criterion} rotated factors"
    return W, f"Scoring coefficients (method = {method}{based})"


def _register() -> None:
    from hlmshell.commands.predict import PREDICTORS
    PREDICTORS["factor"] = predict_scores
    PREDICTORS["pca"] = predict_scores


_register()


# ----------------------------------------------------------------------------- estat
def estat_kmo(session, res, opts) -> None:
    from hlmshell.engine.factor import kmo
    from hlmshell.results import RResults

    res = factor_or_pca(session) if res is None or res.cmd not in ("factor", "pca") else res
    st = res.model
    try:
        per, overall = kmo(st.R)
    except np.linalg.LinAlgError:
        raise StataError("correlation matrix is singular", 506) from None
    out = session.out
    out.line("")
    out.line("Kaiser-Meyer-Olkin measure of sampling adequacy")
    out.line("")
    fd.column_table(out, st.names, per, "kmo", overall=overall)
    session.r = RResults(scalars={"kmo": overall},
                         matrices={"kmow": NamedMatrix(per[:, None], st.names, ["kmo"])})


def estat_smc(session, res, opts) -> None:
    from hlmshell.engine.factor import smc
    from hlmshell.results import RResults

    res = factor_or_pca(session) if res is None or res.cmd not in ("factor", "pca") else res
    st = res.model
    try:
        v = smc(st.R)
    except np.linalg.LinAlgError:
        raise StataError("correlation matrix is singular", 506) from None
    out = session.out
    out.line("")
    out.line("Squared multiple correlations of variables with all other variables")
    out.line("")
    fd.column_table(out, st.names, v, "smc")
    session.r = RResults(matrices={"smc": NamedMatrix(v[:, None], st.names, ["smc"])})


def estat_loadings(session, res, opts) -> None:
    from hlmshell.results import RResults

    res = factor_or_pca(session) if res is None or res.cmd not in ("factor", "pca") else res
    st = res.model
    if st.kind != "pca":
        raise StataError("estat loadings is only allowed after pca", 321)
    cnorm = (opts.raw("cnorm") or "unit").strip().lower() if "cnorm" in opts else "unit"
    if cnorm not in ("unit", "eigen", "inveigen"):
        raise StataError("option cnorm() invalid", 198)
    ev = np.clip(st.ev[:st.f], 1e-300, None)
    scale = {"unit": np.ones(st.f), "eigen": np.sqrt(ev), "inveigen": 1 / np.sqrt(ev)}[cnorm]
    A = st.L[:, :st.f] * scale
    note = {"unit": "sum of squares(column) = 1", "eigen": "sum of squares(column) = eigenvalue",
            "inveigen": "sum of squares(column) = 1/eigenvalue"}[cnorm]
    out = session.out
    out.line("")
    out.line("Principal component loadings (unrotated)")
    out.line(f"    component normalization: {note}")
    out.line("")
    fd.matrix_table(out, st.names, st.factor_names(), A)
    session.r = RResults(macros={"cnorm": cnorm},
                         matrices={"A": NamedMatrix(A, st.names, st.factor_names())})


# ----------------------------------------------------------------------------- screeplot
@command("screeplot", abbrev="screeplot", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="scree plot of eigenvalues after factor or pca",
         example="screeplot, yline(1)")
def screeplot(session, cmd):
    _scree(session, cmd)


@command("scree", abbrev="scree", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="synonym for screeplot", example="scree")
def scree(session, cmd):
    _scree(session, cmd)


def _scree(session, cmd) -> None:
    from hlmshell.commands import graph_common as gc
    from hlmshell.graphics.model import Graph, Panel, Series
    from hlmshell.syntax.ast import Command
    from hlmshell.syntax.parser import fill_qualifiers

    parsed = Command(name="screeplot")
    fill_qualifiers(parsed, cmd.body or "", allow_exp=False)
    if parsed.body.strip() or parsed.if_ is not None or parsed.in_ is not None or parsed.weight is not None:
        raise StataError("invalid syntax", 198)
    own, gopts = gc.split_options(parsed.options, {"mean": ("mean", False)})
    res = factor_or_pca(session)
    ev = np.asarray(res.model.ev, dtype=float)
    x = np.arange(1, len(ev) + 1, dtype=float)
    gc.check_finish(session, gopts)
    panel = Panel(series=[Series("connected", x, ev, label="Eigenvalues", style={"pstyle": 0})])
    if "mean" in own:
        panel.ylines.append(float(ev.mean()))
    graph = Graph(kind="twoway", panels=[panel])
    graph.legend.show = False
    graph.title = f"Scree plot of eigenvalues after {res.cmd}"
    gc.apply_text(graph, gopts)
    gc.apply_axes(graph, gopts, ("Number", None), ("Eigenvalues", None), None, None, session.data)
    gc.finish(session, graph, gopts, cmd.text)
