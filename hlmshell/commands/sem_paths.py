"""sem's command-language path notation, read into plain records (no data, no numbers fitted).

    (y <- x1 x2)  (x1 x2 -> y)  (L -> y1 y2 y3)  (y1 <- L@1 _cons@0 c1@eqt)  (L1 -> L2 -> y)
    var(e.y1@a e.y2@a L@1)   cov(e.y1*e.y2 L1*L2@c)   means(L L@0)
    covstructure(e._En, unstructured)

A term is a name with an optional `@` constraint: a number fixes the parameter, a name makes
every parameter carrying the same name equal (Stata's constraint labels). Names are resolved
against the data later (sem_build); here only their shape is checked, so a typo is Stata's
r(198) and a missing variable r(111) there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from hlmshell.errors import StataError

_NAME = re.compile(r"^(e\.)?[A-Za-z_][A-Za-z0-9_]*$")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def bad(msg: str = "invalid syntax", rc: int = 198) -> StataError:
    return StataError(msg, rc)


@dataclass
class Term:
    """`name[@constraint]`: fixed value, or an equality label, or neither."""

    name: str
    fixed: float | None = None
    label: str | None = None


@dataclass
class Edge:
    """One path dep <- src (src may be `_cons`)."""

    dep: str
    src: Term


def term(text: str) -> Term:
    name, at, con = text.partition("@")
    if not _NAME.match(name) or (at and not con):
        raise bad()
    if not at:
        return Term(name)
    if _NUMBER.match(con):
        return Term(name, fixed=float(con))
    if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", con):
        return Term(name, label=con)
    raise bad()


def _tokens(text: str) -> list[str]:
    text = re.sub(r"(<-|->)", r" \1 ", text)
    text = re.sub(r"\s*@\s*", "@", text)
    return text.split()


def split_groups(text: str) -> list[str]:
    """The parenthesized path groups of the command body, in order."""
    out: list[str] = []
    depth, start = 0, -1
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
            if depth == 1:
                start = i + 1
        elif ch == ")":
            if depth == 0:
                raise bad("unmatched parenthesis", 198)
            depth -= 1
            if depth == 0:
                out.append(text[start:i])
        elif depth == 0 and not ch.isspace():
            raise bad()
    if depth:
        raise bad("unmatched parenthesis", 198)
    return out


def split_path_options(group: str) -> tuple[str, str]:
    """`y <- x, var(e.y@c)` -> ("y <- x", "var(e.y@c)"): a path may carry its own var(),
    cov() and means(), which act as if given among the command's options."""
    path, comma, opts = group.partition(",")
    if "(" in path or ")" in path or (comma and not opts.strip()):
        raise bad()
    return path, opts.strip()


# The shorthand names of [SEM] sem and gsem path notation for groups of variables, with the
# shortest abbreviation Stata takes; any case, any length up to the full word.
_GROUPS = (("_oexogenous", 4, "_oex"), ("_lexogenous", 4, "_lex"), ("_exogenous", 3, "_ex"),
           ("_oendogenous", 4, "_oen"), ("_lendogenous", 4, "_len"), ("_endogenous", 3, "_en"))


def group_name(name: str) -> str | None:
    """`_LEx`, `_lexogenous`, `e._OEn`, ... -> canonical `_lex` / `e._oen`; None for a
    variable's name. Exogenous groups take no `e.`; endogenous ones only as errors."""
    low = name.lower()
    err = low.startswith("e.")
    base = low[2:] if err else low
    for full, least, key in _GROUPS:
        if len(base) >= least and full.startswith(base):
            if err != key.endswith("en"):
                raise bad(f"invalid specification: {name}")
            return ("e." if err else "") + key
    return None


def parse_path(text: str) -> list[Edge]:
    """One group, `a b <- c d` or `a -> b -> c`, as edges (dependent <- source)."""
    toks = _tokens(text)
    segs: list[list[str]] = [[]]
    arrows: list[str] = []
    for t in toks:
        if t in ("<-", "->"):
            arrows.append(t)
            segs.append([])
        else:
            segs[-1].append(t)
    if not arrows or any(not s for s in segs):
        raise bad()
    edges: list[Edge] = []
    for k, arrow in enumerate(arrows):
        left = [term(t) for t in segs[k]]
        right = [term(t) for t in segs[k + 1]]
        deps, srcs = (left, right) if arrow == "<-" else (right, left)
        _edges_between(deps, srcs, edges)
    return edges


def _edges_between(deps: list[Term], srcs: list[Term], edges: list[Edge]) -> None:
    for d in deps:
        if d.name == "_cons" or d.name.startswith("e."):
            raise bad()
        if len(srcs) > 1 or d.fixed is None and d.label is None:
            for s in srcs:
                if s.name.startswith("e."):
                    raise bad()
                edges.append(Edge(d.name, s))
        else:       # (L@1 -> y): the constraint written on the dependent side
            s = srcs[0]
            edges.append(Edge(d.name, Term(s.name, d.fixed, d.label)))


def parse_terms(text: str | None) -> list[Term]:
    """var() / means(): a list of terms."""
    return [term(t) for t in _tokens(text or "")]


def parse_covs(text: str | None) -> list[tuple[str, str, Term]]:
    """cov(a*b[@c] ...): (a, b, Term carrying the constraint)."""
    out = []
    for tok in _tokens(text or ""):
        pair, at, con = tok.partition("@")
        a, star, b = pair.partition("*")
        if not star or not a or not b:
            raise bad()
        t = term(f"{a}{at}{con}")
        term(b)
        out.append((a, b, t))
    return out


_STRUCTURES = ("diagonal", "unstructured", "identity", "exchangeable", "zero", "independent")


def parse_covstructure(texts: list[str]) -> list[tuple[str, str]]:
    """covstructure(variables, structure) -> (variables text, structure full name)."""
    out = []
    for text in texts:
        vars_, comma, struct = text.partition(",")
        struct = struct.strip().lower()
        full = next((s for s in _STRUCTURES if len(struct) >= 2 and s.startswith(struct)), None)
        if not comma or not vars_.strip() or full is None:
            raise bad("option covstructure() invalid", 198)
        out.append((vars_.strip(), "diagonal" if full == "independent" else full))
    return out
