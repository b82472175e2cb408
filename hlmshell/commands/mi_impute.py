"""mi impute: fill in the missing values of registered imputed variables, M times.

    mi impute regress|pmm|logit|ologit|mlogit ivar [indepvars] [if] [, add(#) replace rseed(#)
              by(varlist) knn(#) double force noisily dots]
    mi impute mvn ivars [= indepvars] [if] [, ... burnin(#) burnbetween(#) saveptrace(fn[, replace])]
    mi impute chained (method[, knn(#)]) ivars [(method) ivars ...] [= indepvars] [if]
              [, ... burnin(#) savetrace(fn[, replace]) orderasis]

Only soft missing values (`.`) are imputed; `.a`-`.z` stay as they are in every imputation.
The models are in hlmshell.engine (mi_univariate, mi_mvn, mi_chained); this module reads the
command, builds each imputation's predictors (imputed predictors take imputation m's values),
writes the imputations back into the mi data and prints Stata's summary table. Indepvars may
use `i.var` (indicators of var's levels, the lowest as base).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hlmshell.commands import mi_data as mid
from hlmshell.commands._toolkit import varlist
from hlmshell.commands.mi_setup import _BaseView, parse
from hlmshell.data.missing import missing_code
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import Opt, abbrev_match
from hlmshell.syntax.lexer import find_top, matching_paren

_UNIVARIATE = (("regress", "reg"), ("pmm", "pmm"), ("logit", "logi"), ("ologit", "olog"),
               ("mlogit", "mlog"))
_TITLES = {"regress": "Linear regression", "pmm": "Predictive mean matching",
           "logit": "Logistic regression", "ologit": "Ordered logistic regression",
           "mlogit": "Multinomial logistic regression", "mvn": "Multivariate normal regression",
           "chained": "Chained equations"}
_OPTS = (Opt("add", "", "int"), Opt("replace"), Opt("rseed", "", "string"), Opt("double"),
         Opt("by", "", "string"), Opt("dots"), Opt("noisily", "noi"), Opt("nolegend", "nolegend"),
         Opt("force"), Opt("noupdate"), Opt("knn", "", "int"), Opt("burnin", "", "int"),
         Opt("burnbetween", "", "int"), Opt("saveptrace", "", "string"), Opt("savetrace", "", "string"),
         Opt("prior", "", "string"), Opt("orderasis"), Opt("emoutput"), Opt("nomcmcdots"),
         Opt("alldots"), Opt("chaindots"), Opt("augment", "aug"))


@dataclass
class Spec:
    method: str
    ivars: list[str]
    methods: list[tuple[str, int]] = field(default_factory=list)   # per ivar (chained)
    indep: list[str] = field(default_factory=list)                  # tokens (i.x allowed)
    mask: np.ndarray | None = None
    opts: object = None
    augment: set = field(default_factory=set)                       # ivars fitted with augment


# ============================================================================ parsing
def _method(word: str, allowed) -> str:
    for full, mn in allowed:
        if abbrev_match(word, full, mn):
            return full
    raise StataError(f"mi impute: method {word} not allowed" if word else "method required", 198)


def _sample(session, md, cmd) -> np.ndarray:
    """The if/in restriction on the m = 0 data."""
    from hlmshell.commands._toolkit import touse
    saved = session.data
    session.data = md.base
    try:
        return touse(session, cmd)
    finally:
        session.data = saved


def parse_spec(session, md, text: str) -> Spec:
    word, _, rest = text.strip().partition(" ")
    method = _method(word, _UNIVARIATE + (("mvn", "mvn"), ("chained", "chain"),
                                          ("monotone", "mon"), ("truncreg", "truncreg"),
                                          ("poisson", "pois"), ("nbreg", "nbreg"), ("intreg", "intreg")))
    if method in ("monotone", "truncreg", "poisson", "nbreg", "intreg"):
        raise StataError(f"mi impute {method} is not available in hlmshell; use regress, pmm, "
                         "logit, ologit, mlogit, mvn or chained", 198)
    if method == "chained":
        return _parse_chained(session, md, rest)
    comma = find_top(rest, ",")
    main, opt_text = (rest, "") if comma < 0 else (rest[:comma], rest[comma:])
    eq = find_top(main, "=")
    if eq >= 0:
        lhs, rhs = main[:eq], main[eq + 1:]
    else:
        lhs, rhs = main, ""
    cmd, opts = parse(rhs + opt_text if eq >= 0 else main + opt_text, _OPTS)
    view = _BaseView(md.base)
    if eq >= 0:
        ivars = varlist(view, lhs, all_if_empty=False)
        indep = cmd.body.split()
    else:
        words = cmd.body.split()
        if not words:
            raise StataError("varlist required", 100)
        if method == "mvn":
            ivars, indep = varlist(view, " ".join(words), all_if_empty=False), []
        else:
            ivars, indep = varlist(view, words[0], all_if_empty=False), words[1:]
    if not ivars:
        raise StataError("varlist required", 100)
    if method != "mvn" and len(ivars) != 1:
        raise StataError(f"mi impute {method}: only one imputation variable allowed", 103)
    if opts.knn is not None and method != "pmm":
        raise StataError("option knn() not allowed", 198)
    if opts.knn is not None and opts.knn < 1:
        raise StataError("knn() must be a positive integer", 198)
    if opts.augment and method not in ("logit", "ologit", "mlogit"):
        raise StataError("option augment not allowed", 198)
    spec = Spec(method, ivars, [(method, opts.knn or 1)] * len(ivars), _expand_indep(view, indep), None, opts)
    spec.augment = set(ivars) if opts.augment else set()
    spec.mask = _sample(session, md, cmd)
    return spec


def _expand_indep(view, tokens: list[str]) -> list[str]:
    out = []
    for t in tokens:
        if t.lower().startswith("i."):
            out += [f"i.{v}" for v in varlist(view, t[2:], all_if_empty=False)]
        else:
            out += varlist(view, t, all_if_empty=False)
    return out


def _chained_groups(view, s: str):
    """`(method[, knn(#)]) varlist ...` -> (methods per ivar, ivars, where the groups end)."""
    pos = 0
    methods: list[tuple[str, int]] = []
    ivars: list[str] = []
    augmented: set = set()
    while s[pos:].lstrip().startswith("("):
        pos = len(s) - len(s[pos:].lstrip())
        close = matching_paren(s, pos)
        if close < 0:
            raise syntax_error()
        head, _, uvopts = s[pos + 1:close].partition(",")
        words = head.split()
        meth = _method(words[0] if words else "", _UNIVARIATE)
        if len(words) > 1:
            raise StataError("mi impute chained: conditional imputation (if within a method) is not "
                             "available in hlmshell", 198)
        knn, aug = _uv_opts(uvopts)
        if "knn" in uvopts and meth != "pmm":
            raise StataError("option knn() not allowed", 198)
        if aug and meth not in ("logit", "ologit", "mlogit"):
            raise StataError("option augment not allowed", 198)
        stops = [i for i in (s.find("(", close + 1), find_top(s, "=", close + 1),
                             find_top(s, ",", close + 1)) if i > close]
        end = min(stops) if stops else len(s)
        names_text = s[close + 1:end].split(" if ")[0]
        names = varlist(view, names_text, all_if_empty=False)
        if not names:
            raise StataError("varlist required", 100)
        ivars += names
        methods += [(meth, knn)] * len(names)
        augmented.update(names if aug else ())
        pos = end
    if not ivars:
        raise StataError("mi impute chained: (method) varlist required", 198)
    return methods, ivars, pos, augmented


def _parse_chained(session, md, text: str) -> Spec:
    view = _BaseView(md.base)
    s = text.strip()
    methods, ivars, pos, augmented = _chained_groups(view, s)
    rest = s[pos:]
    comma = find_top(rest, ",")
    main, opt_text = (rest, "") if comma < 0 else (rest[:comma], rest[comma:])
    eq = find_top(main, "=")
    rhs = main[eq + 1:] if eq >= 0 else main
    if eq < 0 and rhs.strip() and not rhs.strip().startswith(("if", "in")):
        raise syntax_error()
    cmd, opts = parse(rhs + opt_text, _OPTS)
    indep = _expand_indep(view, cmd.body.split()) if eq >= 0 else []
    spec = Spec("chained", ivars, methods, indep, None, opts)
    spec.augment = augmented | ({v for v, (mth, _) in zip(ivars, methods)
                                 if mth in ("logit", "ologit", "mlogit")} if opts.augment else set())
    spec.mask = _sample(session, md, cmd)
    return spec


def _uv_opts(text: str) -> tuple[int, bool]:
    """A chained equation's own options: knn(#) (pmm), augment, noisily -> (knn, augment)."""
    import re
    knn, augment = 1, False
    for tok in re.findall(r"\w+(?:\([^)]*\))?", text):
        m = re.fullmatch(r"knn\(\s*(\d+)\s*\)", tok)
        if m:
            knn = max(int(m.group(1)), 1)
        elif re.fullmatch(r"aug(m(e(n(t)?)?)?)?", tok):
            augment = True
        elif not re.fullmatch(r"noi(s(i(l(y)?)?)?)?", tok):
            raise StataError(f"option {tok} not allowed", 198)
    return knn, augment


# ============================================================================ predictors
def _indep_matrix(md, m: int, indep: list[str], rows: np.ndarray) -> np.ndarray:
    cols = []
    for t in indep:
        if t.startswith("i."):
            v = md.values(m, t[2:])[rows]
            levels = np.unique(md.base.values(t[2:])[~np.isnan(md.base.values(t[2:]))])
            cols += [(v == lv).astype(float) for lv in levels[1:]]
        else:
            if md.base.var(t).is_string:
                raise StataError(f"string variables not allowed in varlist;\n{t} is a string variable", 109)
            cols.append(np.asarray(md.values(m, t), dtype=float)[rows])
    return np.column_stack(cols) if cols else np.zeros((len(rows), 0))


def _check(md, spec: Spec) -> None:
    for v in spec.ivars:
        if v not in md.ivars:
            raise StataError(f"mi impute: variable {v} not registered as imputed; see mi register", 459)
        if md.base.var(v).is_string:
            raise StataError(f"{v}: string imputation variables are not allowed", 109)
    if len(set(spec.ivars)) != len(spec.ivars):
        raise StataError("mi impute: an imputation variable is specified more than once", 198)
    for t in spec.indep:
        name = t[2:] if t.startswith("i.") else t
        if name in spec.ivars:
            raise StataError(f"mi impute: {name} may not be both imputed and an independent variable", 198)


# ============================================================================ the command
def _check_options(md, spec) -> int:
    """Stata's checks of add()/replace and the method-specific options; returns add()."""
    opts = spec.opts
    if opts.prior is not None and opts.prior.strip().lower() not in ("uniform", "u", "un", "uni"):
        raise StataError("mi impute mvn: only prior(uniform) is available in hlmshell", 198)
    add = opts.add or 0
    if md.M == 0 and not add:
        raise StataError("mi impute: no imputations exist; option add() required", 198)
    if md.M > 0 and not add and not opts.replace:
        raise StataError("mi impute: imputations exist; option add() or replace required", 198)
    if add < 0 or add > 1000:
        raise StataError("add() must be between 1 and 1000", 198)
    own = {"saveptrace": ("mvn",), "burnbetween": ("mvn",), "prior": ("mvn",),
           "savetrace": ("chained",), "orderasis": ("chained",), "burnin": ("mvn", "chained")}
    for name, methods in own.items():
        if name in opts and spec.method not in methods:
            raise StataError(f"option {name}{'' if name == 'orderasis' else '()'} not allowed", 198)
    for raw, ext in ((opts.saveptrace, ".stptrace"), (opts.savetrace, ".dta")):
        if raw is not None:
            _file_option(raw, ext)          # an existing file without replace fails first
    return add


def impute_cmd(session, text: str) -> None:
    mid.require_set(session)
    md = mid.read(session.data)
    spec = parse_spec(session, md, text)
    _check(md, spec)
    opts = spec.opts
    add = _check_options(md, spec)
    if opts.rseed is not None:
        from hlmshell.commands.simulate import set_seed
        set_seed(session, opts.rseed)
    targets = (list(range(1, md.M + 1)) if opts.replace else []) + list(range(md.M + 1, md.M + add + 1))
    old_M = md.M
    for _ in range(add):
        md.imps.append({})
    md.M += add
    if opts.double:
        for v in spec.ivars:
            md.base.update(v, vtype="double", format=md.base.var(v).format)
    if opts.noisily and spec.method not in ("mvn", "chained"):
        _show_model(session, md, spec)
    groups = _by_groups(session, md, opts.by, spec.mask)
    traces = [t for t in (_impute_rows(session, md, spec, rows, targets, old_M) for rows in groups)
              if t is not None]
    _force_check(md, spec, targets, opts.force)
    mid.store(session, md)
    _report(session, md, spec, targets, old_M, traces)
    _save_traces(session, spec, traces)


def _show_model(session, md, spec) -> None:
    """noisily: the imputation model fitted to the observed data, as Stata shows it first."""
    from hlmshell.commands.mi_manage import run_on

    method = spec.methods[0][0]
    cmd = "regress" if method == "pmm" else method
    ds = mid.dataset_m(md, 0)
    ds.take(np.flatnonzero(spec.mask))
    session.out.line()
    session.out.line(f"Running {cmd} on observed data:")
    saved = session.e, session.estimation_serial
    try:
        run_on(session, ds, f"{cmd} {spec.ivars[0]} {' '.join(spec.indep)}", quiet=False)
    finally:
        session.e, session.estimation_serial = saved


def _by_groups(session, md, by_text, mask):
    if by_text is None:
        return [np.flatnonzero(mask)]
    names = varlist(_BaseView(md.base), by_text.partition(",")[0], all_if_empty=False)
    if not names:
        raise StataError("option by() invalid", 198)
    keys = [md.base.values(v) for v in names]
    rows = np.flatnonzero(mask)
    groups: dict = {}
    for r in rows:
        groups.setdefault(tuple(str(k[r]) for k in keys), []).append(r)
    return [np.array(g) for _, g in sorted(groups.items())]


def _soft_missing(md, v, rows) -> np.ndarray:
    return missing_code(md.base.values(v)[rows]) == 0


def _impute_rows(session, md, spec: Spec, rows: np.ndarray, targets, old_M):
    """Impute the ivars on these observations into every target imputation; returns the
    multivariate run (its trace) or None."""
    soft = np.column_stack([_soft_missing(md, v, rows) for v in spec.ivars])
    if spec.method in ("mvn", "chained"):
        return _impute_multi(session, md, spec, rows, targets, soft)
    _impute_uni(session, md, spec, rows, targets, soft[:, 0])
    return None


def _impute_multi(session, md, spec, rows, targets, soft):
    """mvn / chained: one run of the engine over the observations whose predictors and other
    values are usable (missing predictors or a hard missing value leave the row out)."""
    from hlmshell.engine import mi_chained, mi_mvn

    X0 = _indep_matrix(md, 0, spec.indep, rows)
    ok = ~np.isnan(X0).any(axis=1) if X0.shape[1] else np.ones(len(rows), bool)
    raw = np.column_stack([md.base.values(v)[rows] for v in spec.ivars])
    Y = np.where(soft, np.nan, raw)
    use = ok & ~(~soft & np.isnan(raw)).any(axis=1)
    try:
        if spec.method == "mvn":
            run = mi_mvn.impute(Y[use], X0[use], len(targets), session.rng,
                                burnin=_pos(spec.opts.burnin, 100, "burnin"),
                                burnbetween=_pos(spec.opts.burnbetween, 100, "burnbetween"),
                                keep_trace=spec.opts.saveptrace is not None)
        else:
            eqs = [mi_chained.Equation(mth, knn, v in spec.augment)
                   for v, (mth, knn) in zip(spec.ivars, spec.methods)]
            run = mi_chained.impute(Y[use], X0[use], eqs, len(targets), session.rng,
                                    burnin=_pos(spec.opts.burnin, 10, "burnin"),
                                    keep_trace=spec.opts.savetrace is not None,
                                    orderasis=spec.opts.orderasis)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise StataError(f"mi impute {spec.method}: {exc}", 498) from None
    for t, Yc in zip(targets, run.imputations):
        for j, v in enumerate(spec.ivars):
            col = np.array(md.values(t, v), dtype=float, copy=True)
            col[rows[use & soft[:, j]]] = Yc[soft[use, j], j]
            md.imps[t - 1][v] = col
    return run


def _impute_uni(session, md, spec, rows, targets, miss) -> None:
    """One variable, one fit per target imputation (imputed predictors take its values)."""
    from hlmshell.engine import mi_univariate as uni

    v = spec.ivars[0]
    method, knn = spec.methods[0]
    fn = uni.METHODS[method]
    kw = {"knn": knn} if method == "pmm" else \
        {"augment": v in spec.augment} if method in ("logit", "ologit", "mlogit") else {}
    y = md.base.values(v)[rows]
    for t in targets:
        X = _indep_matrix(md, t, spec.indep, rows)
        ok = ~np.isnan(X).any(axis=1) if X.shape[1] else np.ones(len(rows), bool)
        sub = ok & (miss | ~np.isnan(y))
        try:
            vals = fn(y[sub], X[sub], miss[sub], session.rng, **kw)
        except uni.ImputeError as exc:
            raise StataError(f"mi impute {method}: {exc}", 498) from None
        except (ValueError, np.linalg.LinAlgError):
            raise StataError(f"mi impute {method}: the imputation model could not be fitted", 498) from None
        col = np.array(md.values(t, v), dtype=float, copy=True)
        col[rows[sub & miss]] = vals
        md.imps[t - 1][v] = col


def _pos(value, default: int, name: str) -> int:
    if value is None:
        return default
    if value < 1:
        raise StataError(f"{name}() must be a positive integer", 198)
    return int(value)


def _force_check(md, spec, targets, force: bool) -> None:
    """Stata refuses imputations that leave soft missing values in the imputation sample
    (missing predictors), unless force."""
    if force:
        return
    sample = spec.mask
    for v in spec.ivars:
        soft = (missing_code(md.base.values(v)) == 0) & sample
        for t in targets:
            left = soft & np.isnan(md.values(t, v))
            if left.any():
                raise StataError(f"mi impute: {int(left.sum())} missing imputed values produced in "
                                 f"variable {v}\n    This may occur when imputation variables are used "
                                 "as independent variables or when independent variables contain missing "
                                 "values. You can specify option force if you wish to proceed anyway.", 498)


# ============================================================================ output
def _report(session, md, spec, targets, old_M, traces) -> None:
    out = session.out
    added = sum(1 for t in targets if t > old_M)
    updated = len(targets) - added
    multi = spec.method in ("mvn", "chained")
    _preamble(out, spec)
    out.line()
    title = "Multivariate imputation" if multi else "Univariate imputation"
    first, last = (min(targets), max(targets)) if targets else (0, 0)
    out.line(f"{title:<44}Imputations = {md.M:>8}")
    out.line(f"{_TITLES[spec.method]:<50}added = {added:>8}")
    span = f"Imputed: m={first} through m={last}" if first != last else f"Imputed: m={first}"
    out.line(f"{span:<48}updated = {updated:>8}")
    if spec.method == "mvn":
        b = spec.opts.burnin or 100
        bb = spec.opts.burnbetween or 100
        out.line()
        out.line(f"{'Prior: uniform':<47}Iterations = {b + bb * max(len(targets) - 1, 0):>8}")
        out.line(f"{'':<50}burn-in = {b:>8}")
        out.line(f"{'':<50}between = {bb:>8}")
    elif spec.method == "chained":
        b = spec.opts.burnin or 10
        out.line()
        out.line(f"{'Initialization: monotone':<47}Iterations = {b * len(targets):>8}")
        out.line(f"{'':<50}burn-in = {b:>8}")
        out.line()
        for v, (mth, _) in zip(spec.ivars, spec.methods):
            out.line(f"{v:>17}: {_TITLES[mth].lower()}")
    out.line()
    rule = "-" * 66
    out.line(rule)
    out.line(f"{'':19}|{'':15}Observations per m{'':13}")
    out.line(f"{'':19}|{'-' * 46}")
    out.line(f"{'Variable':>18} |   Complete   Incomplete   Imputed |     Total")
    out.line("-" * 19 + "+" + "-" * 35 + "+" + "-" * 10)
    r = session.r.__class__()
    for v in spec.ivars:
        soft = (missing_code(md.base.values(v)) == 0) & spec.mask
        inc = int(soft.sum())
        total = int(spec.mask.sum())
        imputed = min((int((soft & ~np.isnan(md.values(t, v))).sum()) for t in targets), default=0)
        out.line(f"{v:>18} | {total - inc:>10,} {inc:>12,} {imputed:>9,} | {total:>9,}")
    out.line(rule)
    out.line("(Complete + Incomplete = Total; Imputed is the minimum across m")
    out.line(" of the number of filled-in observations.)")
    r.scalars.update({"M": md.M, "M_add": added, "M_update": updated})
    r.macros.update({"method": spec.method, "ivars": " ".join(spec.ivars)})
    session.r = r


def _preamble(out, spec) -> None:
    """What Stata prints before the table: the conditional models of chained equations, and
    the algorithm being run."""
    if spec.method == "chained":
        out.line()
        out.line("Conditional models:")
        cat = {v for v, (mth, _) in zip(spec.ivars, spec.methods) if mth in ("ologit", "mlogit")}
        for v, (mth, knn) in zip(spec.ivars, spec.methods):
            others = [f"i.{o}" if o in cat else o for o in spec.ivars if o != v]
            rhs = " ".join(others + spec.indep)
            extra = f", knn({knn})" if mth == "pmm" and knn != 1 else ""
            out.line(f"{v:>17}: {mth} {v} {rhs}{extra}".rstrip())
        out.line()
        out.line("Performing chained iterations ...")
    elif spec.method == "mvn":
        out.line()
        out.line("Performing MCMC data augmentation ... ")


def _file_option(raw: str, ext: str) -> tuple[str, bool]:
    name, _, sub = raw.partition(",")
    name = name.strip().strip('"')
    if not name:
        raise syntax_error()
    rep = sub.strip()
    if rep and not abbrev_match(rep, "replace", "replace"):
        raise StataError(f"option {rep} not allowed", 198)
    from pathlib import Path
    if not Path(name).suffix:
        name += ext
    if Path(name).exists() and not rep:
        raise StataError(f"file {name} already exists", 602)
    return name, bool(rep)


def _save_traces(session, spec, traces) -> None:
    from hlmshell.commands.mi_ptrace import chained_trace, mvn_trace
    from hlmshell.data.dta import write_dta

    opts = spec.opts
    if spec.method == "mvn" and opts.saveptrace is not None and traces:
        name, _ = _file_option(opts.saveptrace, ".stptrace")
        write_dta(mvn_trace(traces[0], spec), name)
    if spec.method == "chained" and opts.savetrace is not None and traces:
        name, _ = _file_option(opts.savetrace, ".dta")
        write_dta(chained_trace(traces[0], spec), name)
