"""Stata's schemes (s2color, s1mono, stcolor) and style words (colors, symbols, sizes,
patterns) as matplotlib values. Plain data; no matplotlib import."""
from __future__ import annotations

import re

from hlmshell.errors import StataError


def _rgb(r, g, b):
    return (r / 255, g / 255, b / 255)


# Stata's named colors (color-styles) most do-files use
COLORS = {
    "navy": _rgb(26, 71, 111), "maroon": _rgb(144, 53, 59), "forest_green": _rgb(85, 117, 47),
    "dkorange": _rgb(227, 126, 0), "teal": _rgb(110, 142, 132), "cranberry": _rgb(193, 5, 52),
    "lavender": _rgb(147, 141, 210), "khaki": _rgb(202, 194, 126), "sienna": _rgb(160, 82, 45),
    "emidblue": _rgb(123, 146, 168), "emerald": _rgb(45, 109, 102), "brown": _rgb(156, 136, 71),
    "erose": _rgb(191, 161, 156), "gold": _rgb(255, 210, 0), "bluishgray": _rgb(217, 230, 235),
    "black": _rgb(0, 0, 0), "white": _rgb(255, 255, 255), "gs0": _rgb(0, 0, 0),
    "red": _rgb(255, 0, 0), "blue": _rgb(0, 0, 255), "green": _rgb(0, 128, 0),
    "yellow": _rgb(255, 255, 0), "orange": _rgb(255, 128, 0), "purple": _rgb(128, 0, 128),
    "gray": _rgb(128, 128, 128), "grey": _rgb(128, 128, 128), "ltblue": _rgb(190, 235, 255),
    "ltbluishgray": _rgb(214, 225, 229), "ebblue": _rgb(0, 139, 188), "edkblue": _rgb(62, 95, 125),
    "eltblue": _rgb(176, 196, 222), "dkgreen": _rgb(0, 100, 0), "olive": _rgb(123, 146, 168),
    "mint": _rgb(80, 211, 141), "pink": _rgb(255, 0, 255), "magenta": _rgb(255, 0, 255),
    "cyan": _rgb(0, 255, 255), "midblue": _rgb(0, 102, 204), "dknavy": _rgb(0, 0, 83),
    "ltkhaki": _rgb(240, 230, 140), "stc1": _rgb(26, 133, 255), "stc2": _rgb(213, 94, 0),
    "stc3": _rgb(64, 176, 166), "stc4": _rgb(153, 102, 204), "stc5": _rgb(255, 188, 20),
    "stc6": _rgb(200, 16, 46), "stc7": _rgb(0, 91, 150), "stc8": _rgb(120, 94, 240),
    "none": (1, 1, 1, 0),
}

SCHEMES = {
    "s2color": {
        "p": ["navy", "maroon", "forest_green", "dkorange", "teal", "cranberry", "lavender",
              "khaki", "sienna", "emidblue", "emerald", "brown", "erose", "gold", "bluishgray"],
        "graph_bg": _rgb(234, 242, 243), "plot_bg": _rgb(255, 255, 255),
        "grid": _rgb(234, 242, 243), "text": _rgb(0, 0, 0), "axis": _rgb(0, 0, 0),
        "ci": _rgb(192, 192, 192), "symbols": ["O"], "lpatterns": ["solid"], "hist": "navy",
        "histfill": _rgb(158, 182, 210), "ylabel_angle": 90,
    },
    "s1mono": {
        "p": ["black", "gs6", "gs10", "gs3", "gs8", "gs12"],
        "graph_bg": _rgb(255, 255, 255), "plot_bg": _rgb(255, 255, 255),
        "grid": _rgb(222, 222, 222), "text": _rgb(0, 0, 0), "axis": _rgb(0, 0, 0),
        "ci": _rgb(210, 210, 210), "symbols": ["O", "D", "T", "S", "Oh", "Dh", "Th", "Sh"],
        "lpatterns": ["solid", "dash", "shortdash", "dash_dot", "longdash", "dot"],
        "hist": "black", "histfill": _rgb(180, 180, 180), "ylabel_angle": 90,
    },
    "stcolor": {
        "p": ["stc1", "stc2", "stc3", "stc4", "stc5", "stc6", "stc7", "stc8"],
        "graph_bg": _rgb(255, 255, 255), "plot_bg": _rgb(255, 255, 255),
        "grid": _rgb(230, 230, 230), "text": _rgb(0, 0, 0), "axis": _rgb(80, 80, 80),
        "ci": _rgb(200, 210, 220), "symbols": ["O"], "lpatterns": ["solid"], "hist": "stc1",
        "histfill": _rgb(140, 190, 245), "ylabel_angle": 0,
    },
}
SCHEME_ALIASES = {"s2c": "s2color", "s2": "s2color", "s1m": "s1mono", "stc": "stcolor",
                  "s1color": "s2color", "s2mono": "s1mono", "s2manual": "s1mono",
                  "economist": "s2color", "sj": "s1mono", "st": "stcolor", "stmono": "s1mono",
                  "s1manual": "s1mono", "stcolor_alt": "stcolor"}
# Community-contributed schemes (SSC / GitHub) that real do-files name: a user who wrote
# scheme(cblind1) had it installed. The graph is drawn in the closest built-in look (a note
# says so) rather than stopping the do-file on a look-only option; other unknown schemes
# stay r(111), as in Stata.
COMMUNITY_SCHEMES = {
    "cblind1": "stcolor", "plotplain": "s1mono", "plotplainblind": "stcolor",
    "plottig": "s2color", "plottigblind": "stcolor", "cleanplots": "stcolor",
    "white_tableau": "stcolor", "black_tableau": "stcolor", "gg_tableau": "s2color",
    "white_ptol": "stcolor", "white_w3d": "stcolor", "swift_red": "s2color",
    "tufte": "s1mono", "lean1": "s1mono", "lean2": "s1mono", "burd": "stcolor",
    "mrc": "s2color", "538": "s2color", "uncluttered": "stcolor", "modern": "stcolor",
}

MARKERS = {"O": ("o", False), "D": ("D", False), "T": ("^", False), "S": ("s", False),
           "+": ("+", False), "X": ("x", False), "A": ("^", False), "a": ("^", False),
           "o": ("o", False), "d": ("D", False), "t": ("^", False), "s": ("s", False),
           "x": ("x", False), "p": (".", False), "i": ("", False), "none": ("", False),
           "Oh": ("o", True), "Dh": ("D", True), "Th": ("^", True), "Sh": ("s", True),
           "oh": ("o", True), "dh": ("D", True), "th": ("^", True), "sh": ("s", True),
           "circle": ("o", False), "diamond": ("D", False), "triangle": ("^", False),
           "square": ("s", False), "plus": ("+", False), "point": (".", False),
           "circle_hollow": ("o", True), "diamond_hollow": ("D", True),
           "triangle_hollow": ("^", True), "square_hollow": ("s", True), "smcircle": ("o", False),
           "smx": ("x", False), "smdiamond": ("D", False), "smtriangle": ("^", False),
           "smsquare": ("s", False), "smplus": ("+", False), "smcircle_hollow": ("o", True),
           "smdiamond_hollow": ("D", True), "smtriangle_hollow": ("^", True),
           "smsquare_hollow": ("s", True)}

# marker sizes in points (matplotlib's markersize)
MSIZES = {"vtiny": 1.0, "tiny": 1.5, "vsmall": 2.2, "small": 2.8, "medsmall": 3.2,
          "medium": 3.6, "medlarge": 4.2, "large": 5.0, "vlarge": 6.5, "huge": 8.5,
          "vhuge": 12.0, "ehuge": 15.0}
LWIDTHS = {"none": 0.0, "vvthin": 0.3, "vthin": 0.5, "thin": 0.8, "medthin": 1.0, "medium": 1.2,
           "medthick": 1.6, "thick": 2.0, "vthick": 2.6, "vvthick": 3.4, "vvvthick": 4.5}
LPATTERNS = {"solid": "-", "l": "-", "dash": (0, (6, 3)), "-": (0, (6, 3)),
             "shortdash": (0, (3, 2)), "_": (0, (10, 3)), "longdash": (0, (10, 3)),
             "dot": (0, (1, 2)), "dash_dot": (0, (6, 2, 1, 2)), "-.": (0, (6, 2, 1, 2)),
             "shortdash_dot": (0, (3, 2, 1, 2)), "longdash_dot": (0, (10, 2, 1, 2)),
             "blank": "None", "tight_dot": (0, (1, 1)), ".": (0, (1, 2))}


def scheme(name: str | None) -> dict:
    name = (name or "s2color").strip().lower()
    name = SCHEME_ALIASES.get(name, name)
    name = COMMUNITY_SCHEMES.get(name, name)
    if name not in SCHEMES:
        raise StataError(f"scheme {name} not found", 111)
    return SCHEMES[name]


def scheme_name(name: str) -> str:
    name = name.strip().lower()
    name = SCHEME_ALIASES.get(name, name)
    name = COMMUNITY_SCHEMES.get(name, name)
    scheme(name)
    return name


def community_note(name: str) -> str | None:
    """The note for a community-contributed scheme drawn in a built-in look, else None."""
    key = name.strip().lower()
    if key not in COMMUNITY_SCHEMES:
        return None
    return f"(scheme {key} is community-contributed; drawn in the look of {COMMUNITY_SCHEMES[key]})"


def split_opacity(word: str) -> tuple[str, float | None]:
    """`navy%50` -> ('navy', 0.5); `%30` -> ('', 0.3) (the default color at 30% opacity, as
    Stata reads color(%30)); `red` -> ('red', None)."""
    text = word.strip().strip('"').strip()
    m = re.fullmatch(r"(.*?)%\s*(\d+(?:\.\d*)?|\.\d+)", text)
    if not m:
        return text, None
    return m.group(1).strip(), min(float(m.group(2)), 100) / 100


def color(word: str, default=None):
    """A Stata color: a name, gs0..gs16, "r g b", #rrggbb, with an optional *intensity
    (`navy*.5` lighter, `navy*1.5` darker) and %opacity (`navy%50`). A bare `%30` or `*.5`
    is the `default` color (the plot's own, given by the caller) at that opacity or intensity;
    without a default (option checking) it stands for any color."""
    text, alpha = split_opacity(word)
    m = re.fullmatch(r"(.*?)\*\s*(\d+(?:\.\d*)?|\.\d+)", text)
    factor = float(m.group(2)) if m else None
    text = m.group(1).strip() if m else text
    if text == "" and (alpha is not None or factor is not None):
        rgb = tuple(default[:3]) if default is not None else (0.0, 0.0, 0.0)
    else:
        rgb = _color_base(text)
    if rgb is None:
        raise StataError(f"color {word.strip()} not found", 198)
    if len(rgb) == 4:
        return rgb
    if factor is not None:
        rgb = _intensity(rgb, factor)
    return (*rgb, alpha) if alpha is not None else rgb


def _intensity(rgb, factor: float):
    """Stata's color*#: below 1 toward white, above 1 toward black."""
    if factor <= 1:
        return tuple(1 - (1 - c) * factor for c in rgb)
    return tuple(c / factor for c in rgb)


def _color_base(text: str):
    if text in COLORS:
        return COLORS[text]
    m = re.fullmatch(r"gs(\d+)", text)
    if m and int(m.group(1)) <= 16:
        v = 1 - int(m.group(1)) / 16
        v = 1 - v
        return (v, v, v)
    parts = text.split()
    if len(parts) == 3 and all(p.isdigit() and int(p) <= 255 for p in parts):
        return _rgb(*map(int, parts))
    if re.fullmatch(r"#[0-9a-fA-F]{6}", text):
        return _rgb(*(int(text[i:i + 2], 16) for i in (1, 3, 5)))
    return None


def pcolor(sch: dict, k: int):
    """The scheme's color for plot k (0-based)."""
    p = sch["p"]
    return color(p[k % len(p)])


def marker(word: str) -> tuple[str, bool]:
    w = word.strip()
    if w in MARKERS:
        return MARKERS[w]
    raise StataError(f"symbol {w} not found", 198)


def _size(word: str, table: dict, what: str) -> float:
    w = word.strip().lower()
    if w in table:
        return table[w]
    m = re.fullmatch(r"\*?\s*(\d+(?:\.\d*)?|\.\d+)(pt)?", w)
    if m:
        v = float(m.group(1))
        if w.startswith("*"):
            return table["medium"] * v
        return v if m.group(2) else v * (2.0 if what == "msize" else 1.0)
    raise StataError(f"{what}() invalid: {word.strip()}", 198)


def msize(word: str) -> float:
    return _size(word, MSIZES, "msize")


def lwidth(word: str) -> float:
    return _size(word, LWIDTHS, "lwidth")


def lpattern(word: str):
    w = word.strip().lower()
    if w in LPATTERNS:
        return LPATTERNS[w]
    if re.fullmatch(r"[-_.l# ]+", w):
        return LPATTERNS.get(w[0], "-")
    raise StataError(f"linepattern {word.strip()} not found", 198)
