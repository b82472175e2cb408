"""Stata's string functions beyond the basic ones in functions.py: indexnot(), plural(),
soundex() (and the National Archives' variant), strdup(), strtoname()/ustrtoname(),
subinword(), abbrev(), the display-column functions udstrlen()/udsubstr(), and the Unicode
family ustrleft/right/rpos/word/wordcount/compare/normalize/unescape/fix/invalidcnt,
uisdigit/uisletter.

Each maps over observations when an argument is a string variable. ICU's locale-aware parts
(word boundaries, collation) follow ICU's root locale in the common cases: words are runs of
letters, digits and inner apostrophes, each other non-space character a word of its own;
comparison is by letters first (accents and case ignored), then accents, then case
(lowercase first), as the root collation orders Latin text."""
from __future__ import annotations

import re
import unicodedata

import numpy as np

from hlmshell.limits import MAX_STRLEN, no_memory
from hlmshell.syntax.function_args import nargs, num, sval


def _each(f, args, kinds):
    """f over observations; kinds says per argument 's' (string) or 'n' (number)."""
    vals = [sval(a) if k == "s" else num(a) for a, k in zip(args, kinds)]
    if not any(isinstance(v, np.ndarray) for v in vals):
        return f(*vals)
    arrs = np.broadcast_arrays(*[np.asarray(v, dtype=object if k == "s" else float) for v, k in zip(vals, kinds)])
    out = [f(*row) for row in zip(*arrs)]
    sample = out[0] if out else f(*["" if k == "s" else 1.0 for k in kinds])   # no observations
    return np.array(out, dtype=object if isinstance(sample, str) else float)


def fn(lo, hi, kinds, f):
    def g(ev, args):
        nargs(args, lo, hi)
        return _each(f, args, kinds[:len(args)])

    return g


def _int_or_none(n):
    return None if n != n else int(n)


# ----------------------------------------------------------------------------- ASCII family
def _indexnot(s1, s2):
    for i, ch in enumerate(s1):
        if ch not in s2:
            return float(i + 1)
    return 0.0


def _plural(n, s, s2=None):
    if n != n:
        n = 2.0
    if n in (1.0, -1.0):
        return s
    if s2 is None:
        return s + "s"
    if s2.startswith("+"):
        return s + s2[1:]
    if s2.startswith("-"):
        return s[:-len(s2[1:])] if s2[1:] and s.endswith(s2[1:]) else s
    return s2


_SOUNDEX = {**dict.fromkeys("bfpv", "1"), **dict.fromkeys("cgjkqsxz", "2"), **dict.fromkeys("dt", "3"),
            "l": "4", **dict.fromkeys("mn", "5"), "r": "6"}


def _soundex(s, nara=False):
    """Soundex: the first letter and three digits. Letters h and w do not separate equal codes
    in the National Archives' rule (nara) but do, like vowels, in the simple rule."""
    letters = [c for c in s.lower() if "a" <= c <= "z"]
    if not letters:
        return ""
    out = [letters[0].upper()]
    last = _SOUNDEX.get(letters[0], "")
    for c in letters[1:]:
        code = _SOUNDEX.get(c, "")
        if code and code != last:
            out.append(code)
        if nara and c in "hw":
            continue
        last = code
    return ("".join(out) + "000")[:4]


def _strdup(s, n):
    """s n times, like s * n: longer than any string Stata holds is r(909)."""
    if n != n or n < 1 or not s:
        return ""
    if len(s) * n > MAX_STRLEN:
        raise no_memory()
    return s * int(n)


def _to_name(s, p, unicode_ok):
    ok = (lambda c: c == "_" or c.isalnum()) if unicode_ok else (lambda c: c == "_" or ("a" <= c.lower() <= "z") or c.isdigit() and c.isascii())
    t = "".join(c if ok(c) else "_" for c in s)
    if (p != p or p != 0) and (t == "" or t[0].isdigit()):
        t = "_" + t
    return t[:32]


def _subinword(s1, s2, s3, n):
    count = _int_or_none(n)
    if s2 == "":
        return s1
    if count is not None and count <= 0:
        return s1
    rx = re.compile(r"(?<!\S)" + re.escape(s2) + r"(?!\S)")
    return rx.sub(lambda m: s3, s1, count=0 if count is None else count)


def _abbrev(s, n):
    if n != n:
        return s
    n = int(n)
    n = max(n, 8 if "." in s else 5)
    n = min(n, 32)
    if len(s) <= n:
        return s
    return s[:n - 2] + "~" + s[-1]


# ----------------------------------------------------------------------------- Unicode family
def _width(ch):
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _udstrlen(s):
    return float(sum(_width(c) for c in s))


def _udsubstr(s, n1, n2):
    """The characters of s from the n1th (negative: from the end) filling n2 display columns;
    a wide character that would straddle the last column is left out."""
    if n1 != n1:
        return ""
    start = int(n1)
    start = len(s) + start + 1 if start < 0 else start
    if start < 1 or start > len(s):
        return ""
    if n2 != n2:
        return s[start - 1:]
    room, used, out = int(n2), 0, []
    for c in s[start - 1:]:
        w = _width(c)
        if used + w > room:
            break
        out.append(c)
        used += w
    return "".join(out)


def _ustrleft(s, n):
    return "" if n != n or n < 0 else s[:int(n)]


def _ustrright(s, n):
    return "" if n != n or n <= 0 else s[-int(n):]


def _ustrrpos(s1, s2, n=float("nan")):
    if n == n and n > 0:
        s1 = s1[:int(n)]
    return float(s1.rfind(s2) + 1) if s2 else 0.0


_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*|\S", re.UNICODE)


def _words(s):
    return _WORD.findall(s)


def _ustrword(s, n, loc=""):
    if n != n:
        return ""
    w = _words(s)
    i = int(n)
    i = len(w) + i + 1 if i < 0 else i
    return w[i - 1] if 1 <= i <= len(w) else ""


def _ustrwordcount(s, loc=""):
    return float(len(_words(s)))


def _collate_key(s):
    base = unicodedata.normalize("NFD", s)
    letters = "".join(c for c in base if not unicodedata.combining(c))
    return (letters.casefold(), base.casefold(), [(c.isupper(), c) for c in s])


def _ustrcompare(s1, s2, loc=""):
    a, b = _collate_key(s1), _collate_key(s2)
    return 0.0 if s1 == s2 else (-1.0 if a < b else 1.0)


def _ustrnormalize(s, form):
    form = form.strip().upper()
    if form not in ("NFC", "NFD", "NFKC", "NFKD"):
        return ""
    return unicodedata.normalize(form, s)


_ESCAPE = re.compile(r"\\(U[0-9A-Fa-f]{8}|u[0-9A-Fa-f]{4}|x\{[0-9A-Fa-f]{1,6}\}|x[0-9A-Fa-f]{1,2}|N\{[^}]*\}|.)",
                     re.DOTALL)
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "e": "\x1b",
           "\\": "\\", '"': '"', "'": "'"}


def _unescape_one(m):
    t = m.group(1)
    try:
        if t[0] in "uU" and len(t) > 1:
            return chr(int(t[1:], 16))
        if t[0] == "x" and len(t) > 1:
            return chr(int(t[1:].strip("{}"), 16))
        if t[0] == "N" and t.startswith("N{"):
            return unicodedata.lookup(t[2:-1])
    except (ValueError, KeyError, OverflowError):
        return m.group(0)
    return _SIMPLE.get(t, t)


def _ustrunescape(s):
    return _ESCAPE.sub(_unescape_one, s)


def _is_invalid(c):
    return "\udc80" <= c <= "\udcff" or "\ud800" <= c <= "\udbff"


def _ustrfix(s, rep=""):
    return "".join(rep if _is_invalid(c) else c for c in s)


def _ustrinvalidcnt(s):
    return float(sum(1 for c in s if _is_invalid(c)))


def _ustrtohex(s, n=1.0):
    """Escaped hex of up to 200 characters of s from the nth: \\uhhhh, \\Uhhhhhhhh beyond the
    BMP, \\xhh for an invalid byte."""
    start = 1 if n != n else int(n)
    if start < 1:
        return ""
    out = []
    for c in s[start - 1:start - 1 + 200]:
        o = ord(c)
        if "\udc80" <= c <= "\udcff":
            out.append(f"\\x{o - 0xDC00:02x}")
        else:
            out.append(f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}")
    return "".join(out)


def _tobytes(s, n=0.0):
    """Escaped bytes (UTF-8) of up to 200 bytes of s: \\dnnn decimal, or \\xhh when n is not 0."""
    data = s.encode("utf-8", "surrogateescape")[:200]
    hexa = n == n and n != 0
    return "".join(f"\\x{b:02x}" if hexa else f"\\d{b:03d}" for b in data)


def _first(pred):
    return lambda s: (1.0 if s and pred(s[0]) else 0.0)


def _index(s1, s2):
    return float(s1.find(s2) + 1)


STRING_FUNCTIONS = {
    "indexnot": fn(2, 2, "ss", _indexnot),
    "index": fn(2, 2, "ss", _index),
    "plural": fn(2, 3, "nss", _plural),
    "soundex": fn(1, 1, "s", _soundex),
    "soundex_nara": fn(1, 1, "s", lambda s: _soundex(s, True)),
    "strdup": fn(2, 2, "sn", _strdup),
    "strtoname": fn(1, 2, "sn", lambda s, p=1.0: _to_name(s, p, False)),
    "ustrtoname": fn(1, 2, "sn", lambda s, p=1.0: _to_name(s, p, True)),
    "subinword": fn(4, 4, "sssn", _subinword),
    "abbrev": fn(2, 2, "sn", _abbrev),
    "udstrlen": fn(1, 1, "s", _udstrlen),
    "udsubstr": fn(3, 3, "snn", _udsubstr),
    "ustrleft": fn(2, 2, "sn", _ustrleft),
    "ustrright": fn(2, 2, "sn", _ustrright),
    "ustrrpos": fn(2, 3, "ssn", _ustrrpos),
    "ustrword": fn(2, 3, "sns", _ustrword),
    "ustrwordcount": fn(1, 2, "ss", _ustrwordcount),
    "ustrcompare": fn(2, 3, "sss", _ustrcompare),
    "ustrnormalize": fn(2, 2, "ss", _ustrnormalize),
    "ustrunescape": fn(1, 1, "s", _ustrunescape),
    "ustrfix": fn(1, 2, "ss", _ustrfix),
    "ustrinvalidcnt": fn(1, 1, "s", _ustrinvalidcnt),
    "ustrtohex": fn(1, 2, "sn", _ustrtohex),
    "tobytes": fn(1, 2, "sn", _tobytes),
    "uisdigit": fn(1, 1, "s", _first(lambda c: unicodedata.category(c) == "Nd")),
    "uisletter": fn(1, 1, "s", _first(lambda c: unicodedata.category(c).startswith("L"))),
}
