"""esttab / estout options that reshape the numbers: transform() and stats().

transform([coefs] fx dfx [[coefs] fx dfx ...]) -- estout's documented definition: fx is the
transformation of a coefficient, written with @ for it (`exp(@)`), dfx its first derivative;
the point estimate becomes fx(b) and the standard error |dfx(b)| * se (the delta method);
t statistics and p-values (so the stars) stay those of the raw coefficient. coefs names the
coefficients as keep() does (`ln*:` every coefficient of the equations matching ln*, `x`,
`eq:x`, wildcards); a pair without coefs applies to every coefficient not matched before.
The typical use, after mixed: transform(ln*: exp(@) exp(@)) shows the random-effect
standard deviations instead of their logs.

stats(scalarlist[, fmt(fmtlist) labels(textlist)]): the e() scalars below the table in that
order (replacing esttab's default N), each with its format (the last one repeats; %9.0g by
default, N as an integer) and label (default: its name)."""
from __future__ import annotations

import dataclasses
import fnmatch
import math
import re

from hlmshell.errors import StataError
from hlmshell.syntax.lexer import find_top, strip_quotes, top_words


@dataclasses.dataclass
class Transform:
    pattern: str | None      # None: every coefficient
    fx: str
    dfx: str


def parse_transform(text: str | None) -> list[Transform]:
    if not text or not text.strip():
        return []
    words = [strip_quotes(text[s:e]) for s, e in top_words(text)]
    out: list[Transform] = []
    pattern = None
    funcs: list[str] = []
    for w in words:
        if "@" in w or funcs:               # fx has the @; dfx may be a constant (`2`)
            funcs.append(w)
            if len(funcs) == 2:
                out.append(Transform(pattern, funcs[0], funcs[1]))
                pattern, funcs = None, []
        elif funcs or pattern is not None:
            raise StataError("invalid transform()", 198)
        else:
            pattern = w
    if funcs or pattern is not None:
        raise StataError("invalid transform(): fx and dfx required", 198)
    return out


def _matches(pattern: str | None, eq: str, name: str) -> bool:
    if pattern is None:
        return True
    for p in pattern.split():
        peq, colon, pname = p.rpartition(":") if ":" in p else ("", "", p)
        if colon and not fnmatch.fnmatchcase(eq, peq or "*"):
            continue
        if fnmatch.fnmatchcase(name, pname or "*"):
            return True
    return False


def _value(session, expr: str, x: float) -> float:
    from hlmshell.syntax.evaluate import evaluate
    from hlmshell.syntax.parser import parse_expr

    text = expr.replace("@", f"({x!r})")
    try:
        v = float(evaluate(parse_expr(text), session))
    except (TypeError, ValueError):
        raise StataError("type mismatch", 109) from None
    return v if math.isfinite(v) else float("nan")


def apply_transform(session, coef, transforms: list[Transform]):
    """The coefficient as shown: b -> fx(b), se -> |dfx(b)| se; z and p unchanged."""
    if coef is None or not transforms:
        return coef
    for t in transforms:
        if _matches(t.pattern, coef.eq, coef.name):
            b = _value(session, t.fx, coef.b)
            se = abs(_value(session, t.dfx, coef.b)) * coef.se if coef.se == coef.se else coef.se
            return dataclasses.replace(coef, b=b, se=se)
    return coef


def check_transform(session, transforms: list[Transform]) -> None:
    """Bad functions fail before anything is written (r(198) / r(133) / r(111) ...)."""
    for t in transforms:
        _value(session, t.fx, 1.0)
        _value(session, t.dfx, 1.0)


def parse_stats(text: str | None) -> list[tuple[str, str, str | None]] | None:
    """stats(N r2, fmt(0 3) labels("Observations" "R-sq")) -> [(name, label, fmt|None)]."""
    if text is None:
        return None
    comma = find_top(text, ",")
    head, opts = (text, "") if comma < 0 else (text[:comma], text[comma + 1:])
    names = head.split()
    if not names:
        raise StataError("stats() invalid", 198)
    fmts: list[str] = []
    labels: list[str] = []
    for m in re.finditer(r"(\w+)\s*\(((?:[^()]|\([^()]*\))*)\)|(\S+)", opts):
        word, arg = (m.group(1) or m.group(3) or "").lower(), m.group(2)
        if arg is not None and word in ("f", "fm", "fmt"):
            fmts = arg.split()
        elif arg is not None and word.startswith("lab") and "labels".startswith(word):
            labels = [strip_quotes(arg[s:e]) for s, e in top_words(arg)]
        elif word == "star":
            continue                        # stats_star() reads it
        elif word == "layout" and arg is not None:
            _trivial_layout(arg)
        else:
            raise StataError(f"stats(): option {word} not allowed", 198)
    out = []
    for k, n in enumerate(names):
        f = fmts[min(k, len(fmts) - 1)] if fmts else None
        out.append((n, labels[k] if k < len(labels) else n, f))
    return out


def _trivial_layout(arg: str) -> None:
    """stats(, layout(@ @ ...)): each statistic in a row of its own, the default; layouts that
    put several statistics in one row are not built in."""
    items = [strip_quotes(arg[s:e]).strip() for s, e in top_words(arg)]
    if not items or any(i != "@" for i in items):
        raise StataError("stats(): layout() combining statistics in one row is not available", 198)


def stats_star(text: str | None) -> set[str]:
    """stats(..., star[(names)]): the statistics that get significance stars from the
    model's e(p) (bare star: the first statistic)."""
    if not text:
        return set()
    comma = find_top(text, ",")
    if comma < 0:
        return set()
    names = text[:comma].split()
    m = re.search(r"(?:^|\s)star\s*(?:\(([^()]*)\))?(?=\s|$)", text[comma + 1:])
    if m is None:
        return set()
    return set(m.group(1).split()) if m.group(1) is not None else set(names[:1])


def transform_point(session, coef, transforms: list[Transform], x: float) -> float:
    """fx(x) of the transformation that applies to coef (a confidence bound, as estout
    transforms ci_l and ci_u), x itself when none does."""
    for t in transforms:
        if _matches(t.pattern, coef.eq, coef.name):
            return _value(session, t.fx, x)
    return x
