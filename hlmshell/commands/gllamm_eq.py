"""`eq`: Stata's old equation command, which gllamm's do-files use to name the variables a
random effect multiplies (`eq int: cons`, `eq slope: ses`, then `gllamm ..., eqs(int slope)`).

Why it exists here: gllamm (commands.gllamm) reads its random-effects design from these named
equations, as the ado-file reads them with `eq ?`. The equations live in the session's
settings (`gllamm_equations`), name -> list of variable names.
"""
from __future__ import annotations

from hlmshell.errors import StataError
from hlmshell.registry import command

KEY = "gllamm_equations"


def equations(session) -> dict[str, list[str]]:
    """The defined equations, name -> variables (a new dict is stored on first use)."""
    eqs = session.settings.get(KEY)
    if eqs is None:
        eqs = session.settings[KEY] = {}
    return eqs


def lookup(session, name: str) -> list[str]:
    """An equation's variables; an undefined one is Stata's r(111)."""
    eqs = equations(session)
    if name not in eqs:
        raise StataError(f"equation {name} not found", 111)
    return list(eqs[name])


def _define(session, name: str, text: str) -> None:
    from hlmshell.commands.model_terms import resolve_var
    if not name.replace("_", "a").isalnum() or name[0].isdigit() or len(name) > 32:
        raise StataError(f"{name} invalid name", 198)
    vars_ = resolve_var(session.data, text) if text.strip() else []
    for v in vars_:
        if session.data.var(v).is_string:
            raise StataError("string variables not allowed in varlist;\n"
                             f"{v} is a string variable", 109)
    equations(session)[name] = vars_


def _list(session) -> None:
    for name, vars_ in equations(session).items():
        session.out.line(f"{name}: {' '.join(vars_)}")


@command("eq", raw=True, byable=False, qualifiers="", changes_data=False, family="Estimation",
         desc="define a named equation (a varlist) for gllamm's eqs(), nrf() and geqs()",
         example="eq slope: ses")
def eq_cmd(session, cmd) -> None:
    text = (cmd.body or "").strip()
    if not text:
        raise StataError("invalid syntax", 198)
    if ":" in text:
        name, _, rest = text.partition(":")
        _define(session, name.strip(), rest)
        return
    first, _, rest = text.partition(" ")
    if first == "list" and not rest.strip():
        _list(session)
    elif first == "drop":
        names = rest.split()
        if not names:
            raise StataError("invalid syntax", 198)
        eqs = equations(session)
        for nm in (list(eqs) if names == ["_all"] else names):
            if nm not in eqs:
                raise StataError(f"equation {nm} not found", 111)
            del eqs[nm]
    elif first == "?":
        session.out.line(" ".join(lookup(session, rest.strip())))
    else:
        # `eq varlist`: the equation takes the name of its first variable
        from hlmshell.commands.model_terms import resolve_var
        _define(session, resolve_var(session.data, first)[0], text)
