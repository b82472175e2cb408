"""esttab / estout label options and their suboptions (estout.hlp, "label subopts").

    mgroups(), mlabels(), collabels(), eqlabels(), varlabels(), coeflabels()
        [labels] [, none span prefix() suffix() begin() end() replace blist() elist()
                    erepeat() first last lhs() pattern() merge numbers titles depvars]

`none` alone (or as a suboption) drops that part of the table. begin()/end() hold one
string or several quoted ones (one line each); blist()/elist() pair coefficient names with
text written before / after their rows. pattern() takes 0/1 per model (mgroups: a 1 starts
a new group; the first model always does).
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from hlmshell.errors import StataError
from hlmshell.syntax.lexer import find_top, strip_quotes, top_words

_SWITCHES = ("none", "span", "replace", "first", "last", "merge", "numbers", "titles", "depvars")
_ARGS = {"prefix": "p", "suffix": "s", "begin": "b", "end": "end", "blist": "bl", "elist": "el",
         "erepeat": "er", "lhs": "lhs", "pattern": "pat"}


@dataclass
class LabelOpt:
    labels: list[str] = field(default_factory=list)
    switches: dict[str, bool] = field(default_factory=dict)     # span: True, nospan: False
    args: dict[str, str] = field(default_factory=dict)

    def on(self, name: str, default: bool = False) -> bool:
        return self.switches.get(name, default)

    def lines(self, name: str) -> list[str]:
        """begin()/end(): quoted strings, one line each; unquoted text is one line."""
        text = self.args.get(name)
        if text is None:
            return []
        return words(text) if '"' in text else [text]

    def pairs(self, name: str) -> dict[str, list[str]]:
        """blist()/elist(): name "text" ... -> {name: lines}."""
        w = words(self.args.get(name) or "")
        if len(w) % 2:
            raise StataError(f"invalid {name}()", 198)
        return {k: [v] for k, v in zip(w[::2], w[1::2])}


def words(text: str) -> list[str]:
    return [strip_quotes(text[a:b]) for a, b in top_words(text)]


def _match_arg(word: str) -> str | None:
    w = word.lower()
    for name, least in _ARGS.items():
        if w.startswith(least) and name.startswith(w):
            return name
    return None


def parse(text: str | None, option: str) -> LabelOpt | None:
    """The option's text -> LabelOpt; None when the option was not given."""
    if text is None:
        return None
    comma = find_top(text, ",")
    head, opts = (text, "") if comma < 0 else (text[:comma], text[comma + 1:])
    out = LabelOpt(words(head))
    if out.labels == ["none"] and '"' not in head:
        out.labels, out.switches["none"] = [], True
    pos = 0
    for m in re.finditer(r"\s*([A-Za-z_]\w*)\s*(\(((?:[^()\"]|\"[^\"]*\"|\((?:[^()]|\([^()]*\))*\))*)\))?", opts):
        if m.start() != pos:
            break
        pos = m.end()
        word, arg = m.group(1), m.group(3)
        name = _match_arg(word)
        if name is not None and arg is not None:
            out.args[name] = arg
            continue
        low = word.lower()
        neg = low.startswith("no") and low[2:] in _SWITCHES
        if arg is None and (low in _SWITCHES or neg):
            out.switches[low[2:] if neg else low] = not neg
            continue
        raise StataError(f"{option}(): option {word} not allowed", 198)
    if opts[pos:].strip():
        raise StataError(f"{option}() invalid", 198)
    pattern = out.args.get("pattern")
    if pattern is not None and any(p not in ("0", "1") for p in pattern.split()):
        raise StataError(f'"{pattern}" invalid in {option}(... pattern())', 198)
    return out


def group_numbers(pattern: str | None, nmodels: int) -> list[int]:
    """estout's MgroupsPattern: the group of each model (a 1 starts a group; model 1 always)."""
    p = (pattern or "").split()
    groups, g = [], 0
    for m in range(nmodels):
        if m == 0 or (m < len(p) and p[m] == "1"):
            g += 1
        groups.append(g)
    return groups


def var_pairs(opt: LabelOpt | None) -> dict[str, str]:
    """varlabels(name label ...) / coeflabels(): {name or eq:name: label}."""
    if opt is None:
        return {}
    w = opt.labels
    if len(w) % 2:
        raise StataError("varlabels() invalid: name and label required", 198)
    return dict(zip(w[::2], w[1::2]))


def _factor_part(ds, part: str) -> str:
    """One term of a coefficient name as estout labels it (CompileVarl): a variable's label;
    `2.x` the value label of 2 (else `label=2`); `c.x` / `L.x` the operator and the label."""
    if "." not in part:
        v = ds.vars.get(part)
        return (v.label or "") if v is not None else ""
    level, _, var = part.partition(".")
    v = ds.vars.get(var)
    if v is None:
        return ""
    level = level.replace("b", "").replace("o", "") if re.fullmatch(r"\d+[bo]*", level) else level
    if not level.isdigit():
        lab = v.label or var
        level = level[1:] if level.startswith("c") else level
        return f"{level}.{lab}" if level else lab
    text = ds.value_labels.get(v.vallab or "", {}).get(float(level)) if v.vallab else None
    return text if text is not None else f"{v.label or var}={level}"


def coef_label(session, name: str, interaction: str = " # ") -> str:
    """A coefficient's label under `label`: its terms' labels joined by interaction()."""
    ds = session.data
    if ds is None or name == "_cons":
        return name
    parts = []
    for part in name.split("#"):
        parts.append(_factor_part(ds, part) or part)
    return interaction.join(parts)


def parse_star(text: str | None) -> list[tuple[str, float, str]]:
    """star() / starlevels(): symbol level pairs, levels decreasing in (0, 1]; (symbol, level,
    level as typed) -- the default * 0.05 ** 0.01 *** 0.001."""
    try:
        w = shlex.split(text or "") or ["*", "0.05", "**", "0.01", "***", "0.001"]
    except ValueError:
        raise StataError("invalid syntax", 198) from None
    if len(w) % 2:
        raise StataError("unmatched list of significance symbols and levels", 198)
    out, prev = [], 1.0
    for sym, lev in zip(w[::2], w[1::2]):
        try:
            x = float(lev)
        except ValueError:
            raise StataError(f"'{lev}' found where number expected", 7) from None
        if x > prev or x <= 0:
            raise StataError("significance levels out of order or out of range (0,1]", 198)
        prev = x
        out.append((sym, x, lev))
    return out
