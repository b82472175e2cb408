"""svyset and svydescribe: declare and describe a survey design, as Stata 17 does.

    svyset [psu] [pweight|iweight = varname] [, strata(v) fpc(v) weight(v) psu(v)
            vce(linearized|bootstrap|brr|jackknife|sdr) singleunit(missing|certainty|scaled|
            centered) dof(#) mse] [|| ssu [, strata() fpc() weight()] ...]
    svyset, clear      svyset (report)      svydescribe [if] [in] [, stage(#)]

The design is kept where Stata keeps it, in the dataset's characteristics (_dta[_svy_*]), so
it belongs to the data: saved with it, one per frame, put back by a failed command's snapshot.
The `svy:` prefix itself (linearized estimation) is commands.svy_estimation.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands._toolkit import touse, value_text, varlist
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import abbrev_match, command
from hlmshell.results import RResults
from hlmshell.syntax.ast import Command
from hlmshell.syntax.expr_ast import Name
from hlmshell.syntax.lexer import split_top
from hlmshell.syntax.parser import fill_qualifiers

_PREFIX = "_svy_"
_VCE = ("linearized", "bootstrap", "brr", "jackknife", "sdr")
_SINGLE = ("missing", "certainty", "scaled", "centered")
_GLOBAL_OPTS = (("vce", 3), ("singleunit", 10), ("dof", 3), ("mse", 3))


# ---- the design in the characteristics --------------------------------------------------------
def design(data) -> dict[str, str]:
    """The survey settings of `data` ({} when not svyset): keys without the _svy_ prefix."""
    return {k[len(_PREFIX):]: v for k, v in data.dta_chars.items() if k.startswith(_PREFIX)}


def _store(data, settings: dict[str, str]) -> None:
    chars = {k: v for k, v in data.dta_chars.items() if not k.startswith(_PREFIX)}
    chars.update({_PREFIX + k: v for k, v in settings.items() if v})
    data.dta_chars = chars
    data.changed = True


# ---- svyset -------------------------------------------------------------------------------------
@command("svyset", byable=False, raw=True, family="Survey", desc="declare survey design for dataset",
         example="svyset psu [pweight=w], strata(s)")
def svyset_cmd(session, cmd):
    body = cmd.body.strip()
    if not body:
        _report(session, design(session.data))
        return
    stages = split_top(body, "||")
    first = Command(name="svyset")
    fill_qualifiers(first, stages[0], allow_exp=False)
    if first.if_ is not None or first.in_ is not None:
        raise StataError("if not allowed" if first.if_ is not None else "in range not allowed", 101)
    if any(o.name == "clear" for o in first.options):
        if len(first.options) != 1 or first.body or len(stages) != 1 or first.weight is not None:
            raise syntax_error()
        _store(session.data, {})
        session.r = RResults(macros={"settings": ", clear"})
        return
    settings = _settings(session, first, stages[1:])
    _store(session.data, settings)
    _report(session, settings)


def _settings(session, first: Command, later: list[str]) -> dict[str, str]:
    out: dict[str, str] = {"vce": "linearized", "singleunit": "missing"}
    if first.weight is not None:
        kind = first.weight.kind
        if kind not in ("pweight", "iweight"):
            raise StataError(f"{kind} not allowed", 101)
        if not isinstance(first.weight.exp, Name):
            raise StataError("weight must be a variable name", 198)
        wvar = _one_var(session, first.weight.exp.name, numeric=True)
        out.update(wtype=kind, wvar=wvar, wexp=f"= {wvar}")
    stage_opts, global_opts = _split_options(first.options)
    for o in global_opts:
        _global_option(o, out)
    su = first.body
    psu = [o for o in stage_opts if abbrev_match(o.name, "psu", 3)]
    if psu:
        if su:
            raise StataError("option psu() not allowed with a psu variable", 198)
        su = psu[0].arg or ""
    _stage(session, 1, su, [o for o in stage_opts if o not in psu], out)
    for k, text in enumerate(later, start=2):
        if out.get(f"su{k - 1}", "_n") == "_n":
            raise StataError("sampling units of the last stage are _n; no further stages allowed", 198)
        stage = Command(name="svyset")
        fill_qualifiers(stage, text, allow_exp=False)
        if stage.if_ is not None or stage.in_ is not None or stage.weight is not None:
            raise syntax_error()
        if not stage.body:
            raise syntax_error()
        _stage(session, k, stage.body, stage.options, out)
    return out


def _split_options(options):
    stage, glob = [], []
    for o in options:
        name = next((g for g, n in _GLOBAL_OPTS if abbrev_match(o.name, g, n)), None)
        (glob if name else stage).append(o)
    return stage, glob


def _global_option(o, out: dict) -> None:
    if abbrev_match(o.name, "vce", 3):
        arg = (o.arg or "").strip()
        full = next((v for v in _VCE if arg and (v.startswith(arg) and len(arg) >= 3 or arg == v)), None)
        if full is None:
            raise StataError(f"vce({arg}) invalid", 198)
        out["vce"] = full
    elif abbrev_match(o.name, "singleunit", 10):
        arg = (o.arg or "").strip()
        if arg not in _SINGLE:
            raise StataError(f"singleunit({arg}) invalid", 198)
        out["singleunit"] = arg
    elif o.name == "dof":
        try:
            dof = float(o.arg or "")
        except ValueError:
            raise StataError("dof() must be a positive number", 198) from None
        if not dof > 0:
            raise StataError("dof() must be a positive number", 198)
        out["dof"] = f"{dof:g}"
    elif o.name == "mse" and o.arg is None:
        out["mse"] = "mse"
    else:
        raise StataError(f"option {o.name} not allowed", 198)


def _stage(session, k: int, su: str, options, out: dict) -> None:
    su = su.strip()
    out[f"su{k}"] = "_n" if su in ("", "_n") else _one_var(session, su, numeric=False)
    for o in options:
        if abbrev_match(o.name, "strata", 3) and o.arg is not None:
            out[f"strata{k}"] = _one_var(session, o.arg, numeric=False)
        elif o.name == "fpc" and o.arg is not None:
            out[f"fpc{k}"] = _one_var(session, o.arg, numeric=True)
        elif o.name == "weight" and o.arg is not None:
            out[f"weight{k}"] = _one_var(session, o.arg, numeric=True)
        else:
            raise StataError(f"option {o.name} not allowed", 198)
    out["stages"] = str(k)


def _one_var(session, text: str, numeric: bool) -> str:
    names = varlist(session, text, all_if_empty=False)
    if len(names) != 1:
        raise StataError("too many variables specified" if names else "varlist required",
                         103 if names else 100)
    if numeric and session.data.var(names[0]).is_string:
        raise StataError(f"{names[0]}: string variables not allowed", 109)
    return names[0]


# ---- the report ------------------------------------------------------------------------------
def _lines(settings: dict[str, str]) -> list[str]:
    rows = [("Sampling weights", settings.get("wvar", "<none>")),
            ("VCE", settings.get("vce", "linearized"))]
    if settings.get("vce", "linearized") != "linearized":
        rows.append(("MSE", "on" if settings.get("mse") else "off"))
    if settings.get("dof"):
        rows.append(("Design df", settings["dof"]))
    rows.append(("Single unit", settings.get("singleunit", "missing")))
    stages = int(settings.get("stages", "1"))
    stage_weights = any(f"weight{k}" in settings for k in range(1, stages + 1))
    for k in range(1, stages + 1):
        su = settings.get(f"su{k}", "_n")
        rows += [(f"Strata {k}", settings.get(f"strata{k}", "<one>")),
                 (f"Sampling unit {k}", "<observations>" if su == "_n" else su),
                 (f"FPC {k}", settings.get(f"fpc{k}", "<zero>"))]
        if stage_weights:
            rows.append((f"Weight {k}", settings.get(f"weight{k}", "<none>")))
    return [f"{label:>16}: {value}" for label, value in rows]


def _report(session, settings: dict[str, str]) -> None:
    if not settings:
        session.out.line("no survey characteristics are set")
        session.r = RResults(macros={"settings": ", clear"})
        return
    stages = int(settings.get("stages", "1"))
    if stages > 1 and "fpc1" not in settings:
        session.out.line("note: stage 1 is sampled with replacement; further stages will be "
                         "ignored for variance estimation.")
    session.out.line("")
    for line in _lines(settings):
        session.out.line(line)
    session.r = _results(settings)


def _results(settings: dict[str, str]) -> RResults:
    macros = {k: v for k, v in settings.items() if k not in ("stages", "dof")}
    macros["settings"] = _settings_text(settings)
    scalars = {"stages": float(settings.get("stages", "1"))}
    if settings.get("dof"):
        scalars["dof"] = float(settings["dof"])
    return RResults(scalars=scalars, macros=macros)


def _settings_text(settings: dict[str, str]) -> str:
    parts = []
    for k in range(1, int(settings.get("stages", "1")) + 1):
        text = settings.get(f"su{k}", "_n")
        if k == 1 and settings.get("wtype"):
            text += f" [{settings['wtype']}{settings['wexp']}]"
        opts = [f"{o}({settings[f'{o}{k}']})" for o in ("strata", "weight", "fpc") if f"{o}{k}" in settings]
        parts.append(text + (", " + " ".join(opts) if opts else ""))
    glob = [f"vce({settings.get('vce', 'linearized')})"]
    if settings.get("mse"):
        glob.append("mse")
    if settings.get("dof"):
        glob.append(f"dof({settings['dof']})")
    glob.append(f"singleunit({settings.get('singleunit', 'missing')})")
    joined = " || ".join(parts)
    return f"{joined}{' ' if ',' in parts[-1] else ', '}{' '.join(glob)}"


# ---- svydescribe -------------------------------------------------------------------------------
@command("svydescribe", abbrev="svydes", byable=False, family="Survey", qualifiers="if in",
         body="none", options="stage=int", desc="describe survey strata and sampling units",
         example="svydescribe")
def svydescribe_cmd(session, cmd):
    if cmd.body.strip():
        raise StataError("svydescribe varlist (missing-value report) is not available in hlmshell", 198)
    settings = design(session.data)
    if not settings:
        raise StataError("data not set up for svy, use svyset", 119)
    stage = cmd.opts.stage if cmd.opts.stage is not None else 1
    stages = int(settings.get("stages", "1"))
    if not 1 <= stage <= stages:
        raise StataError(f"stage({stage}) invalid; the design has {stages} stage"
                         f"{'s' if stages > 1 else ''}", 198)
    table = _unit_table(session, cmd, settings, stage)
    out = session.out
    out.line("")
    out.line(f"Survey: Describing stage {stage} sampling units")
    out.line("")
    for line in _lines(settings):
        out.line(line)
    _print_table(session, table)


def _codes(data, name: str | None, mask: np.ndarray):
    if name is None:
        return np.zeros(int(mask.sum()), dtype=np.int64), None
    values = data.var(name).values[mask]
    uniq, inv = np.unique(values, return_inverse=True)
    return inv.astype(np.int64), uniq


def _unit_table(session, cmd, settings, stage: int):
    data = session.data
    used = [settings.get(f"{kind}{k}") for k in range(1, stage + 1) for kind in ("su", "strata")]
    design_vars = [v for v in used if v and v != "_n"]
    mask = touse(session, cmd, design_vars)
    if settings.get("wvar"):
        w = data.var(settings["wvar"]).values
        mask &= ~np.isnan(w)
    n = int(mask.sum())
    if n == 0:
        raise StataError("no observations", 2000)
    # strata of this stage nest within the units of the stages before it
    outer = np.zeros(n, dtype=np.int64)
    for k in range(1, stage):
        outer = _combine(outer, _codes(data, _var(settings, "su", k), mask)[0])
    strata_codes, strata_values = _codes(data, settings.get(f"strata{stage}"), mask)
    stratum = _combine(outer, strata_codes)
    unit = _combine(stratum, _codes(data, _var(settings, "su", stage), mask)[0]
                    if _var(settings, "su", stage) else np.arange(n))
    return data, settings.get(f"strata{stage}"), strata_values, strata_codes, stratum, unit


def _var(settings, kind, k):
    v = settings.get(f"{kind}{k}")
    return None if v in (None, "_n") else v


def _combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    pairs = np.stack([a, b], axis=1)
    _, inv = np.unique(pairs, axis=0, return_inverse=True)
    return inv.reshape(-1).astype(np.int64)


def _print_table(session, table) -> None:
    data, svar, svalues, scodes, stratum, unit = table
    out = session.out
    per_unit = np.bincount(unit)
    unit_stratum = np.zeros(len(per_unit), dtype=np.int64)
    unit_stratum[unit] = stratum
    label_of = np.zeros(int(stratum.max()) + 1, dtype=np.int64)
    label_of[stratum] = scodes
    out.line("")
    out.line(" " * 36 + "Number of obs per unit")
    out.line(" Stratum   # units     # obs       Min      Mean       Max")
    out.line("-" * 58)
    units_per = []
    for h in range(int(stratum.max()) + 1):
        counts = per_unit[unit_stratum == h]
        units_per.append(len(counts))
        lab = "1" if svar is None else _stratum_text(data, svar, svalues[label_of[h]])
        out.line(_row(lab, counts))
    out.line("-" * 58)
    out.line(_row(f"{len(units_per)}", per_unit))
    lo, hi = min(units_per), max(units_per)
    out.line("")
    out.line(f"{len(units_per)} strata, with {lo:,} to {hi:,} units in each strata, "
             f"{len(per_unit):,} in total" if lo != hi else
             f"{len(units_per)} strat{'a' if len(units_per) > 1 else 'um'}, with {lo:,} "
             f"unit{'s' if lo > 1 else ''} in each, {len(per_unit):,} in total")
    session.r = RResults(scalars={"N": float(per_unit.sum()), "N_units": float(len(per_unit)),
                                  "N_strata": float(len(units_per))})


def _stratum_text(data, name, value) -> str:
    return value_text(data, data.var(name), value)


def _row(label: str, counts: np.ndarray) -> str:
    return (f"{label[:8]:>8}{len(counts):>10,}{int(counts.sum()):>10,}{int(counts.min()):>10,}"
            f"{counts.mean():>10.1f}{int(counts.max()):>10,}")
