"""The commands user programs parse their arguments with: syntax, marksample, markout,
tokenize, gettoken, unab.

Simulation programs for `simulate` and small helpers in course do-files begin with
`syntax [varlist] [if] [, n(integer 100)]` and `marksample touse`; string handling uses
`tokenize` and `gettoken`. They only read and write the running program's locals (and
marksample adds its temporary 0/1 variable), so they live here, beside `args`, as commands.
The spec grammar and the split of the caller's text are in hlmshell.syntax.program_syntax.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import command
from hlmshell.syntax import program_syntax as ps
from hlmshell.syntax.lexer import find_top, top_words
from hlmshell.syntax.numlist import numlist
from hlmshell.syntax.varlist import expand_varlist

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")


def _g(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


# ---- syntax: the list element -----------------------------------------------------------------
def _list_locals(session, el: ps.Element | None, body: str) -> dict[str, str]:
    if el is None:
        if body:
            raise StataError("varlist not allowed" if _looks_like_names(body) else "invalid syntax",
                             101 if _looks_like_names(body) else 198)
        return {}
    specs = el.specifiers.lower()
    local = _specifier(specs, "name") or ("varlist" if "var" in el.kind else el.kind)
    if el.kind == "anything":
        if not body and not el.optional:
            raise StataError("invalid syntax", 198)
        return {local: body}
    if not body:
        if not el.optional:
            raise StataError(f"{'varlist' if 'var' in el.kind else el.kind} required", 100)
        if el.kind == "varlist" and "default=none" not in specs.replace(" ", ""):
            return {local: " ".join(session.data.names)}
        return {local: ""} | ({"typlist": ""} if el.kind.startswith("new") else {})
    if el.kind in ("namelist", "name"):
        words = body.split()
        for w in words:
            if not _NAME.fullmatch(w):
                raise StataError(f"{w} invalid name", 198)
        _count(words, specs, 1 if el.kind == "name" else None)
        return {local: " ".join(words)}
    if el.kind.startswith("new"):
        return _new_vars(session, el, body, specs, local)
    return _old_vars(session, el, body, specs, local)


def _looks_like_names(body: str) -> bool:
    return bool(re.fullmatch(r"[\w\s*~?\-.#()]+", body))


def _specifier(specs: str, key: str) -> str | None:
    m = re.search(rf"\b{key}\s*=\s*(\w+)", specs)
    return m.group(1) if m else None


def _count(items: list, specs: str, exact_max: int | None) -> None:
    lo = _specifier(specs, "min")
    hi = exact_max or _specifier(specs, "max")
    if lo is not None and len(items) < int(lo):
        raise StataError("too few variables specified", 102)
    if hi is not None and len(items) > int(hi):
        raise StataError("too many variables specified", 103)


def _old_vars(session, el, body, specs, local) -> dict[str, str]:
    ds = session.data
    fv = bool(re.search(r"\bfv\b", specs))
    ts = bool(re.search(r"\bts\b", specs))
    if fv:
        expand_varlist(ds, body, fv=True)          # checks the names; the text is kept as typed
        return {local: " ".join(body.split())}
    names = list(expand_varlist(ds, body, ts=ts))
    _count(names, specs, 1 if el.kind == "varname" else None)
    for nm in names:
        is_str = ds.var(nm).is_string
        if "numeric" in specs and is_str:
            raise StataError(f"string variables not allowed in varlist;\n{nm} is a string variable", 109)
        if re.search(r"\bstring\b", specs) and not is_str:
            raise StataError(f"numeric variables not allowed in varlist;\n{nm} is not a string variable", 109)
    return {local: " ".join(names)}


def _new_vars(session, el, body, specs, local) -> dict[str, str]:
    names, types = [], []
    words = body.split()
    k = 0
    while k < len(words):
        w = words[k]
        if w in ("byte", "int", "long", "float", "double") or re.fullmatch(r"str(\d+|L)", w):
            if k + 1 >= len(words):
                raise syntax_error()
            types.append(w)
            names.append(words[k + 1])
            k += 2
        else:
            types.append(session.settings.get("type", "float"))
            names.append(w)
            k += 1
    expand_varlist(session.data, " ".join(names), new=True)
    for nm in names:
        if nm in session.data:
            raise StataError(f"variable {nm} already defined", 110)
    _count(names, specs, 1 if el.kind == "newvarname" else None)
    return {local: " ".join(names), "typlist": " ".join(types)}


# ---- syntax: qualifiers -----------------------------------------------------------------------
def _qualifier_locals(spec: ps.Spec, call: ps.Call) -> dict[str, str]:
    out: dict[str, str] = {}
    for kind, given, text, none_msg in (
            ("if", call.if_, f"if {call.if_}", "if not allowed"),
            ("in", call.in_, f"in {call.in_}", "in range not allowed"),
            ("using", call.using, None, "using not allowed")):
        el = spec.element(kind)
        if given is not None and el is None:
            raise StataError(none_msg, 101)
        if el is None:
            continue
        if given is None and not el.optional:
            raise StataError(f"{'using' if kind == 'using' else kind} required", 100)
        if kind == "using" and given is not None:
            name = given[1:-1] if len(given) >= 2 and given[0] == given[-1] == '"' else given
            text = name if el.slash else f'using "{name}"'
        out[kind] = text if given is not None else ""
    out.update(_exp_weight_locals(spec, call))
    return out


def _exp_weight_locals(spec: ps.Spec, call: ps.Call) -> dict[str, str]:
    out: dict[str, str] = {}
    el = spec.element("exp")
    if call.exp is not None and el is None:
        raise StataError("= exp not allowed", 101)
    if el is not None:
        if call.exp is None and not el.optional:
            raise StataError("= exp required", 100)
        out["exp"] = "" if call.exp is None else (call.exp if el.slash else f"= {call.exp}")
    wel = spec.element("weight")
    if call.weight is not None:
        if wel is None:
            raise StataError("weights not allowed", 101)
        kind = ps.weight_kind(call.weight[0])
        if kind is None:
            raise syntax_error()
        kind = wel.weights[0] if kind == "weight" else kind
        if kind not in wel.weights:
            raise StataError(f"{kind} not allowed", 101)
        out["weight"], out["exp"] = kind, f"= {call.weight[1]}"
    elif wel is not None:
        out["weight"] = ""
        out.setdefault("exp", "")
    return out


# ---- syntax: options --------------------------------------------------------------------------
def _number(opt: ps.OptionSpec, a: str) -> str:
    """integer / real / cilevel option values, checked as Stata checks them."""
    try:
        v = float(a)
    except ValueError:
        raise StataError(f"option {opt.word}() incorrectly specified", 198) from None
    if opt.kind == "integer":
        if not v.is_integer():
            raise StataError(f"option {opt.word}() incorrectly specified", 198)
        return str(int(v))
    if opt.kind == "cilevel" and not 10 <= v <= 99.99:
        raise StataError("level() must be between 10 and 99.99 inclusive", 198)
    return _g(v)


def _names_value(session, opt: ps.OptionSpec, a: str) -> str:
    """varlist / varname / name / namelist option values."""
    if opt.kind in ("varlist", "varname"):
        names = list(expand_varlist(session.data, a))
        if opt.kind == "varname" and len(names) != 1:
            raise StataError("too many variables specified", 103)
        return " ".join(names)
    words = a.split()
    if any(not _NAME.fullmatch(w) for w in words) or (opt.kind == "name" and len(words) != 1):
        raise StataError(f"option {opt.word}() invalid", 198)
    return " ".join(words)


def _option_value(session, opt: ps.OptionSpec, arg: str | None) -> str:
    if opt.kind in ("flag", "no"):
        if arg is not None:
            raise StataError(f"option {opt.word}() not allowed", 198)
        return opt.word
    if arg is None or not arg.strip():
        raise StataError(f"option {opt.word}() incorrectly specified", 198)
    a = arg.strip()
    if opt.kind in ("integer", "real", "cilevel"):
        return _number(opt, a)
    if opt.kind in ("varlist", "varname", "name", "namelist"):
        return _names_value(session, opt, a)
    if opt.kind == "numlist":
        return " ".join(_g(x) for x in numlist(a))
    if opt.kind == "passthru":
        return f"{opt.word}({arg})"
    if opt.kind == "string" and opt.asis:
        return arg
    if opt.kind == "string" and len(a) >= 2 and a[0] == a[-1] == '"':
        return a[1:-1]
    return a


def _option_locals(session, spec: ps.Spec, call: ps.Call) -> dict[str, str]:
    out: dict[str, str] = {}
    for opt in spec.options:
        if opt.kind == "cilevel":
            out[opt.local] = _g(float(session.settings.get("level", 95)))
        else:
            out[opt.local] = opt.default
    extra: list[str] = []
    seen: set[str] = set()
    for name, arg, text in call.options:
        opt = _find_option(spec, name)
        if opt is None:
            if not spec.star:
                raise StataError(f"option {name} not allowed", 198)
            extra.append(text)
            continue
        out[opt.local] = _option_value(session, opt, arg)
        seen.add(opt.word)
    for opt in spec.options:
        if opt.required and opt.word not in seen:
            raise StataError(f"option {opt.word}() required" if opt.kind not in ("flag", "no")
                             else f"option {opt.word} required", 198)
    if spec.star:
        out["options"] = " ".join(extra)
    return out


def _find_option(spec: ps.Spec, typed: str) -> ps.OptionSpec | None:
    hits = [o for o in spec.options if o.matches(typed)]
    exact = [o for o in hits if o.word == typed.lower()]
    return (exact or hits or [None])[0]


@command("syntax", raw=True, byable=False, changes_data=False, family="Programming",
         desc="parse a program's arguments (Stata's standard syntax)",
         example="syntax varlist(numeric) [if] [in] [, Detail Level(cilevel)]")
def syntax_cmd(session, cmd):
    spec = ps.parse_spec(cmd.body or "")
    call = ps.split_call(session.local.get("0", ""))
    out = _list_locals(session, spec.list_element, call.body)
    out.update(_qualifier_locals(spec, call))
    out.update(_option_locals(session, spec, call))
    session.local.update(out)


# ---- marksample / markout ---------------------------------------------------------------------
def _mark_options(text: str, allowed: tuple[str, ...]) -> tuple[str, set[str]]:
    comma = find_top(text, ",")
    main, opts = (text, "") if comma < 0 else (text[:comma], text[comma + 1:])
    flags = set(opts.split())
    for f in flags:
        if f not in allowed:
            raise StataError(f"option {f} not allowed", 198)
    return main, flags


@command("marksample", raw=True, byable=False, family="Programming",
         desc="mark the observations a program should use", example="marksample touse")
def marksample_cmd(session, cmd):
    from hlmshell.syntax.ast import Command
    from hlmshell.syntax.evaluate import marksample
    from hlmshell.syntax.parser import fill_qualifiers
    main, flags = _mark_options(cmd.body or "", ("novarlist", "strok", "zeroweight", "noby"))
    words = main.split()
    if len(words) != 1 or not _NAME.fullmatch(words[0]):
        raise syntax_error()
    loc = session.local
    text = " ".join(t for t in (loc.get("if", ""), loc.get("in", "")) if t)
    weight = loc.get("weight", "")
    if weight and "zeroweight" not in flags:
        text += f" [{weight}{loc.get('exp', '')}]"
    probe = Command(name="marksample")
    fill_qualifiers(probe, text)
    names = [] if "novarlist" in flags else [
        n for n in loc.get("varlist", "").split() if n in session.data]
    mask = marksample(session, probe, names, strok="strok" in flags)
    _new_temp(session, words[0], mask)


def _new_temp(session, lname: str, mask: np.ndarray) -> None:
    from hlmshell.commands.program import _temp
    from hlmshell.syntax.ast import Command
    _temp(session, Command(name="tempvar", body=lname))
    name = session.local[lname]
    session.data.add(Variable(name, mask.astype(np.float64), "byte"))


@command("markout", raw=True, byable=False, family="Programming",
         desc="set a marker variable to 0 where variables are missing", example="markout touse x y")
def markout_cmd(session, cmd):
    main, flags = _mark_options(cmd.body or "", ("strok", "sysmissok"))
    words = main.split()
    if not words:
        raise syntax_error()
    ds = session.data
    marker = ds.var(words[0])
    names = list(expand_varlist(ds, " ".join(words[1:]))) if words[1:] else []
    keep = np.asarray(marker.values, dtype=float) != 0
    for nm in names:
        var = ds.var(nm)
        if var.is_string:
            if "strok" not in flags:
                keep &= False
            else:
                keep &= var.values != ""
        elif "sysmissok" in flags:        # only '.' marks out; .a-.z are kept
            from hlmshell.data.missing import missing_code
            keep &= missing_code(var.values) != 0
        else:
            keep &= ~np.isnan(np.asarray(var.values, dtype=float))
    ds.put(marker.evolve(values=keep.astype(np.float64)))


# ---- tokenize / gettoken / unab ---------------------------------------------------------------
def _strip_outer(w: str) -> str:
    if len(w) >= 2 and w[0] == w[-1] == '"':
        return w[1:-1]
    if w.startswith('`"') and w.endswith("\"'"):
        return w[2:-2]
    return w


@command("tokenize", raw=True, byable=False, changes_data=False, family="Programming",
         desc="divide a string into the locals 1, 2, ...", example='tokenize "a b c"')
def tokenize_cmd(session, cmd):
    text = (cmd.body or "").strip()
    comma = find_top(text, ",")
    parse = None
    if comma >= 0:
        m = re.fullmatch(r"\s*p(?:a|ar|ars|arse)?\(\s*\"?(.*?)\"?\s*\)\s*", text[comma + 1:])
        if not m:
            raise StataError("option not allowed", 198)
        parse, text = m.group(1), text[:comma]
    text = _strip_outer(text.strip())
    pieces = _split_parse(text, parse)
    loc = session.local
    k = 1
    while str(k) in loc:
        del loc[str(k)]
        k += 1
    for k, p in enumerate(pieces, 1):
        loc[str(k)] = p


def _split_parse(text: str, parse: str | None) -> list[str]:
    """Words (quotes bind), or with parse("chars") the pieces between and the parse characters
    themselves, as Stata's tokenize/gettoken give them."""
    if not parse:
        return [_strip_outer(text[s:e]) for s, e in top_words(text)]
    out, cur = [], ""
    for ch in text:
        if ch in parse:
            if cur.strip():
                out.append(cur.strip())
            out.append(ch)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def _colon_split(text: str) -> tuple[list[str], str]:
    """`names : rest` -> (the names, the text after the colon); no colon is invalid syntax."""
    colon = find_top(text, ":")
    if colon < 0:
        raise syntax_error()
    return text[:colon].split(), text[colon + 1:]


@command("gettoken", raw=True, byable=False, changes_data=False, family="Programming",
         desc="take the first token off a string", example="gettoken first rest : list")
def gettoken_cmd(session, cmd):
    targets, source = _colon_split(cmd.body or "")
    comma = find_top(source, ",")
    parse, quotes = None, False
    if comma >= 0:
        opts = source[comma + 1:]
        m = re.search(r"p(?:a|ar|ars|arse)?\(\s*\"(.*?)\"\s*\)", opts)
        parse = m.group(1) if m else None
        quotes = bool(re.search(r"\bq(?:u|uo|uot|uote|uotes)?\b", opts))
        source = source[:comma]
    src = source.split()
    if len(targets) not in (1, 2) or len(src) != 1 or not all(_NAME.fullmatch(t) for t in targets):
        raise syntax_error()
    glob = src[0].startswith("(global)")
    name = src[0].replace("(global)", "") if glob else src[0].replace("(local)", "")
    store = session.globals if glob else session.local
    value = store.get(name, "")
    first, rest = _first_token(value, parse, quotes)
    session.local[targets[0]] = first
    if len(targets) == 2:
        session.local[targets[1]] = rest
    else:
        store[name] = rest


def _first_token(value: str, parse: str | None, quotes: bool) -> tuple[str, str]:
    s = value.lstrip(" ")
    if not s:
        return "", ""
    if parse and s[0] in parse:
        return s[0], s[1:]
    words = top_words(s)
    start, end = words[0]
    if parse:
        cut = next((i for i in range(start, end) if s[i] in parse), end)
        end = cut if cut > start else end
    tok = s[start:end]
    return (tok if quotes else _strip_outer(tok)), s[end:]


@command("unab", raw=True, byable=False, changes_data=False, family="Programming",
         desc="expand a variable list into a local", example="unab vars : x*")
def unab_cmd(session, cmd):
    target, rest = _colon_split(cmd.body or "")
    if len(target) != 1 or not _NAME.fullmatch(target[0]):
        raise syntax_error()
    comma = find_top(rest, ",")
    if comma >= 0:
        rest = rest[:comma]
    names = list(expand_varlist(session.data, rest))
    session.local[target[0]] = " ".join(names)
