"""fvset: default base levels (and designs) of factor variables, kept with the data.

    fvset base {# | first | last | frequent | none | default} varlist
    fvset design {asbalanced | asobserved | default} varlist
    fvset clear varlist
    fvset report [varlist] [, base(spec) design(spec)]

`fvset base 3 race` makes `i.race` in every later model use level 3 as its base, as `ib3.race`
would (an explicit `ib#.`/`ibn.` still wins): the setting is the variable's characteristic
`race[_fv_base]`, as Stata stores it, so `save`/`use` keep it and model_terms.resolve_terms,
where every estimation command's terms are resolved, reads it. String variables are skipped
with Stata's note; `default` removes the setting. `report` lists the settings (Variable, Base,
Design) and returns r(varlist), r(baselist), r(designlist), as setting does too.
"""
from __future__ import annotations

from hlmshell.commands._toolkit import typed_args, varlist
from hlmshell.errors import StataError
from hlmshell.registry import Opt, Sub, abbrev_match, command
from hlmshell.results import RResults
from hlmshell.syntax.lexer import find_top

_BASES = (("first", "first"), ("last", "last"), ("frequent", "freq"), ("none", "none"),
          ("default", "default"))
_DESIGNS = (("asbalanced", "asbal"), ("asobserved", "asobs"), ("default", "default"))


def base_spec(word: str) -> str:
    """A base as Stata stores it: an integer >= 0, first, last, frequent or none ('default'
    clears)."""
    if word.isdigit():
        return str(int(word))
    for full, mn in _BASES:
        if abbrev_match(word.lower(), full, mn):
            return full
    raise StataError("invalid base specification", 198)


def design_spec(word: str) -> str:
    for full, mn in _DESIGNS:
        if abbrev_match(word.lower(), full, mn):
            return full
    raise StataError("invalid design specification", 198)


def _split(cmd) -> tuple[str, str]:
    """(subcommand, the rest before the options)."""
    body = (cmd.body or "").strip()
    cut = find_top(body, ",")
    main = body if cut < 0 else body[:cut]
    sub, _, rest = main.strip().partition(" ")
    return sub, rest.strip()


def _numeric(session, names: list[str]) -> tuple[list[str], list[str]]:
    ds = session.data
    return ([n for n in names if not ds.var(n).is_string], [n for n in names if ds.var(n).is_string])


def _settings(ds, names: list[str]):
    """(variables with a setting, their bases, their designs)."""
    rows = [(n, ds.char(n, "_fv_base"), ds.char(n, "_fv_design")) for n in names]
    rows = [r for r in rows if r[1] or r[2]]
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def _returns(session, names, bases, designs) -> None:
    r = {}
    if names:
        r["varlist"] = " ".join(names)
        if any(bases):
            r["baselist"] = " ".join(b or '""' for b in bases) if len(bases) > 1 else bases[0]
        if any(designs):
            r["designlist"] = " ".join(d or '""' for d in designs) if len(designs) > 1 else designs[0]
    session.r = RResults(macros=r)


def _set(session, names: list[str], key: str, value: str | None) -> None:
    """Set (value) or remove (None, 'default') one characteristic of the numeric variables."""
    nums, strings = _numeric(session, names)
    ds = session.data
    for n in dict.fromkeys(nums):
        ds.set_char(n, key, "" if value in (None, "default") else value)
    if strings and value is not None:
        session.out.line("")
        session.out.line("Note:  The following string variables were ignored.")
        session.out.line("       " + " ".join(strings))
    _returns(session, *_settings(ds, list(dict.fromkeys(nums))))


def _report(session, names: list[str], opts) -> None:
    ds = session.data
    vs, bases, designs = _settings(ds, _numeric(session, names)[0])
    if opts.base is not None:
        want = base_spec(opts.base.strip())
        keep = [i for i, b in enumerate(bases) if b == ("" if want == "default" else want)]
        vs, bases, designs = [vs[i] for i in keep], [bases[i] for i in keep], [designs[i] for i in keep]
    if opts.design is not None:
        want = design_spec(opts.design.strip())
        keep = [i for i, d in enumerate(designs) if d == ("" if want == "default" else want)]
        vs, bases, designs = [vs[i] for i in keep], [bases[i] for i in keep], [designs[i] for i in keep]
    session.r = RResults()
    if not vs:
        return
    w1 = max(8, max(len(v) for v in vs)) + 4
    w2 = max(4, max(len(b) for b in bases)) + 4
    w3 = max(6, max(len(d) for d in designs))
    out = session.out
    out.line("")
    out.line(("  " + "Variable".ljust(w1) + "Base".ljust(w2) + "Design").rstrip())
    rule = "  " + "-" * (w1 + w2 + w3)
    out.line(rule)
    for v, b, d in zip(vs, bases, designs):
        out.line(("  " + v.ljust(w1) + b.ljust(w2) + d).rstrip())
    out.line(rule)
    _returns(session, vs, bases, designs)


@command("fvset", byable=False, qualifiers="", body="anything", exp="none",
         family="Data management", desc="declare factor-variable base levels and designs",
         example="fvset base 2 sector",
         subcommands=(Sub("base", "b", "default base level: # | first | last | frequent | none | default"),
                      Sub("design", "d", "default design: asbalanced | asobserved | default"),
                      Sub("clear", "", "remove the settings of varlist"),
                      Sub("report", "", "list the settings")),
         options=(Opt("base", "b", "string", None, "report: only variables with this base"),
                  Opt("design", "d", "string", None, "report: only variables with this design"),
                  Opt("mi", desc="allow on mi data (as mi fvset)")))
def fvset_cmd(session, cmd):
    opts = typed_args(cmd)
    sub, rest = _split(cmd)
    if "_mi_marker" in session.data.dta_chars and not opts.mi:
        raise StataError("no; data are mi set; use mi fvset", 119)
    if sub in ("", "report"):
        _report(session, varlist(session, rest), opts)
        return
    if opts.base is not None or opts.design is not None:
        raise StataError(f"option {'base' if opts.base is not None else 'design'}() not allowed", 198)
    if sub == "clear":
        names = varlist(session, rest, all_if_empty=False)
        if not names:
            raise StataError("varlist required", 100)
        nums, _ = _numeric(session, names)
        for n in dict.fromkeys(nums):
            session.data.set_char(n, "_fv_base", "")
            session.data.set_char(n, "_fv_design", "")
        session.r = RResults()
        return
    is_base = abbrev_match(sub, "base", 1)
    if not is_base and not abbrev_match(sub, "design", 1):
        raise StataError("unrecognized fvset subcommand", 199)
    spec, _, names_text = rest.partition(" ")
    if not spec:
        raise StataError(f"{'base' if is_base else 'design'} specification required", 198)
    value = base_spec(spec) if is_base else design_spec(spec)
    names = varlist(session, names_text, all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    _set(session, names, "_fv_base" if is_base else "_fv_design", value)
