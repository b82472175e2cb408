"""mi estimate [, options]: estimation_command -- fit the model on each imputation and combine
the estimates by Rubin's rules (hlmshell.engine.mi_combine), in Stata 17's layout:

    Multiple-imputation estimates                   Imputations       =         20
    Linear regression                               Number of obs     =        154
                                                    Average RVI       =     0.0312
                                                    Largest FMI       =     0.1355
                                                    Complete DF       =        150
    DF adjustment:   Small sample                   DF:     min       =      92.71
                                                            avg       =     115.41
                                                            max       =     140.54
    Model F test:       Equal FMI                   F(   2,  142.6)   =       5.02
    Within VCE type:          OLS                   Prob > F          =     0.0078

then the coefficient table with t, P>|t| and the interval from each coefficient's own degrees
of freedom (equations as in e(b): a mixed model's lns1_1_1 and lnsig_e are combined in their
estimation metric). The small-sample (Barnard-Rubin) degrees of freedom are used when the
command leaves e(df_r) (regress, xtreg, fe, areg), unless nosmall.

Options: imputations(numlist) nimputations(#) level(#) dots noisily post vartable dftable
nosmall saving(miestfile[, replace]) (and errorok, esampvaryok, cmdok, nogroup accepted).
saving() keeps each imputation's e() in miestfile.ster (results/mi_ster.py);
`mi estimate using miestfile [, options]` combines them again without refitting. e(b) and e(V) hold the combined
estimates (as with Stata's post); b_mi, V_mi, W_mi, B_mi, re_mi, fmi_mi, df_mi the details.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import mi_data as mid
from hlmshell.commands.mi_manage import _numlist, run_on
from hlmshell.errors import StataError, syntax_error
from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.registry import Opt
from hlmshell.results import EstimationResults

_OPTS = (Opt("imputations", "i", "string"), Opt("nimputations", "ni", "int"), Opt("level", "l", "real", None),
         Opt("dots"), Opt("noisily", "noi"), Opt("trace", "tr"), Opt("post"), Opt("vartable", "vart"),
         Opt("dftable", "dftab"), Opt("citable", "citab"), Opt("nocitable", "nocitab"), Opt("nosmall"),
         Opt("esampvaryok"), Opt("cmdok"), Opt("nogroup", "nogr"), Opt("noheader"), Opt("notable"),
         Opt("noupdate"), Opt("nowarning"),
         # the reporting options Stata's mi estimate takes: exponentiated first equation, base levels
         Opt("or"), Opt("irr"), Opt("rrr"), Opt("hr"), Opt("eform", "eform", "string", None),
         Opt("baselevels", "base"), Opt("allbaselevels", "allbase"), Opt("nofvlabel"),
         Opt("saving", "sav", "string"))

_EFORM_TITLES = (("or", "Odds ratio"), ("irr", "IRR"), ("rrr", "RRR"), ("hr", "Haz. ratio"))


def eform_title(opts) -> str | None:
    """The first column's title when a reporting option asks for exponentiated coefficients."""
    for name, title in _EFORM_TITLES:
        if getattr(opts, name, False):
            return title
    if "eform" in opts:
        text = (opts.eform or "").strip().strip('"')
        return text[:11] if text else "exp(b)"
    return None

# estimation commands mi estimate runs (Stata's list, restricted to what hlmshell has)
SUPPORTED = {"regress", "logit", "logistic", "probit", "cloglog", "poisson", "nbreg", "ologit",
             "oprobit", "glm", "areg", "mixed", "xtmixed", "xtreg", "xtlogit", "xtprobit",
             "xtpoisson", "xtgee", "melogit", "meprobit", "mecloglog", "mepoisson", "menbreg",
             "meologit", "meoprobit", "meglm", "meqrlogit", "meqrpoisson", "xtmelogit", "xtmepoisson",
             "mean", "proportion", "stcox", "streg", "tobit", "intreg", "mlogit", "mprobit",
             "ivregress", "xtnbreg", "xttobit", "xtologit", "xtoprobit", "binreg", "qreg", "ratio",
             "total", "truncreg", "cnsreg", "heckman", "zip", "zinb", "gnbreg", "clogit"}
_VCE_NAMES = {"ols": "OLS", "oim": "OIM", "opg": "OPG", "conventional": "Conventional", "eim": "EIM",
              "robust": "Robust", "cluster": "Robust", "gls": "GLS"}


def _split(text: str) -> tuple[str, str, str]:
    from hlmshell.commands.statsby import split_body
    return split_body(text)


def _which(md, opts) -> list[int]:
    if md.M < 2:
        raise StataError("mi estimate: insufficient imputations; at least 2 are required" if md.M
                         else "no imputations", 2000)
    if opts.imputations is not None and opts.nimputations is not None:
        raise StataError("only one of imputations() or nimputations() is allowed", 198)
    if opts.imputations is not None:
        ms = sorted(set(_numlist(opts.imputations, md.M)))
        if 0 in ms:
            raise StataError("imputations(): 0 out of range; m must be between 1 and %d" % md.M, 125)
    elif opts.nimputations is not None:
        if not 1 <= opts.nimputations <= md.M:
            raise StataError(f"nimputations() must be between 1 and {md.M}", 198)
        ms = list(range(1, opts.nimputations + 1))
    else:
        ms = list(range(1, md.M + 1))
    if len(ms) < 2:
        raise StataError("mi estimate: at least 2 imputations are required", 2001)
    return ms


def estimate_cmd(session, text: str) -> None:
    from hlmshell.registry import bind_options
    from hlmshell.syntax.lexer import find_top
    from hlmshell.syntax.parser import parse_options

    if find_top(text, ":") < 0:
        head = text.strip()
        if head.split(None, 1)[:1] == ["using"]:
            return using_cmd(session, head[len("using"):])
        if head and not head.startswith(","):
            raise syntax_error()
        return replay(session, head[1:])
    spec, opt_text, inner = _split(text)
    if spec.strip():
        raise StataError("mi estimate: transformations (spec) are not available in hlmshell", 198)
    opts = bind_options(_OPTS, parse_options(opt_text), strict=True)
    mid.require_set(session)
    md = mid.read(session.data)
    ms = _which(md, opts)
    from hlmshell.commands.simulate import command_name
    name = command_name(inner)
    if name not in SUPPORTED and not opts.cmdok:
        raise StataError(f"mi estimate: command {name} is not supported by mi estimate", 199)
    target = _saving_target(opts.raw("saving"))
    fits = _run_all(session, md, ms, inner, opts)
    level = opts.level if opts.level is not None else session.settings.get("level", 95.0)
    res = _combine(fits, ms, inner, opts, level)
    if target is not None:
        _save_fits(target, ms, fits, inner)
    session.post_estimation(res)
    _display(session, res, level, opts)


def _saving_target(text: str | None):
    """saving(miestfile[, replace]): the .ster path, checked before anything is fitted."""
    if text is None:
        return None
    from hlmshell.data.locate import file_spec, target_path
    from hlmshell.syntax.lexer import find_top
    i = find_top(text, ",")
    name, sub = (text, "") if i < 0 else (text[:i], text[i + 1:])
    if sub.strip() and sub.strip().lower() != "replace":
        raise StataError("option saving() incorrectly specified", 198)
    fname = file_spec(name)
    if not fname:
        raise StataError("option saving() incorrectly specified", 198)
    path = target_path(fname, ".ster")
    if path.exists() and not sub.strip():
        raise StataError(f"file {path} already exists", 602)
    return path


def _save_fits(path, ms, fits, inner) -> None:
    from hlmshell.results import mi_ster
    try:
        raw = mi_ster.dumps(mi_ster.MiEstimates(list(ms), list(fits), inner))
    except Exception:  # noqa: BLE001 - a result holding something unpicklable: say so
        raise StataError("mi estimate: these results cannot be saved to a file", 498) from None
    try:
        path.write_bytes(raw)
    except OSError:
        raise StataError(f"file {path} could not be opened", 603) from None


def using_cmd(session, text: str) -> None:
    """mi estimate using miestfile [, options]: Rubin's rules on the fits saving() kept, for
    all or imputations()/nimputations() of them."""
    from hlmshell.commands.estimates import read_ster
    from hlmshell.registry import bind_options
    from hlmshell.results import mi_ster
    from hlmshell.syntax.lexer import find_top
    from hlmshell.syntax.parser import parse_options

    i = find_top(text, ",")
    name, opt_text = (text, "") if i < 0 else (text[:i], text[i + 1:])
    opts = bind_options(_OPTS, parse_options(opt_text), strict=True)
    for bad in ("saving", "dots", "noisily", "trace", "cmdok", "esampvaryok"):
        if bad in opts:
            raise StataError(f"option {bad} not allowed", 198)
    raw, shown = read_ster(name)
    saved = mi_ster.loads(raw, shown)
    if opts.imputations is None and opts.nimputations is None:
        pick = list(saved.ms)
    else:
        pick = _which(mid.MiData(None, max(saved.ms)), opts)
    if any(m not in saved.ms for m in pick):
        missing = next(m for m in pick if m not in saved.ms)
        raise StataError(f"imputations(): estimation results for m={missing} not found in {shown}", 198)
    fits = [saved.fits[saved.ms.index(m)] for m in pick]
    level = opts.level if opts.level is not None else session.settings.get("level", 95.0)
    res = _combine(fits, pick, saved.cmdline, opts, level)
    session.post_estimation(res)
    _display(session, res, level, opts)


def _run_all(session, md, ms, inner, opts) -> list[EstimationResults]:
    out = session.out
    noisy = opts.noisily or opts.trace
    if opts.dots:
        out.line()
        out.line(f"Imputations ({len(ms)}):")
        out.write("  ")
    fits = []
    for k, m in enumerate(ms, 1):
        if noisy:
            out.line()
            out.line(f"Imputation {m}:")
        serial = session.estimation_serial
        session.e = None
        try:
            run_on(session, mid.dataset_m(md, m), inner, quiet=not noisy)
        except StataError as exc:
            if exc.message:
                out.line(exc.message)
            raise StataError(f"an error occurred when mi estimate executed {inner.split()[0]} on m={m}",
                             exc.rc or 198) from None
        if session.estimation_serial == serial or session.e is None:
            raise StataError(f"mi estimate: {inner.split()[0]} is not an estimation command", 199)
        fits.append(session.e)
        if opts.dots:
            out.write("." if k % 10 else f".{k}")
    if opts.dots:
        out.line(" done")
    return fits


def _check_same(fits, ms, opts) -> None:
    """The coefficients, and (unless esampvaryok) the estimation sample, must be the same in
    every imputation, as Stata requires."""
    names = list(fits[0].names)
    for f in fits[1:]:
        if list(f.names) != names:
            raise StataError("mi estimate: estimated coefficients vary across imputations; "
                             "check the model (omitted terms, base levels)", 459)
    if opts.esampvaryok:
        return
    first = fits[0].sample
    for m, f in zip(ms[1:], fits[1:]):
        if first is not None and f.sample is not None and len(first) == len(f.sample) \
                and not np.array_equal(np.asarray(first, bool), np.asarray(f.sample, bool)):
            raise StataError(f"mi estimate: estimation sample varies between m={ms[0]} and m={m}; "
                             "specify option esampvaryok to allow it", 459)


def _combine(fits, ms, inner, opts, level) -> EstimationResults:
    from hlmshell.engine import mi_combine

    _check_same(fits, ms, opts)
    first = fits[0]
    names = list(first.names)
    bs = np.array([np.asarray(f.b, dtype=float).ravel() for f in fits])
    Vs = np.array([np.asarray(f.V, dtype=float) for f in fits])
    df_r = first.scalars.get("df_r")
    small = df_r is not None and np.isfinite(df_r) and not opts.nosmall
    c = mi_combine.combine(bs, Vs, float(df_r) if small else None)
    omitted = np.asarray(first.omitted, dtype=bool) if first.omitted is not None else np.zeros(len(names), bool)
    active = ~omitted & (np.diag(c.W) > 0)
    k_f = first.k_f or len(names)
    test = mi_combine.equal_fmi_test(c, [i for i in range(k_f) if active[i] and names[i][1] != "_cons"])
    res = EstimationResults("mi estimate", names, c.b, c.V, omitted, first.k_f)
    _scalars(res, fits, c, active, test, len(ms), level, float(df_r) if small else None)
    _macros(res, first, inner, ms, small)
    row = lambda v: np.asarray(v, dtype=float).reshape(1, -1)   # noqa: E731
    res.matrices.update({"b_mi": row(c.b), "V_mi": c.V, "W_mi": c.W, "B_mi": c.B, "re_mi": row(c.rvi),
                         "fmi_mi": row(c.fmi), "df_mi": row(c.df)})
    res.model = c
    return res


def _scalars(res, fits, c, active, test, M, level, df_c) -> None:
    first = fits[0]
    Ns = [f.scalars.get("N", np.nan) for f in fits]
    res.scalars.update({"N": float(np.nanmin(Ns)), "N_mi": float(np.nanmin(Ns)), "M_mi": float(M),
                        "k_exp_mi": 0.0, "level": float(level)})
    dfs = c.df[active]
    if dfs.size:
        fin = dfs[np.isfinite(dfs)]
        res.scalars.update({"df_min_mi": float(dfs.min()), "df_max_mi": float(dfs.max()),
                            "df_avg_mi": float(fin.mean()) if fin.size == dfs.size else np.inf,
                            "rvi_avg_mi": _rvi_avg(c, active),
                            "fmi_max_mi": float(c.fmi[active].max())})
    if df_c is not None:
        res.scalars["df_c_mi"] = df_c
    if test is not None:
        res.scalars.update({"F_mi": test.F, "df_m_mi": float(test.df1), "df_r_mi": test.df2,
                            "p_mi": test.p, "rvi_avg_F_mi": test.rvi_avg})
    for key in ("N_g", "g_min", "g_avg", "g_max"):
        if key in first.scalars:
            res.scalars[key] = first.scalars[key]
        if key in first.matrices:
            res.matrices[key] = first.matrices[key]


def _rvi_avg(c, active) -> float:
    """Average RVI over the k estimated coefficients, Li, Raghunathan and Rubin's
    (1 + 1/M) tr(B W^-1) / k (the model test's r, over all coefficients)."""
    idx = np.flatnonzero(active)
    W = c.W[np.ix_(idx, idx)]
    B = c.B[np.ix_(idx, idx)]
    try:
        return float((1 + 1 / c.M) * np.trace(B @ np.linalg.inv(W)) / len(idx))
    except np.linalg.LinAlgError:
        return float(c.rvi[idx].mean())


def _macros(res, first, inner, ms, small) -> None:
    mac = first.macros
    vce = mac.get("vcetype") or _VCE_NAMES.get(mac.get("vce", ""), mac.get("vce", ""))
    res.macros.update({"cmd": "mi estimate", "cmd_mi": mac.get("cmd", first.cmd),
                       "cmdline_mi": inner, "depvar": mac.get("depvar", ""),
                       "title_mi": "Multiple-imputation estimates", "title": mac.get("title", ""),
                       "prefix": "mi estimate", "dfadjust_mi": "Small sample" if small else "Large sample",
                       "modeltest_mi": "Equal FMI", "wvce_mi": vce, "m_mi": " ".join(map(str, ms)),
                       "vce": mac.get("vce", ""), "properties": "b V",
                       "ivars": mac.get("ivars", mac.get("ivar", ""))})


# ============================================================================ display
def _right(label: str, value: str) -> str:
    return f"{label:<18}= {value:>10}"


def _fc(x: float, dec: int) -> str:
    if x is None or not np.isfinite(x):
        return "."
    for d in (dec, 0):
        s = f"{x:,.{d}f}"
        if len(s) <= 10:
            return s
    return fmt_g(x, 10).strip()


def _left(label: str, value: str) -> str:
    return f"{label}{value:>{29 - len(label)}}"


def _group_value(res, key):
    v = res.scalars.get(key)
    if v is None and key in res.matrices:
        arr = np.asarray(getattr(res.matrices[key], "values", res.matrices[key]), dtype=float).ravel()
        v = float(arr[0]) if arr.size == 1 else None
    return v


def _group_lines(res) -> list[tuple[str, str]]:
    """The group summary xt and mixed-effects commands show (one grouping variable; nogroup
    suppresses it): Group variable, Number of groups, Obs per group min/avg/max."""
    ivar = res.macros.get("ivars", "").split()
    vals = [_group_value(res, k) for k in ("N_g", "g_min", "g_avg", "g_max")]
    if len(ivar) != 1 or any(v is None for v in vals):
        return []
    n_g, lo, avg, hi = vals
    return [(f"Group variable: {ivar[0]}", _right("Number of groups", f"{int(n_g):,}")),
            ("", "Obs per group:"),
            ("", _right("              min", f"{int(lo):,}")),
            ("", _right("              avg", f"{avg:.1f}")),
            ("", _right("              max", f"{int(hi):,}"))]


def header_lines(res: EstimationResults, group: bool = True) -> list[str]:
    s, mac = res.scalars, res.macros
    lines = [("Multiple-imputation estimates", _right("Imputations", f"{int(s['M_mi']):,}")),
             (mac.get("title", ""), _right("Number of obs", f"{int(s['N']):,}"))]
    if group:
        lines += _group_lines(res)
    lines += [("", _right("Average RVI", fmt(s.get("rvi_avg_mi", np.nan), "%10.4f").strip())),
             ("", _right("Largest FMI", fmt(s.get("fmi_max_mi", np.nan), "%10.4f").strip()))]
    if "df_c_mi" in s:
        lines.append(("", _right("Complete DF", f"{int(s['df_c_mi']):,}")))
    lines += [(_left("DF adjustment:", f"  {mac['dfadjust_mi']}"), _right("DF:     min", _fc(s.get("df_min_mi"), 2))),
              ("", _right("        avg", _fc(s.get("df_avg_mi"), 2))),
              ("", _right("        max", _fc(s.get("df_max_mi"), 2)))]
    if "F_mi" in s:
        d2 = s["df_r_mi"]
        d2s = f"{d2:7.1f}" if np.isfinite(d2) and d2 < 99999.5 else fmt_g(d2, 7)
        lines.append((_left("Model F test:", "Equal FMI"),
                      _right(f"F({int(s['df_m_mi']):4d},{d2s:>7})", fmt(s["F_mi"], "%10.2f").strip())))
        lines.append((_left("Within VCE type:", mac.get("wvce_mi", "")),
                      _right("Prob > F", fmt(s["p_mi"], "%10.4f").strip())))
    else:
        lines.append((_left("Within VCE type:", mac.get("wvce_mi", "")), ""))
    return [f"{a:<48}{b}".rstrip() for a, b in lines]


def table_lines(res: EstimationResults, level: float, eform: str | None = None,
                baselevels: bool = False) -> list[str]:
    """The combined table; eform: the first equation exponentiated under that title."""
    from hlmshell.output import coeftable as ct
    from hlmshell.output.text import abbrev

    c = res.model
    b = np.asarray(res.b, dtype=float)
    se = np.sqrt(np.clip(np.diag(res.V), 0, None))
    df = np.where(np.isfinite(c.df), c.df, 1e300)
    eqs = []
    for i, (eq, nm) in enumerate(res.names):
        if not eqs or eqs[-1][0] != eq:
            eqs.append((eq, []))
        eqs[-1][1].append(i)
    status = [ct.marker_status(nm) or ("omitted" if res.omitted[i] else None)
              for i, (_, nm) in enumerate(res.names)]
    depvar = res.macros.get("depvar", "")
    out = [ct.rule(), ct.column_header(depvar, "t", level, eform or "Coefficient"), ct.rule("mid")]
    for k, (eq, idx) in enumerate(eqs):
        if eq == "/":
            # ancillary parameters (/cut1, /var(_cons[id])): one row each, named with the slash
            groups = [ct.Group(None, [ct.Row("/" + res.names[i][1], i, status[i])]) for i in idx]
        else:
            groups = ct.groups_from_names([res.names[i][1] for i in idx], [status[i] for i in idx],
                                          baselevels=baselevels)
            for g in groups:
                for r in g.rows:
                    r.index = idx[r.index]
        if len(eqs) > 1:
            if k:
                out.append(ct.rule("mid"))
            if eq != "/":
                out.append(f"{abbrev(eq, 12):<12} |")
        if eform and k == 0 and eq != "/":
            out += _eform_body(groups, b, se, df, level)
        else:
            out += ct.body_lines(groups, b, se, stat="t", df_r=df, level=level)
    return out + [ct.rule()]


def _eform_body(groups, b, se, df, level: float) -> list[str]:
    """body_lines with exponentiated rows (t tests on each coefficient's own df)."""
    from hlmshell.output import coeftable as ct
    from hlmshell.output.eform_table import status_cells
    from hlmshell.output.svy_output import eform_t_cells

    blank = " " * (ct.NAME_W + 1) + "|"
    out: list[str] = []
    prev_multi = False
    for g in groups:
        lines = [f"{ln}|" for ln in ct.header_lines(g.header)] if g.header is not None else []
        for r in g.rows:
            labels = [ct.level_label(r.label)] if g.header is not None else ct.name_lines(r.label)
            cells = status_cells(r.status) if r.status else \
                eform_t_cells(float(b[r.index]), float(se[r.index]), level, float(df[r.index]))
            lines += ct.coef_row(labels, cells)
        multi = len(lines) > 1
        if out and (multi or prev_multi):
            out.append(blank)
        out += lines
        prev_multi = multi
    return out


def vartable_lines(res: EstimationResults) -> list[str]:
    c = res.model
    out = ["", "Variance information", "-" * 78,
           f"{'':13}|{'Imputation variance':^30}{'':23}Relative",
           f"{'':13}|    Within   Between     Total       RVI       FMI    efficiency",
           "-" * 13 + "+" + "-" * 64]
    from hlmshell.output.text import abbrev
    M = c.M
    for i, (eq, nm) in enumerate(res.names):
        if res.omitted[i] or c.W[i, i] <= 0:
            continue
        eff = 1.0 / (1.0 + c.fmi[i] / M)
        cells = "".join(f"{fmt_g(v, 9):>10}" for v in (c.W[i, i], c.B[i, i], c.V[i, i], c.rvi[i], c.fmi[i]))
        out.append(f"{abbrev(nm, 12):>12} |{cells}{fmt_g(eff, 9):>14}")
    out.append("-" * 78)
    return out


def _display(session, res, level, opts) -> None:
    out = session.out
    if opts.noheader:
        pass
    else:
        out.line()
        for ln in header_lines(res, not opts.nogroup):
            out.line(ln)
    if opts.vartable:
        for ln in vartable_lines(res):
            out.line(ln)
    if opts.dftable:
        out.line()
        for ln in dftable_lines(res):
            out.line(ln)
    elif not opts.notable and not opts.nocitable:
        out.line()
        for ln in table_lines(res, level, eform_title(opts),
                              bool(opts.baselevels or opts.allbaselevels)):
            out.line(ln)


def dftable_lines(res: EstimationResults) -> list[str]:
    """dftable: each coefficient's t test with its degrees of freedom and the percentage by
    which imputation increases its standard error, 100 (sqrt(T / W) - 1)."""
    from hlmshell.output import coeftable as ct
    from hlmshell.output.text import abbrev

    c = res.model
    b = np.asarray(res.b, dtype=float)
    out = [ct.rule(), f"{'':13}|{'% Increase':>64}",
           f"{abbrev(res.macros.get('depvar', ''), 12):>12} | Coefficient  Std. err.      t    P>|t|        DF   Std. err.",
           ct.rule("mid")]
    for i, (eq, nm) in enumerate(res.names):
        status = ct.marker_status(nm) or ("omitted" if res.omitted[i] else None)
        if status == "base":
            continue
        label = nm if len({e for e, _ in res.names}) == 1 else f"{eq}:{nm}"
        if status or c.W[i, i] <= 0:
            out.append(f"{abbrev(label, 12):>12} |  {'0':>9}  (omitted)")
            continue
        se = float(np.sqrt(c.V[i, i]))
        q, p, _, _ = ct.coef_stats(float(b[i]), se, stat="t", df_r=float(c.df[i]) if np.isfinite(c.df[i]) else 1e300)
        inc = 100.0 * (np.sqrt(c.V[i, i] / c.W[i, i]) - 1.0)
        out.append(f"{abbrev(label, 12):>12} |  {fmt_g(b[i], 9):>9}  {fmt_g(se, 9):>9} {fmt(q, '%8.2f')}"
                   f"   {fmt(p, '%5.3f')}  {_fc(float(c.df[i]), 1):>8}  {fmt(inc, '%10.2f')}")
    return out + [ct.rule()]


def test_cmd(session, text: str) -> None:
    """mi test coeflist: the equal-FMI test that the coefficients are zero, after mi estimate."""
    from hlmshell.engine import mi_combine

    e = session.e
    if e is None or e.cmd != "mi estimate":
        raise StataError("last estimates not found", 301)
    words = text.replace(",", " ").split()
    if not words:
        raise syntax_error()
    idx = []
    for w in words:
        hits = [i for i, (eq, nm) in enumerate(e.names)
                if (nm == w or f"{eq}:{nm}" == w) and not e.omitted[i]]
        if not hits:
            raise StataError(f"{w} not found", 111)
        idx += [i for i in hits if i not in idx]
    t = mi_combine.equal_fmi_test(e.model, idx)
    if t is None:
        raise StataError("matrix not positive definite", 506)
    out = session.out
    out.line("note: assuming equal fractions of missing information")
    out.line()
    for k, i in enumerate(idx, 1):
        out.line(f" ({k:2d})  {e.names[i][1]} = 0")
    out.line()
    out.line(f"       F({t.df1:3d},{t.df2:6.1f}) = {fmt(t.F, '%8.2f')}")
    out.line(f"            Prob > F = {fmt(t.p, '%10.4f')}")
    r = session.r.__class__()
    r.scalars.update({"F": t.F, "df": float(t.df1), "df_r": t.df2, "p": t.p})
    session.r = r


def replay(session, opt_text: str = "") -> None:
    """`mi estimate` alone: the last mi estimate results again."""
    from hlmshell.registry import bind_options
    from hlmshell.syntax.parser import parse_options

    opts = bind_options(_OPTS, parse_options(opt_text), strict=True)
    e = session.e
    if e is None or e.cmd != "mi estimate":
        raise StataError("last estimates not found", 301)
    level = opts.level if opts.level is not None else e.scalars.get("level", 95.0)
    _display(session, e, level, opts)
