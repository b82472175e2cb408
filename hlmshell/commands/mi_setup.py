"""mi set, register, unregister, describe, query, update, convert, extract, rename: declaring
mi data and the variables' roles, looking at them and changing their style (mi_data.py holds
the storage)."""
from __future__ import annotations

from hlmshell.commands import mi_data as mid
from hlmshell.commands._toolkit import varlist
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import abbrev_match, bind_options, Opt
from hlmshell.syntax.ast import Command
from hlmshell.syntax.parser import fill_qualifiers


def parse(text: str, specs=(), *, allow_exp: bool = False) -> tuple[Command, object]:
    """`body [if] [in] [, options]` of a subcommand -> (Command, typed options)."""
    cmd = Command(name="mi")
    fill_qualifiers(cmd, text, allow_exp=allow_exp)
    return cmd, bind_options(tuple(specs), cmd.options, strict=True)


def _style(word: str) -> str:
    for full, mn in (("wide", "w"), ("mlong", "ml"), ("flong", "fl"), ("flongsep", "flongs")):
        if abbrev_match(word, full, mn):
            if full == "flongsep":
                raise StataError("mi style flongsep (one file per imputation) is not available in "
                                 "hlmshell; use flong", 198)
            return full
    raise StataError(f"invalid style {word}" if word else "style required", 198)


# ----------------------------------------------------------------------------- set
def _set_M(session, text: str) -> None:
    """mi set M = # | += # | -= #: change the number of imputations (new ones start as m = 0,
    their imputed values missing, to be filled by mi impute, replace)."""
    import re
    mid.require_set(session)
    md = mid.read(session.data)
    m = re.fullmatch(r"\s*([+-]?=)\s*(\d+)\s*", text)
    if not m:
        raise syntax_error()
    op, k = m.group(1), int(m.group(2))
    new = {"=": k, "+=": md.M + k, "-=": md.M - k}[op]
    if new < 0 or new > 1000:
        raise StataError(f"M = {new} out of range; M must be between 0 and 1000", 125)
    if new < md.M:
        md.imps = md.imps[:new]
    else:
        md.imps += [{} for _ in range(new - md.M)]
    md.M = new
    mid.store(session, md)


def _drop_m(session, text: str) -> None:
    """mi set m -= (numlist): drop those imputations (the others are renumbered)."""
    from hlmshell.commands.mi_manage import _numlist
    mid.require_set(session)
    md = mid.read(session.data)
    inner = text.strip()
    if not (inner.startswith("-=") and "(" in inner and inner.endswith(")")):
        raise syntax_error()
    drop = set(_numlist(inner[inner.index("(") + 1:-1], md.M))
    if 0 in drop:
        raise StataError("m=0 may not be dropped", 198)
    md.imps = [imp for k, imp in enumerate(md.imps, 1) if k not in drop]
    md.M = len(md.imps)
    mid.store(session, md)


def set_cmd(session, text: str) -> None:
    head = text.strip()
    if head[:1] == "M" and (len(head) == 1 or not head[1].isalnum()):
        return _set_M(session, head[1:])
    if head[:1] == "m" and (len(head) == 1 or not head[1].isalnum()):
        return _drop_m(session, head[1:])
    cmd, _ = parse(text)
    words = cmd.body.split()
    if len(words) != 1:
        raise syntax_error()
    style = _style(words[0])
    if mid.is_set(session.data):
        raise StataError("no; data already mi set; use mi convert to change the style", 119)
    if any(v in session.data for v in mid.SYSVARS):
        raise StataError("variable _mi_m, _mi_id, or _mi_miss already exists", 110)
    md = mid.MiData(session.data.copy(), 0, style)
    mid.store(session, md)


# ----------------------------------------------------------------------------- register
_KINDS = (("imputed", "imp"), ("passive", "pas"), ("regular", "reg"))


def register_cmd(session, text: str) -> None:
    mid.require_set(session)
    cmd, _ = parse(text)
    kind, _, rest = cmd.body.partition(" ")
    full = next((k for k, mn in _KINDS if abbrev_match(kind, k, mn)), None)
    if full is None:
        raise StataError("mi register: imputed, passive, or regular required", 198)
    md = mid.read(session.data)
    _user_vars(md, rest.split())
    names = _user_vars(md, varlist(_BaseView(md.base), rest, all_if_empty=False))
    if not names:
        raise StataError("varlist required", 100)
    before = md.incomplete().sum()
    for v in names:
        if full != "regular" and md.base.var(v).is_string and full == "imputed":
            raise StataError(f"string variable {v} may not be registered as imputed", 109)
        for lst in (md.ivars, md.pvars, md.rvars):
            if v in lst:
                lst.remove(v)
        {"imputed": md.ivars, "passive": md.pvars, "regular": md.rvars}[full].append(v)
    mid.store(session, md)
    if full == "imputed":
        now = int(md.incomplete().sum() - before)
        session.out.line(f"({now} m=0 obs now marked as incomplete)")


class _BaseView:
    """What varlist() needs from a session: the m = 0 data."""

    def __init__(self, data):
        self.data = data


def _user_vars(md, names):
    bad = [v for v in names if v in mid.SYSVARS]
    if bad:
        raise StataError(f"variable {bad[0]} is an mi system variable and may not be registered", 198)
    return names


def unregister_cmd(session, text: str) -> None:
    mid.require_set(session)
    cmd, _ = parse(text)
    md = mid.read(session.data)
    names = _user_vars(md, varlist(_BaseView(md.base), cmd.body, all_if_empty=False))
    if not names:
        raise StataError("varlist required", 100)
    for v in names:
        for lst in (md.ivars, md.pvars, md.rvars):
            if v in lst:
                lst.remove(v)
        for imp in md.imps:
            imp.pop(v, None)
    mid.store(session, md)


# ----------------------------------------------------------------------------- describe / query
def query_cmd(session, text: str) -> None:
    if text.strip():
        raise syntax_error()
    r = session.r.__class__()
    if not mid.is_set(session.data):
        session.out.line("(data not mi set)")
        r.macros["style"] = ""
        r.scalars["M"] = 0
        session.r = r
        return
    md = mid.read(session.data)
    session.out.line(f"data mi set {md.style}, M = {md.M}")
    stamp = session.data.dta_chars.get("_mi_update", "")
    if stamp.isdigit():
        session.out.line(f"last mi update {_when(int(stamp))}")
    r.macros["style"] = md.style
    r.scalars["M"] = md.M
    session.r = r


def _when(stamp: int) -> str:
    """`30nov2026 12:26:30, approximately 5 minutes ago`."""
    import time
    t = time.localtime(stamp)
    months = "jan feb mar apr may jun jul aug sep oct nov dec".split()
    text = f"{t.tm_mday:02d}{months[t.tm_mon - 1]}{t.tm_year} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    ago = max(int(time.time()) - stamp, 0)
    if ago < 60:
        rel = f"{ago} second{'s' if ago != 1 else ''} ago"
    elif ago < 3600:
        rel = f"approximately {ago // 60} minute{'s' if ago // 60 != 1 else ''} ago"
    elif ago < 86400:
        rel = f"approximately {ago // 3600} hour{'s' if ago // 3600 != 1 else ''} ago"
    else:
        rel = f"{ago // 86400} day{'s' if ago // 86400 != 1 else ''} ago"
    return f"{text}, {rel}"


def describe_cmd(session, text: str) -> None:
    cmd, opts = parse(text, (Opt("detail", "d"), Opt("noupdate")))
    mid.require_set(session)
    md = mid.read(session.data)
    out = session.out
    miss = md.incomplete()
    n_inc = int(miss.sum())
    out.line()
    out.line(f"  Style:  {md.style}")
    stamp = session.data.dta_chars.get("_mi_update", "")
    if stamp.isdigit():
        out.line(f"          last mi update {_when(int(stamp))}")
    out.line()
    out.line(f"  Obs.:   complete   {md.base.n - n_inc:>10,}")
    out.line(f"          incomplete {n_inc:>10,}  (M = {md.M} imputation{'s' if md.M != 1 else ''})")
    out.line("          ---------------------")
    out.line(f"          total      {md.base.n:>10,}")
    out.line()
    detail = opts.detail
    ivars = " ".join(f"{v}({_counts(md, v, detail)})" for v in md.ivars)
    out.line(f"  Vars.:  imputed:  {len(md.ivars)}{'; ' + ivars if md.ivars else ''}")
    out.line()
    pvars = " ".join(f"{v}({_counts(md, v, True)})" for v in md.pvars) if detail else " ".join(md.pvars)
    out.line(f"          passive:  {len(md.pvars)}{'; ' + pvars if md.pvars else ''}")
    out.line()
    out.line(f"          regular:  {len(md.rvars)}{'; ' + ' '.join(md.rvars) if md.rvars else ''}")
    out.line()
    sysv = [v for v in mid.SYSVARS if v in session.data]
    out.line(f"          system:   {len(sysv)}; {' '.join(sysv)}")
    other = [v for v in md.base.names if v not in md.ivars + md.pvars + md.rvars]
    if other:
        out.line()
        s = "is" if len(other) == 1 else "are"
        out.line(f"         (there {s} {len(other)} unregistered variable{'s' if len(other) != 1 else ''}"
                 f"{'; ' + ' '.join(other) if len(other) <= 8 else ''})")
    r = session.r.__class__()
    r.scalars.update({"N": md.base.n, "N_incomplete": n_inc, "N_complete": md.base.n - n_inc,
                      "M": md.M})
    r.macros.update({"style": md.style, "ivars": " ".join(md.ivars), "pvars": " ".join(md.pvars),
                     "rvars": " ".join(md.rvars)})
    session.r = r


def _counts(md, v, detail: bool) -> str:
    """`28` (missing in m=0), or with detail `28; 3*0` (then m=1..M, runs as count*value)."""
    import numpy as np
    if md.base.var(v).is_string:
        return "0"
    n0 = str(int(np.isnan(md.base.values(v)).sum()))
    if not detail or md.M == 0:
        return n0
    runs: list[list[int]] = []
    for m in range(1, md.M + 1):
        k = int(np.isnan(np.asarray(md.values(m, v), dtype=float)).sum())
        if runs and runs[-1][1] == k:
            runs[-1][0] += 1
        else:
            runs.append([1, k])
    return n0 + "; " + " ".join(f"{c}*{k}" if c > 1 else str(k) for c, k in runs)


def mid_missing(md, v) -> int:
    import numpy as np
    return int(np.isnan(md.base.values(v)).sum()) if not md.base.var(v).is_string else 0


def update_cmd(session, text: str) -> None:
    mid.require_set(session)
    mid.store(session, mid.read(session.data))
    session.out.line("(mi data verified)")


# ----------------------------------------------------------------------------- convert / extract
def convert_cmd(session, text: str) -> None:
    cmd, _ = parse(text, (Opt("clear"), Opt("noupdate")))
    words = cmd.body.split()
    if len(words) != 1:
        raise syntax_error()
    style = _style(words[0])
    mid.require_set(session)
    md = mid.read(session.data)
    md.style = style
    mid.store(session, md)


def extract_cmd(session, text: str) -> None:
    cmd, opts = parse(text, (Opt("clear"), Opt("esample", "", "string")))
    mid.require_set(session)
    words = cmd.body.split()
    if len(words) != 1:
        raise syntax_error()
    md = mid.read(session.data)
    m = mid.parse_m(words[0], md.M)
    if session.data.changed and not opts.clear:
        raise StataError("no; data in memory would be lost", 4)
    ds = mid.dataset_m(md, m)
    ds.changed = True
    session.data = ds


def rename_cmd(session, text: str) -> None:
    cmd, _ = parse(text)
    mid.require_set(session)
    words = cmd.body.split()
    if len(words) != 2:
        raise syntax_error()
    md = mid.read(session.data)
    old = varlist(_BaseView(md.base), words[0], all_if_empty=False)
    if len(old) != 1:
        raise syntax_error()
    old, new = old[0], words[1]
    if new in md.base:
        raise StataError(f"variable {new} already defined", 110)
    from hlmshell.commands._toolkit import check_name
    check_name(new)
    md.base.rename(old, new)
    for lst in (md.ivars, md.pvars, md.rvars):
        if old in lst:
            lst[lst.index(old)] = new
    for imp in md.imps:
        if old in imp:
            imp[new] = imp.pop(old)
    mid.store(session, md)
