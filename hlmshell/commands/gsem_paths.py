"""gsem's path notation, the multilevel subset, read into plain records (no data touched):

    (write <- math female M1[cid])  (science <- write math M2[cid], family(gaussian))
    (y <- x c.x#M1[cid] M1[cid], logit)   (x -> y, poisson)   (y1 y2 <- x M1[cid]@1)

A group is `dependents <- sources [, equation options]` (or `sources -> dependents`). A source
is an observed term in factor-variable notation, a multilevel latent variable `Name[group]`
(capitalised, optionally `@#` for a fixed loading) or a random slope `c.x#Name[group]`.
Equation options give the family and link (`logit`, `probit`, `poisson`, `ologit`,
`oprobit`, `regress`, `family() link()`) and `noconstant`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from hlmshell.errors import StataError

LATENT = re.compile(r"^([A-Z][A-Za-z0-9_]*)\[([A-Za-z_][A-Za-z0-9_]*(?:\s*>\s*[A-Za-z_][A-Za-z0-9_]*)*)\]"
                    r"(?:@([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))?$")
_SLOPE = re.compile(r"^(?:c\.)?([A-Za-z_][A-Za-z0-9_]*)#(.+)$|^(.+?)#(?:c\.)?([A-Za-z_][A-Za-z0-9_]*)$")

FAMILIES = {"gaussian": "gaussian", "normal": "gaussian", "bernoulli": "bernoulli",
            "binomial": "bernoulli", "poisson": "poisson", "ordinal": "ordinal"}
LINKS = ("identity", "logit", "probit", "log")
SHORTCUTS = {"regress": ("gaussian", "identity"), "logit": ("bernoulli", "logit"),
             "probit": ("bernoulli", "probit"), "poisson": ("poisson", "log"),
             "ologit": ("ordinal", "logit"), "oprobit": ("ordinal", "probit")}
DEFAULT_LINK = {"gaussian": "identity", "bernoulli": "logit", "poisson": "log", "ordinal": "logit"}
_ALLOWED_LINKS = {"gaussian": ("identity",), "bernoulli": ("logit", "probit"),
                  "poisson": ("log",), "ordinal": ("logit", "probit")}


def bad(msg: str = "invalid syntax", rc: int = 198) -> StataError:
    return StataError(msg, rc)


@dataclass
class LatentRef:
    """`M1[cid]` (slope None) or `c.x#M1[cid]` (slope 'x'), loading fixed at `fixed`."""

    name: str
    group: str
    slope: str | None = None
    fixed: float | None = None

    @property
    def label(self) -> str:
        return f"{self.name}[{self.group}]"

    @property
    def coef_name(self) -> str:
        return self.label if self.slope is None else f"c.{self.slope}#{self.label}"


@dataclass
class EqSpec:
    depvar: str
    observed: list[str] = field(default_factory=list)     # factor-variable terms, as typed
    latents: list[LatentRef] = field(default_factory=list)
    family: str | None = None
    link: str | None = None
    noconstant: bool = False


def split_groups(text: str) -> tuple[list[str], str]:
    """The parenthesized path groups and whatever follows them (the command's options)."""
    groups: list[str] = []
    depth, start, i = 0, -1, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
            if depth == 1:
                start = i + 1
        elif ch == ")":
            if depth == 0:
                raise bad("unmatched parenthesis")
            depth -= 1
            if depth == 0:
                groups.append(text[start:i])
        elif depth == 0 and not ch.isspace():
            return groups, text[i:]
    if depth:
        raise bad("unmatched parenthesis")
    return groups, ""


def _top_comma(text: str) -> int:
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            return i
    return -1


def _tokens(text: str) -> list[str]:
    """Words of a path, keeping `i.(a b)`, `M[a > b]` and `x @ 1` together."""
    text = re.sub(r"(<-|->)", r" \1 ", text)
    text = re.sub(r"\s*@\s*", "@", text)
    text = re.sub(r"\s*#\s*", "#", text)
    text = re.sub(r"\[\s*([^\]]*?)\s*\]", lambda m: "[" + re.sub(r"\s+", "", m.group(1)) + "]", text)
    out, cur, depth = [], "", 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch.isspace() and depth == 0:
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return out


def latent_ref(word: str) -> LatentRef | None:
    """A latent source word, or None for an observed term."""
    m = LATENT.match(word)
    if m:
        return LatentRef(m.group(1), m.group(2), None, float(m.group(3)) if m.group(3) else None)
    if "[" not in word:
        return None
    m = _SLOPE.match(word)
    if not m:
        raise bad("invalid path specification")
    var, lat = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    inner = LATENT.match(lat)
    if not inner or "[" in var:
        raise bad("invalid path specification")
    return LatentRef(inner.group(1), inner.group(2), var,
                     float(inner.group(3)) if inner.group(3) else None)


def equation_options(text: str) -> tuple[str | None, str | None, bool]:
    """(family, link, noconstant) from a group's or the command's options."""
    fam = link = None
    nocons = False
    for m in re.finditer(r"([A-Za-z_]+)\s*(\(([^()]*)\))?", text):
        word, arg = m.group(1).lower(), (m.group(3) or "").strip().lower()
        if word in SHORTCUTS and m.group(2) is None:
            fam, link = SHORTCUTS[word]
        elif "family".startswith(word) and len(word) >= 3 and m.group(2):
            name = arg.split()[0] if arg else ""
            if name not in FAMILIES:
                raise bad(f"family({arg}) not allowed; hlmshell's gsem fits gaussian, bernoulli, "
                          "poisson and ordinal responses")
            if name == "binomial" and len(arg.split()) > 1:
                raise bad("family(binomial #) not allowed; hlmshell's gsem fits binomial with one trial")
            fam = FAMILIES[name]
        elif word == "link" and m.group(2):
            if arg not in LINKS:
                raise bad(f"link({arg}) not allowed")
            link = arg
        elif word in ("noconstant", "nocons", "nocon", "nocon", "noconst", "noconsta", "noconstan"):
            nocons = True
        else:
            raise bad(f"option {word} not allowed")
    return fam, link, nocons


def resolve_family(fam: str | None, link: str | None) -> tuple[str, str]:
    fam = fam or ("bernoulli" if link in ("logit", "probit") else
                  "poisson" if link == "log" else "gaussian")
    link = link or DEFAULT_LINK[fam]
    if link not in _ALLOWED_LINKS[fam]:
        raise bad(f"link({link}) not allowed with family({fam})")
    return fam, link


def parse_group(text: str) -> list[EqSpec]:
    """One path group -> one equation per dependent variable."""
    cut = _top_comma(text)
    path, opts = (text[:cut], text[cut + 1:]) if cut >= 0 else (text, "")
    toks = _tokens(path)
    arrows = [t for t in toks if t in ("<-", "->")]
    if len(arrows) != 1:
        raise bad("invalid path specification")
    k = toks.index(arrows[0])
    left, right = toks[:k], toks[k + 1:]
    deps, srcs = (left, right) if arrows[0] == "<-" else (right, left)
    if not deps or not srcs:
        raise bad("invalid path specification")
    fam, link, nocons = equation_options(opts)
    out = []
    for d in deps:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", d):
            raise bad("invalid path specification")
        eq = EqSpec(d, family=fam, link=link, noconstant=nocons)
        for s in srcs:
            if s == "_cons":
                continue
            ref = latent_ref(s)
            if ref is not None:
                eq.latents.append(ref)
            elif "@" in s:
                raise bad("constraints on coefficients of observed variables are not allowed in "
                          "hlmshell's gsem")
            else:
                eq.observed.append(s)
        out.append(eq)
    return out


def merge(eqs: list[EqSpec]) -> list[EqSpec]:
    """Paths to the same response joined into one equation, in order of first appearance."""
    out: dict[str, EqSpec] = {}
    for e in eqs:
        if e.depvar not in out:
            out[e.depvar] = e
            continue
        m = out[e.depvar]
        m.observed += [t for t in e.observed if t not in m.observed]
        m.latents += e.latents
        m.family = m.family or e.family
        m.link = m.link or e.link
        m.noconstant = m.noconstant or e.noconstant
    return list(out.values())


def parse_covs(text: str) -> list[tuple[str, str, float | None]]:
    """covariance(M1[cid]*M2[cid]@0 ...) -> [(label, label, fixed or None)]."""
    out = []
    for w in re.sub(r"\s*([*@])\s*", r"\1", text).split():
        m = re.match(r"^([A-Z]\w*\[[^\]]+\])\*([A-Z]\w*\[[^\]]+\])(?:@(\S+))?$", w)
        if not m:
            raise bad("invalid covariance() specification")
        fixed = None
        if m.group(3) is not None:
            try:
                fixed = float(m.group(3))
            except ValueError:
                raise bad("invalid covariance() specification") from None
            if fixed != 0:
                raise bad("covariance() fixed at values other than 0 are not allowed in "
                          "hlmshell's gsem")
        out.append((m.group(1), m.group(2), fixed))
    return out
