"""What svy estimation shares: the prefix's options, the design over an estimation sample
(strata and first-stage PSU codes, sampling fractions, pweights, the subpopulation) as
engine.survey wants it, and the e() counts and macros every svy result carries."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hlmshell.commands._toolkit import touse
from hlmshell.engine import survey
from hlmshell.errors import StataError
from hlmshell.registry import Opt

OPTIONS = (Opt("subpop", "sub", "string"), Opt("level", "l", "real", None), Opt("dof", "dof", "real", None),
           Opt("noheader", "noh"), Opt("notable", "notab"), Opt("nolegend", "nol"), Opt("noadjust", "noadj"),
           Opt("noisily", "noi"), Opt("trace", "tr"), Opt("coeflegend", "coefl"), Opt("or"), Opt("irr"),
           Opt("eform"), Opt("nocnsreport", "nocnsr"))


@dataclass
class SvyRun:
    """What the prefix asked for and the design, read before the command runs."""

    settings: dict
    opts: object
    level: float
    inner: str
    typed: str = ""                 # what followed the word svy (e(cmdline) is "svy " + it)

    def frame(self, session, sample: np.ndarray) -> Frame:
        """The design over `sample` (the command's own sample, already without missing design
        values), and the subpopulation indicator over it."""
        return _frame(session, self, sample)


@dataclass
class Frame:
    design: survey.SurveyDesign          # over the sample's rows
    sample: np.ndarray                   # full-length mask: the estimation sample
    sub: np.ndarray                      # over the sample's rows: in the subpopulation
    w: np.ndarray                        # pweights over the sample's rows (1 without)
    subpop_given: bool = False

    @property
    def has_subpop(self) -> bool:
        return self.subpop_given

    def scalars(self) -> dict:
        """e()'s design counts."""
        d = self.design
        sc = {"N": float(self.sample.sum()), "N_pop": float(self.w.sum()), "N_strata": float(d.n_strata),
              "N_psu": float(d.n_psu), "df_r": d.df, "singleton": float(d.singletons > 0),
              "census": 0.0, "stages": 1.0, "N_strata_omit": 0.0}
        if self.has_subpop:
            sc["N_sub"] = float(self.sub.sum())
            sc["N_subpop"] = float(self.w[self.sub].sum())
        return sc


# ---- the design over the estimation sample ------------------------------------------------------
def design_sample(session, settings: dict) -> np.ndarray:
    """Observations whose design variables are all present (zero weights stay: they count in
    the sample and its PSUs, and weigh nothing, as in Stata's svy)."""
    data = session.data
    names = [settings.get(k) for k in ("strata1", "su1", "fpc1", "wvar")]
    mask = touse(session, _NoQual(), [v for v in names if v and v != "_n"], strok=True)
    if settings.get("wvar"):
        w = data.var(settings["wvar"]).values.astype(float)
        if np.any(w[mask] < 0):
            raise StataError("negative weights encountered", 402)
    return mask


class _NoQual:
    if_ = None
    in_ = None
    weight = None


def _frame(session, ctx: SvyRun, sample: np.ndarray) -> Frame:
    data, st = session.data, ctx.settings
    given = "subpop" in ctx.opts
    sub_all, known = _subpop(session, ctx.opts.raw("subpop") if given else None)
    sample = sample & known                  # a missing subpop() value leaves the sample
    n = int(sample.sum())
    if n == 0:
        raise StataError("no observations", 2000)
    if st.get("fpc1") and int(st.get("stages", "1")) > 1:
        raise StataError("svy: variance contributions of later sampling stages (stage 1 sampled "
                         "without replacement) are not available in hlmshell", 198)
    strata = survey.codes(data.var(st["strata1"]).values[sample]) if st.get("strata1") else np.zeros(n, np.int64)
    su = st.get("su1", "_n")
    units = np.arange(n) if su in (None, "_n") else survey.codes(data.var(su).values[sample])
    psu = survey.nested_codes(strata, units)
    fpc = None
    if st.get("fpc1"):
        fpc = data.var(st["fpc1"]).values[sample].astype(float)
        _check_fpc(strata, fpc)
    w = data.var(st["wvar"]).values[sample].astype(float) if st.get("wvar") else np.ones(n)
    dof = ctx.opts.dof if ctx.opts.dof is not None else (float(st["dof"]) if st.get("dof") else None)
    design = survey.SurveyDesign(strata, psu, w, survey.fractions(strata, psu, fpc),
                                 st.get("singleunit", "missing"), dof)
    if fpc is not None:
        _check_fpc_size(design, fpc)
    sub = sub_all[sample]
    if given:
        _subpop_notes(session, sub, w)
    return Frame(design, sample, sub, w, given)


def _subpop_notes(session, sub: np.ndarray, w: np.ndarray) -> None:
    """Stata's checks and notes on the subpopulation (r(461) when it is empty)."""
    if not sub.any():
        raise StataError("no observations in subpop() subpopulation\n"
                         "subpop() = 1 indicates observation in subpopulation\n"
                         "subpop() = 0 indicates observation not in subpopulation", 461)
    if not np.any(w[sub] != 0):
        raise StataError("all observations in subpop() subpopulation have zero weights", 461)
    if sub.all():
        out = session.out
        out.line("")
        out.line("Note: subpop() subpopulation is same as full population")
        out.line("      subpop() = 1 indicates observation in subpopulation")
        out.line("      subpop() = 0 indicates observation not in subpopulation")


def _check_fpc(strata: np.ndarray, fpc: np.ndarray) -> None:
    lo = np.full(int(strata.max()) + 1, np.inf)
    hi = np.full(int(strata.max()) + 1, -np.inf)
    np.minimum.at(lo, strata, fpc)
    np.maximum.at(hi, strata, fpc)
    if np.any(lo != hi):
        raise StataError("fpc for all observations within a stratum must be the same", 464)
    if np.any(fpc < 0) or (np.any(fpc > 1) and np.any(fpc <= 1)):
        raise StataError("fpc must be >= 0 and <= 1, or all >= the number of sampled units", 462)


def _check_fpc_size(design: survey.SurveyDesign, fpc: np.ndarray) -> None:
    if np.any(fpc > 1) and np.any(design.fraction > 1):
        raise StataError("fpc must be >= the number of sampled PSUs in each stratum", 462)


def _subpop(session, text: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(in the subpopulation, known) over all observations for subpop([varname] [if]): in it
    when varname != 0 and the condition is true; a missing varname or condition is not
    known, and such observations leave the estimation sample, as Stata's svy has it."""
    n = session.data.n
    if text is None:
        return np.ones(n, dtype=bool), np.ones(n, dtype=bool)
    try:
        return _subpop_masks(session, text)
    except StataError as exc:
        raise StataError("invalid subpop() option", exc.rc or 198) from None


def _subpop_masks(session, text: str) -> tuple[np.ndarray, np.ndarray]:
    from hlmshell.commands._toolkit import varlist
    from hlmshell.syntax.ast import Command
    from hlmshell.syntax.evaluate import evaluate, in_mask
    from hlmshell.syntax.parser import fill_qualifiers

    c = Command(name="subpop")
    fill_qualifiers(c, text, allow_exp=False)
    names = varlist(session, c.body or "", all_if_empty=False)
    if len(names) > 1 or c.weight is not None or c.options or (not names and c.if_ is None and c.in_ is None):
        raise StataError("invalid syntax", 198)
    n = session.data.n
    inside, known = np.ones(n, dtype=bool), np.ones(n, dtype=bool)
    if c.in_ is not None:
        inside &= in_mask(n, c.in_)
    if c.if_ is not None:
        try:
            v = np.asarray(evaluate(c.if_, session), dtype=float) * np.ones(n)
        except (TypeError, ValueError):
            raise StataError("type mismatch", 109) from None
        known &= ~np.isnan(v)
        inside &= (v != 0)
    if names:
        var = session.data.var(names[0])
        if var.is_string:
            raise StataError(f"{names[0]}: string variables not allowed", 109)
        x = var.values.astype(float)
        known &= ~np.isnan(x)
        inside &= x != 0
    return inside & known, known


def common_macros(ctx: SvyRun, name: str, fr: Frame) -> dict:
    """e()'s svy macros."""
    st = ctx.settings
    m = {"prefix": "svy", "cmdname": name, "command": ctx.inner, "cmdline": f"svy {ctx.typed or ': ' + ctx.inner}",
         "vce": "linearized", "vcetype": "Linearized", "singleunit": st.get("singleunit", "missing"),
         "su1": st.get("su1", "_n")}
    for key in ("strata1", "fpc1"):
        if st.get(key):
            m[key] = st[key]
    if st.get("wvar"):
        m.update(wtype="pweight", wexp=f"= {st['wvar']}", wvar=st["wvar"])
    if fr.has_subpop:
        m["subpop"] = ctx.opts.raw("subpop").strip()
    return m


def running_line(session, name: str) -> None:
    session.out.line(f"(running {name} on estimation sample)")
