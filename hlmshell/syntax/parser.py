"""Command-line parsing: prefixes, command word, body, =exp, if, in, weight, options.

The line is split at top level (quotes and brackets respected, see lexer.py); expressions,
factor-variable lists, `in` ranges and weights go through the lark grammar
(grammar/stata.lark). Macros are expanded before anything gets here.
"""
from __future__ import annotations

import re
from functools import lru_cache

from hlmshell import registry
from hlmshell.data.timeseries import TS_NAME, canonical_name
from hlmshell.errors import StataError, syntax_error
from hlmshell.limits import MAX_DYADIC, MAX_EXPR_DEPTH
from hlmshell.syntax.ast import (Command, FVTerm, InRange, MixedSpec, Option, Prefix,
                                 RandomLevel, Weight)
from hlmshell.syntax.grammar_loader import LarkError, Tree, get_parser
from hlmshell.syntax.lexer import find_top, matching_paren, split_top, top_level_mask, top_words
from hlmshell.syntax.expr_ast import Binary
from hlmshell.syntax.transform import ExprTransformer, FVTransformer

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPR_T = ExprTransformer()
_FV_T = FVTransformer()

PREFIX_WORDS = registry.PREFIXES
WEIGHT_KINDS = {"fw": "fweight", "fweight": "fweight", "frequency": "fweight",
                "aw": "aweight", "aweight": "aweight", "cellsize": "aweight",
                "pw": "pweight", "pweight": "pweight", "iw": "iweight", "iweight": "iweight",
                "weight": "weight"}


# ---- expressions ------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def parse_expr(text: str):
    """Expression text -> Expr; `invalid syntax` r(198) when it does not parse."""
    if not text or not text.strip():
        raise syntax_error()
    if "(" in text:                       # td(01jan2020) and its kin become their numbers
        from hlmshell.syntax.functions import expand_date_literals
        text = expand_date_literals(text)
    try:
        tree = get_parser().parse(text, start="expr")
        _check_expr_size(tree)
        return _EXPR_T.transform(tree)
    except LarkError:
        raise syntax_error() from None
    except RecursionError:
        raise StataError("expression too long", 130) from None


_DYADIC = frozenset({"or_", "and_", "eq", "ge", "le", "lt", "gt", "ne", "add", "sub", "mul", "div", "pow"})


def _check_expr_size(tree) -> None:
    """Stata's limits on one expression, checked on the parse tree (walked without recursion)
    before anything recursive touches it: more than 800 dyadic operators, or nesting deeper
    than hlmshell evaluates safely, is `expression too long` r(130)."""
    dyadic = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_EXPR_DEPTH:
            raise StataError("expression too long", 130)
        dyadic += node.data in _DYADIC
        stack.extend((c, depth + 1) for c in node.children if isinstance(c, Tree))
    if dyadic > MAX_DYADIC:
        raise StataError("expression too long", 130)


def try_parse_expr(text: str):
    """Expr, or None when the text is not an expression (too long is still an error)."""
    try:
        return parse_expr(text)
    except StataError as err:
        if err.rc == 130:
            raise
        return None


@lru_cache(maxsize=1024)
def _parse_fvlist(text: str) -> tuple[FVTerm, ...]:
    try:
        tree = get_parser().parse(text, start="fvlist")
        return tuple(_FV_T.transform(tree))
    except LarkError as err:     # a transform's StataError comes wrapped (VisitError)
        orig = getattr(err, "orig_exc", None)
        raise (orig if isinstance(orig, StataError) else syntax_error()) from None


def parse_fvlist(text: str) -> list[FVTerm]:
    """Factor-variable varlist -> terms (## expanded, i.(a b) distributed); names unexpanded."""
    if not text.strip():
        return []
    return list(_parse_fvlist(text))


def parse_inrange(text: str) -> InRange:
    try:
        tree = get_parser().parse(text, start="inrange")
    except LarkError:
        raise syntax_error() from None

    def conv(t):
        s = str(t)
        return s.lower() if s in "fFlL" else int(s)

    vals = [conv(t) for t in tree.children]
    return InRange(vals[0], vals[-1])


def _weight_kind(word: str) -> str | None:
    word = word.lower()
    kind = WEIGHT_KINDS.get(word)
    if kind is None:
        for k, v in WEIGHT_KINDS.items():
            if registry.abbrev_match(word, k, 2):
                return v
    return kind


def parse_weight(text: str) -> Weight:
    m = re.fullmatch(r"\s*([A-Za-z]+)\s*=(.*)", text, re.S)
    if not m:
        raise syntax_error()
    kind = _weight_kind(m.group(1))
    if kind is None:
        raise StataError(f"{m.group(1)} not allowed", 101)
    return Weight(kind, parse_expr(m.group(2).strip()))


# ---- options ------------------------------------------------------------------------------
def parse_options(text: str) -> list[Option]:
    """`a b(1 2) c("x, y")` -> [Option('a'), Option('b', '1 2'), Option('c', '"x, y"')]."""
    out: list[Option] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        if text[i] == "," and out and not text[i + 1:].lstrip().startswith(","):
            i += 1      # a stray comma after an option is passed over, as Stata's syntax does:
            continue    # `xtlogit y x, i(school), re`, `svyset psu, strata(s) , singleunit()`
        m = _WORD.match(text, i)
        if not m:
            raise syntax_error()
        name = m.group(0)
        i = m.end()
        k = i
        while k < n and text[k].isspace():    # Stata reads `by (g)` as by(g)
            k += 1
        if k < n and text[k] == "(":
            i = k
        if i < n and text[i] == "(":
            j = matching_paren(text, i)
            if j < 0:
                raise syntax_error()
            out.append(Option(name, text[i + 1:j]))
            i = j + 1
        else:
            out.append(Option(name))
    return out


# ---- prefixes -------------------------------------------------------------------------------
def _prefix_kind(word: str) -> str | None:
    return registry.abbrev_lookup(word, PREFIX_WORDS)


def _parse_by(spec: str, bysort: bool) -> Prefix:
    """'g1 g2 (s)' or 'g, sort' -> Prefix('by', ...)."""
    p = Prefix("by", sort=bysort)
    if "," in spec:
        spec, opts = spec.split(",", 1)
        for o in parse_options(opts):
            if registry.abbrev_match(o.name, "sort", 1):
                p.sort = True
            elif registry.abbrev_match(o.name, "rc0", 1):
                pass
            else:
                raise StataError(f"option {o.name} not allowed", 198)
    m = re.fullmatch(r"([^()]*)(?:\(([^()]*)\))?\s*", spec)
    if not m:
        raise syntax_error()
    p.by_vars = m.group(1).split()
    p.sort_vars = (m.group(2) or "").split()
    if not p.by_vars:
        raise StataError("varlist required", 100)
    return p


_VERSION_PREFIX = re.compile(r"vers(?:i|io|ion)?\s+\d+(?:\.\d*)?\s*:(?!:)")


class PrefixError(StataError):
    """A malformed by-prefix, with the prefixes peeled before it: `capture bysort g cmd`
    (no colon) is an error that capture catches, as in Stata."""

    def __init__(self, err: StataError, prefixes: list):
        super().__init__(err.message, err.rc)
        self.prefixes = prefixes


def split_prefixes(text: str) -> tuple[list[Prefix], str]:
    """Peel quietly/noisily/capture/by prefixes off the front of a command."""
    prefixes: list[Prefix] = []
    rest = text.strip()
    while True:
        m = _WORD.match(rest)
        if not m:
            break
        word = m.group(0)
        after = rest[m.end():]
        kind = _prefix_kind(word)
        if kind and (not after or after[0].isspace() or after[0] in ":{"):
            prefixes.append(Prefix(kind))
            rest = after.lstrip()
            if rest.startswith(":"):
                rest = rest[1:].lstrip()
            continue
        vers = _VERSION_PREFIX.match(rest)
        if vers:        # `version 12: cmd` runs cmd (hlmshell interprets Stata 17 syntax throughout)
            rest = rest[vers.end():].lstrip()
            continue
        if word in ("by", "bys", "byso", "bysor", "bysort") and (not after or after[0].isspace() or after[0] in ":,"):
            colon = find_top(after, ":")
            try:
                if colon < 0:
                    raise syntax_error()
                prefixes.append(_parse_by(after[:colon], word != "by"))
            except StataError as err:
                raise PrefixError(err, prefixes) from None
            rest = after[colon + 1:].lstrip()
            continue
        break
    return prefixes, rest


# ---- the generic command ----------------------------------------------------------------------
def _is_eq(text: str, i: int) -> bool:
    """A lone '=' (not part of ==, !=, ~=, <=, >=)."""
    if text[i] != "=":
        return False
    if i + 1 < len(text) and text[i + 1] == "=":
        return False
    if i > 0 and text[i - 1] in "=!~<>":
        return False
    return True


def _qualifier_marks(text: str, allow_exp: bool) -> dict[str, int]:
    """Start positions of top-level `=`, `if`, `in`, `[weight]` in the part before the options."""
    mask = top_level_mask(text)
    marks: dict[str, int] = {}
    for s, e in top_words(text):
        w = text[s:e]
        word = "if" if (w == "if" or (w.startswith("if") and w[2:3] in ("(", '"'))) else w
        if word in ("if", "in"):
            if word in marks:
                raise syntax_error()
            marks[word] = s
    # weight: a top-level '[' holding `kind = exp` (fw, aweight, pw, iw, weight, ...)
    for i, c in enumerate(text):
        if c == "[" and mask[i]:
            m = re.match(r"\[\s*([A-Za-z]+)\s*=(?!=)", text[i:])
            if m and _weight_kind(m.group(1)) is not None:
                marks["weight"] = i
                break
    if allow_exp:
        first_q = min(marks.values()) if marks else len(text)
        for i in range(first_q):
            if mask[i] and _is_eq(text, i):
                marks["exp"] = i
                break
    return marks


def _segments(text: str, marks: dict[str, int]) -> dict[str, str]:
    order = sorted(marks.items(), key=lambda kv: kv[1])
    out = {"body": text[: order[0][1]] if order else text}
    for k, (name, pos) in enumerate(order):
        end = order[k + 1][1] if k + 1 < len(order) else len(text)
        seg = text[pos:end]
        if name in ("if", "in"):
            seg = seg[2:]
        elif name == "exp":
            seg = seg[1:]
        out[name] = seg
    return out


def fill_qualifiers(cmd: Command, text: str, *, allow_exp: bool = True, strict_exp: bool = True) -> None:
    """Split `body [=exp] [if] [in] [weight] [, options]` into cmd's fields."""
    comma = find_top(text, ",")
    main, opts = (text, "") if comma < 0 else (text[:comma], text[comma + 1:])
    cmd.options = parse_options(opts)
    seg = _segments(main, _qualifier_marks(main, allow_exp))
    cmd.body = seg["body"].strip()
    if "exp" in seg:
        cmd.exp_text = seg["exp"].strip()
        if strict_exp:
            cmd.exp = parse_expr(cmd.exp_text)
        else:
            cmd.exp = try_parse_expr(cmd.exp_text)
    if "if" in seg:
        cmd.if_ = parse_expr(seg["if"].strip())
    if "in" in seg:
        cmd.in_ = parse_inrange(seg["in"].strip())
    if "weight" in seg:
        w = seg["weight"].strip()
        if not w.endswith("]"):
            raise syntax_error()
        cmd.weight = parse_weight(w[1:-1])


def blanks_outside_strings(text: str) -> str:
    """Tabs (and other control whitespace) outside "..." and `"..."' strings as blanks: Stata
    separates words by any white space, so `label var v<TAB>"x"` is `label var v "x"`."""
    if "\t" not in text and "\f" not in text and "\v" not in text:
        return text
    out, i, depth, n = [], 0, 0, len(text)
    plain = True                                   # outside any string
    while i < n:
        c = text[i]
        if text.startswith('`"', i):
            depth += 1
            plain = False
            out.append('`"')
            i += 2
            continue
        if depth and text.startswith('"\'', i):
            depth -= 1
            plain = depth == 0
            out.append('"\'')
            i += 2
            continue
        if c == '"' and depth == 0:
            plain = not plain
        out.append(" " if plain and c in "\t\f\v" else c)
        i += 1
    return "".join(out)


def parse_command(text: str, table: "registry.Registry | None" = None) -> Command:
    """One command (macros already expanded) -> Command, read against the command specs of
    `table` (the global registry by default; tests may pass their own). Unknown words raise
    r(199); options the spec does not declare r(198), the rest bound to cmd.opts."""
    full = blanks_outside_strings(text.strip())
    prefixes, rest = split_prefixes(full)
    m = _WORD.match(rest)
    if not m:
        if not rest:
            raise syntax_error()
        word = rest.split()[0]
        if not (word[0].isalnum() or word[0] == "_"):   # `/`, `}`, `.`: Stata names the character
            raise StataError(f"{word[0]} is not a valid command name", 199)
        raise StataError(f"command {word} is unrecognized", 199)
    word = m.group(0)
    info = (table or registry.REGISTRY).resolve(word)
    after = rest[m.end():]
    # Stata's e(cmdline): an abbreviation spelled out, the arguments as typed, no
    # quietly/capture/by prefixes (`qui reg y x` -> "regress y x"; `xtmixed` stays xtmixed)
    full_word = info.name if info.name.startswith(word) else word
    cmd = Command(name=info.name, typed=word, prefixes=prefixes, text=full_word + after)
    if info.rule == "mixed":
        cmd.args = parse_mixed(after, cmd)
        _take_formats(cmd, info)
        return cmd
    if info.raw:
        cmd.body = after.strip()
        return cmd
    fill_qualifiers(cmd, after, allow_exp=info.exp != "none",
                    strict_exp=info.exp != "text")     # egen: `= mean(x)` kept as text
    if info.body == "none" and (cmd.body or "").strip():
        raise syntax_error()                           # `preserve now`: nothing may follow
    _take_formats(cmd, info)
    if info.options is not None and info.check_options:
        cmd.opts = registry.bind_options(info.options, cmd.options)
    return cmd


TABLE_FORMATS = {"cformat": 9, "pformat": 5, "sformat": 8}     # and their widest formats


def _is_coeflegend(name: str) -> bool:
    return len(name) >= 5 and "coeflegend".startswith(name.lower())
_FORMAT = re.compile(r"%-?(\d+)\.(\d+)[fge]c?")


def table_format_problem(name: str, text: str) -> str | None:
    """Why `text` cannot be the cformat/pformat/sformat `name` ("format": not a %w.d[fge]
    format; "width": wider than Stata allows), or None when it can."""
    m = _FORMAT.fullmatch(text)
    if not m:
        return "format"
    return "width" if int(m.group(1)) > TABLE_FORMATS[name] else None


def _take_formats(cmd: Command, info) -> None:
    """cformat(%fmt), pformat(), sformat() of an estimation or postestimation command: Stata's
    display options of every coefficient table, so they are taken here, checked, and kept on
    cmd.formats (the interpreter applies them while the command runs)."""
    if getattr(info, "family", "") not in ("Estimation", "Postestimation"):
        return
    holders = [cmd.options]
    if isinstance(cmd.args, MixedSpec):
        holders.append(cmd.args.fixed_options)
        holders += [lv.options for lv in cmd.args.levels[-1:]]
    own = {o.name for o in (info.options or ())}
    for h in holders:
        for o in [o for o in h if o.name in TABLE_FORMATS]:
            if table_format_problem(o.name, (o.arg or "").strip()):
                raise StataError(f"invalid {o.name}({o.arg or ''})", 198)
            h.remove(o)
            cmd.formats[o.name] = o.arg.strip()
        # coeflegend: the legend in place of the coefficient table (output.coeflegend), for
        # estimation commands that do not print it themselves
        for o in [o for o in h if _is_coeflegend(o.name) and o.arg is None]:
            if info.family == "Estimation" and "coeflegend" not in own:
                h.remove(o)
                cmd.formats["coeflegend"] = "1"


# ---- mixed ------------------------------------------------------------------------------------
@lru_cache(maxsize=256)
def _parse_re_equation(text: str) -> tuple[str, tuple[FVTerm, ...]]:
    """`id: ses` -> ('id', terms) by the grammar's re_equation rule (R.var terms included)."""
    try:
        tree = get_parser().parse(text, start="re_equation")
    except LarkError:
        raise syntax_error() from None
    group, terms = _FV_T.transform(tree)
    return group, tuple(terms)


_TILDE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*~[A-Za-z0-9_]*|~[A-Za-z0-9_]+")


def _random_level(seg: str) -> RandomLevel:
    comma = find_top(seg, ",")
    main, opts = (seg, "") if comma < 0 else (seg[:comma], seg[comma + 1:])
    colon = find_top(main, ":")
    if colon < 0:
        raise syntax_error()
    # Stata's mixed ignores a comma ending the options (`..., reml,` in course handouts)
    opts = opts.rstrip()
    if opts.endswith(",") and find_top(opts[:-1], ",") < 0:
        opts = opts[:-1]
    typed_group = main[:colon].strip()
    if _TILDE_NAME.fullmatch(typed_group):      # `hospital_type~w:` as describe abbreviates it
        _, terms = _parse_re_equation("_tilde_" + main[colon:].strip())
        group = typed_group
    else:
        group, terms = _parse_re_equation(main.strip())
        if not _WORD.fullmatch(group):
            raise syntax_error()
    raw = main[main.index(":") + 1:].split()
    plain = [t for t in terms if not any(p.name.startswith("R.") for p in t.parts)]
    return RandomLevel(group=group, terms=plain, raw_terms=raw, options=parse_options(opts))


def _level_qualifiers(seg: str, head: Command) -> str:
    """`|| school: lrt if girl == 1, reml`: an if/in typed in a random-effects equation
    restricts the whole estimation sample, as Stata's equation parser takes it (added to the
    fixed part's with &); weights there are invalid syntax. Returns the equation without it."""
    if not re.search(r"\b(if|in)\b|\[", seg):
        return seg
    comma = find_top(seg, ",")
    main, opts = (seg, "") if comma < 0 else (seg[:comma], seg[comma:])
    q = Command(name="re")
    fill_qualifiers(q, main, allow_exp=False)
    if q.weight is not None:
        raise syntax_error()
    if q.if_ is not None:
        head.if_ = q.if_ if head.if_ is None else Binary("&", head.if_, q.if_)
    if q.in_ is not None:
        if head.in_ is not None:
            raise StataError("in may not be specified twice", 198)
        head.in_ = q.in_
    return q.body + opts


def parse_mixed(text: str, cmd: Command | None = None) -> MixedSpec | None:
    """`depvar fe [if] [in] [wt] [, opts] || grp: [re] [, opts] || ...` -> MixedSpec, parsed once:
    the command is split at top-level `||`, the fixed part by fill_qualifiers, each random-effects
    equation by the grammar's re_equation rule. `mixed` alone or `mixed, opts` (a replay) is
    None, with the options on cmd."""
    stripped = text.strip()
    if cmd is not None and (not stripped or stripped.startswith(",")):
        cmd.options = parse_options(stripped[1:]) if stripped else []
        cmd.body = stripped
        return None
    parts = split_top(text, "||")
    head = Command(name="mixed")
    fill_qualifiers(head, parts[0], allow_exp=False)
    words = head.body.split()
    if not words:
        raise StataError("varlist required", 100)
    depvar = words[0]
    if not _WORD.fullmatch(depvar):
        if not TS_NAME.fullmatch(depvar):      # `regress D.y x`: an operated depvar is allowed
            raise StataError("depvar may not be a factor variable", 198)
        depvar = canonical_name(depvar)
    spec = MixedSpec(depvar=depvar, fixed=parse_fvlist(" ".join(words[1:])),
                     fixed_options=head.options)
    segs = [_level_qualifiers(seg, head) for seg in parts[1:]]
    spec.levels = [_random_level(seg) for seg in segs]
    if cmd is not None:
        cmd.if_, cmd.in_, cmd.weight = head.if_, head.in_, head.weight
        cmd.body = stripped
    return spec
