"""Stata's text markup in graph text (titles, axis titles, legend keys, notes, labels):
{&name} symbols (Greek letters {&beta} {&Sigma}, arrows {&larr} {&rarr}, {&le} {&ge}
{&ne} {&plusmn} {&times} {&infin} {&deg} ...), {sup:text} and {sub:text}, {it:text} and
{bf:text} -- turned into what matplotlib draws: Unicode symbols and mathtext for
super/subscripts, italic and bold. A plain `$` is escaped so that text such as "cost in $"
is never read as mathtext. Unknown {...} are left as typed, as Stata leaves them."""
from __future__ import annotations

import re

_GREEK = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega"]
SYMBOLS = {name: chr(0x3B1 + i + (1 if i >= 17 else 0)) for i, name in enumerate(_GREEK)}
SYMBOLS.update({name.capitalize(): chr(0x391 + i + (1 if i >= 17 else 0))
                for i, name in enumerate(_GREEK)})
SYMBOLS.update({
    "larr": "\u2190", "rarr": "\u2192", "uarr": "\u2191", "darr": "\u2193", "harr": "\u2194",
    "lArr": "\u21d0", "rArr": "\u21d2", "hArr": "\u21d4", "le": "\u2264", "ge": "\u2265",
    "ne": "\u2260", "plusmn": "\u00b1", "times": "\u00d7", "divide": "\u00f7",
    "infin": "\u221e", "deg": "\u00b0", "sum": "\u2211", "prod": "\u220f", "radic": "\u221a",
    "part": "\u2202", "asymp": "\u2248", "equiv": "\u2261", "minus": "\u2212",
    "middot": "\u00b7", "bull": "\u2022", "hellip": "\u2026", "prime": "\u2032",
    "Prime": "\u2033", "isin": "\u2208", "int": "\u222b", "sigmaf": "\u03c2",
    "thetasym": "\u03d1", "micro": "\u00b5", "copy": "\u00a9", "reg": "\u00ae",
    "trade": "\u2122", "euro": "\u20ac", "pound": "\u00a3", "cent": "\u00a2",
    "yen": "\u00a5", "sect": "\u00a7", "para": "\u00b6", "not": "\u00ac", "and": "\u2227",
    "or": "\u2228", "cap": "\u2229", "cup": "\u222a", "sub": "\u2282", "sup": "\u2283",
    "forall": "\u2200", "exist": "\u2203", "empty": "\u2205", "nabla": "\u2207",
})
_TOKEN = re.compile(r"\{&(\w+)\}|\{(sup|sub|it|bf|stMono|stSerif|stSans|stSymbol):([^{}]*)\}")
# mathtext specials, shown as themselves inside a $...$ group
_MATH_ESC = {"\\": r"\backslash ", "{": r"\{", "}": r"\}", "$": r"\$", "_": r"\_",
             "#": r"\#", "%": r"\%", "&": r"\&", "~": r"\sim ", "^": "\u02c6", " ": r"\ "}


def _math_text(text: str) -> str:
    return "".join(_MATH_ESC.get(ch, ch) for ch in text)


def _plain(text: str) -> str:
    return text.replace("$", r"\$")


def render_text(text) -> str:
    """Graph text with Stata's markup, ready for matplotlib."""
    if not isinstance(text, str) or not text:
        return text
    text = render_symbols(text)
    out, pos = [], 0
    for m in _TOKEN.finditer(text):
        out.append(_plain(text[pos:m.start()]))
        pos = m.end()
        if m.group(1) is not None:                # an unknown {&name}: as typed
            out.append(_plain(m.group(0)))
            continue
        kind, body = m.group(2), m.group(3)
        if kind in ("sup", "sub"):
            mark = "^" if kind == "sup" else "_"
            out.append(f"${mark}{{\\mathregular{{{_math_text(body)}}}}}$")
        elif kind == "it":
            out.append(f"$\\mathit{{{_math_text(body)}}}$")
        elif kind == "bf":
            out.append(f"$\\mathbf{{{_math_text(body)}}}$")
        else:                                   # font-face changes: the text as it is
            out.append(_plain(body))
    out.append(_plain(text[pos:]))
    return "".join(out)


def render_symbols(text: str) -> str:
    return re.sub(r"\{&(\w+)\}", lambda m: SYMBOLS.get(m.group(1), m.group(0)), text)
