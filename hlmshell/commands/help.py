"""`help`: generated from the command specs in hlmshell/registry.py.

    help            the commands by family
    help mixed      syntax line, options (minimum abbreviation shown as `cov(ariance)`),
                    description and an example
    help estat      the same, with the subcommands
    help xtreg      a Stata command hlmshell does not have: says so (rc 0)
    help nosuch     `help for nosuch not found` r(111)
"""
from __future__ import annotations

from hlmshell.errors import StataError
from hlmshell.registry import (INTERPRETER_KEYWORDS, OPTION_HELP, REGISTRY, STATA_ONLY, CommandSpec,
                               Registry, command)

_FAMILY_ORDER = ("Estimation", "Postestimation", "Data inspection", "Data management", "Labels",
                 "Files", "Programming", "Settings", "Other")


def help_lines(word: str = "", registry: Registry = REGISTRY) -> list[str]:
    """The text `help [word]` prints (StataError r(111) for an unknown topic)."""
    word = word.strip()
    if not word:
        return _index(registry)
    spec = registry.lookup(word)
    if spec is not None:
        return command_help(spec)
    if word in INTERPRETER_KEYWORDS:
        return [f"{word} is part of the do-file language (see help program, foreach, forvalues, while, if)"]
    if word in STATA_ONLY:
        return [f"{word} is a Stata command not yet available in hlmshell."]
    raise StataError(f"help for {word} not found", 111)


def _index(registry: Registry) -> list[str]:
    fams = registry.by_family()
    order = [f for f in _FAMILY_ORDER if f in fams] + sorted(f for f in fams if f not in _FAMILY_ORDER)
    out = ["hlmshell commands (help command for its syntax and options)", ""]
    for fam in order:
        out.append(fam)
        for spec in fams[fam]:
            out.append(f"    {spec.name:<13} {spec.desc}")
        out.append("")
    out.append("Language: " + ", ".join(INTERPRETER_KEYWORDS) + "; prefixes quietly, noisily, capture, by/bysort")
    return out


def command_help(spec: CommandSpec) -> list[str]:
    title = f"{spec.name} -- {spec.desc}" if spec.desc else spec.name
    out = [title, "", "Syntax", "", "    " + spec.synopsis()]
    if spec.aliases:
        out.append("    (also: " + ", ".join(spec.aliases) + ")")
    if spec.subcommands:
        out += ["", "Subcommands", ""]
        width = max(len(_sub_word(s)) for s in spec.subcommands)
        for s in spec.subcommands:
            line = f"    {_sub_word(s):<{width}}  {s.desc}"
            out.append(line.rstrip())
            for o in s.options:
                out.append(f"        , {o.synopsis()}" + (f"  {o.desc}" if o.desc else ""))
    if spec.options:
        out += ["", "Options", ""]
        width = max(len(o.synopsis()) for o in spec.options)
        for o in spec.options:
            desc = o.desc or OPTION_HELP.get(o.name, "")
            out.append(f"    {o.synopsis():<{width}}  {desc}".rstrip())
    if spec.example:
        out += ["", "Example", "", "    . " + spec.example]
    return out


def _sub_word(s) -> str:
    mn = s.min or s.name
    rest = s.name[len(mn):]
    word = f"{mn}({rest})" if rest else s.name
    return f"{word} {s.syntax}".rstrip()


@command("help", abbrev="h", raw=True, byable=False, changes_data=False, options=False,
         family="Other", body="anything", desc="help on hlmshell's commands", example="help mixed")
def help_cmd(session, cmd) -> None:
    words = cmd.body.split()
    # Stata's topics may be several words (`help melogit postestimation`, `help mixed
    # examples`): the help of the command they name is what hlmshell has
    for line in help_lines(words[0] if words else ""):
        session.out.line(line)
