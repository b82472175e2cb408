"""Programming commands: display, local/global, scalar, macro, return/ereturn list, matrix,
do/run/include, exit, continue, program/args, tempvar/tempname, confirm, cd/pwd, version.

The display item parser lives in syntax/display.py; control flow (loops, if, blocks) and
program definitions are read by the interpreter."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from hlmshell.registry import REGISTRY, Args, Opt, Sub, abbrev_match, bind_options, command
from hlmshell.errors import ExitDo, StataError
from hlmshell.output.numfmt import fmt_g
from hlmshell.syntax.flow import BreakLoop, ContinueLoop
from hlmshell.syntax.display import display_number, display_text
from hlmshell.syntax.evaluate import evaluate, evaluate_scalar
from hlmshell.syntax.macros import extended_function, num_to_macro, value_to_text
from hlmshell.syntax.lexer import strip_quotes
from hlmshell.syntax.parser import parse_options
from hlmshell.syntax.varlist import expand_varlist

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@command("display", abbrev="di", raw=True, byable=True, changes_data=False,
          family="Programming", desc="display strings and values of expressions", example='display "ICC = " %5.3f .1803')
def display(session, cmd):
    session.out.write(display_text(session, cmd.body))


# ---- macros -----------------------------------------------------------------------------------
def _macro_value(session, rest: str) -> str:
    """The value part of `local name ...`: text, `= exp`, or `: extended function`."""
    r = rest.strip()
    if r.startswith("=") and not r.startswith("=="):
        return value_to_text(evaluate(r[1:].strip(), session))
    if r.startswith(":"):
        return extended_function(session, r[1:].strip())
    return strip_quotes(r) if _is_single_quoted(r) else r


def _is_single_quoted(r: str) -> bool:
    if r.startswith('`"') and r.endswith("\"'"):
        return True
    return len(r) >= 2 and r[0] == '"' and r[-1] == '"' and r.count('"') == 2


def _assign(session, store: dict, body: str, what: str) -> None:
    m = re.match(r"\s*(\+\+|--)?([A-Za-z_][A-Za-z0-9_]*)(\+\+|--)?", body)
    if not m:
        raise StataError("invalid syntax", 198)
    name = m.group(2)
    if len(name) > 31:
        raise StataError(f"{name} invalid name", 198)
    inc = m.group(1) or m.group(3)
    if inc:
        old = store.get(name, "")
        try:
            val = float(old) if old.strip() else 0.0
        except ValueError:
            raise StataError(f"{old} invalid", 198) from None
        store[name] = num_to_macro(val + (1 if inc == "++" else -1))
        return
    store[name] = _macro_value(session, body[m.end():])


@command("local", abbrev="loc", raw=True, byable=False, changes_data=False,
          family="Programming", desc="define a local macro", example="local vars ses meanses")
def local(session, cmd):
    _assign(session, session.local, cmd.body, "local")


@command("global", abbrev="gl", raw=True, byable=False, changes_data=False,
          family="Programming", desc="define a global macro", example="global controls minority female")
def global_(session, cmd):
    _assign(session, session.globals, cmd.body, "global")


_tmp_counter = [0]


def _temp(session, cmd):
    names = cmd.body.split()
    if not names:
        raise StataError("invalid syntax", 198)
    for nm in names:
        _tmp_counter[0] += 1
        session.local[nm] = f"__{_tmp_counter[0]:06d}"


command("tempvar", raw=True, byable=False, changes_data=False, family="Programming",
        desc="names of temporary variables", example="tempvar resid")(_temp)
command("tempname", raw=True, byable=False, changes_data=False, family="Programming",
        desc="names of temporary scalars and matrices", example="tempname b")(_temp)


@command("tempfile", raw=True, byable=False, changes_data=False,
          family="Programming", desc="names of temporary files", example="tempfile t")
def tempfile_(session, cmd):
    """`tempfile f`: a path in the temporary directory, as Stata gives (St<pid>.<n>)."""
    import os
    import tempfile

    names = cmd.body.split()
    if not names:
        raise StataError("invalid syntax", 198)
    for nm in names:
        _tmp_counter[0] += 1
        session.local[nm] = os.path.join(tempfile.gettempdir(), f"St{os.getpid()}.{_tmp_counter[0]:06d}")


@command("macro", abbrev="ma", raw=True, byable=False, changes_data=False,
          family="Programming", desc="list or drop macros", example="macro list",
          subcommands=(Sub("list", "l", "list macros"), Sub("drop", "drop", "drop macros"), Sub("dir", "dir", "list macros")))
def macro(session, cmd):
    words = cmd.body.split()
    sub = words[0] if words else "list"
    if "list".startswith(sub) or sub == "dir":
        names = words[1:]
        for k, v in session.globals.items():
            if not names or k in names:
                session.out.line(f"{k + ':':<16}{v}")
        for k, v in session.local.items():
            if not names or "_" + k in names:
                session.out.line(f"{'_' + k + ':':<16}{v}")
        return
    if sub == "drop":
        for nm in words[1:]:
            if nm in ("_all", "*"):
                session.globals.clear()
            elif nm.startswith("_"):
                session.local.pop(nm[1:], None)
            else:
                for k in [k for k in session.globals if re.fullmatch(nm.replace("*", ".*"), k)]:
                    del session.globals[k]
        return
    raise StataError("invalid syntax", 198)


# ---- scalars ----------------------------------------------------------------------------------
def _scalar_text(v) -> str:
    if isinstance(v, str):
        return v
    return display_number(float(v))


@command("scalar", abbrev="sca", raw=True, byable=False, changes_data=False,
          family="Programming", desc="define, list and drop scalars", example="scalar icc = .1803",
          subcommands=(Sub("define", "de", "define a scalar"), Sub("list", "l", "list scalars"), Sub("drop", "drop", "drop scalars"), Sub("dir", "dir", "list scalars")))
def scalar(session, cmd):
    body = cmd.body.strip()
    m = re.match(r"(de|def|defi|defin|define)\s+", body)
    if m:
        body = body[m.end():]
    words = body.split()
    if not words:
        raise StataError("invalid syntax", 198)
    if words[0] in ("list", "li", "dir") and "=" not in body:
        names = words[1:] or list(session.scalars)
        if names == ["_all"]:
            names = list(session.scalars)
        for nm in names:
            if nm not in session.scalars:
                raise StataError(f"scalar {nm} not found", 111)
            v = session.scalars[nm]
            session.out.line(f"{nm:>10} = {_scalar_text(v):>10}")
        return
    if words[0] == "drop" and "=" not in body:
        for nm in words[1:]:
            if nm == "_all":
                session.scalars.clear()
            elif nm in session.scalars:
                del session.scalars[nm]
            else:
                raise StataError(f"scalar {nm} not found", 111)
        return
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)", body, re.S)
    if not m or not m.group(2).strip():
        raise StataError("invalid syntax", 198)
    v = evaluate_scalar(m.group(2).strip(), session)
    session.scalars[m.group(1)] = v if isinstance(v, str) else float(v)


# ---- r() and e() ---------------------------------------------------------------------------------
def _val_text(v) -> str:
    return num_to_macro(float(v))


def _list_results(session, res, prefix: str, e=None) -> None:
    out = session.out
    if res is None:
        return
    if res.scalars:
        out.line("")
        out.line("scalars:")
        for k, v in res.scalars.items():
            out.line(f"{prefix}({k})".rjust(22) + " =  " + _val_text(v))
    if res.macros:
        out.line("")
        out.line("macros:")
        for k, v in res.macros.items():
            out.line(f"{prefix}({k})".rjust(22) + f' : "{v}"')
    mats = []
    if e is not None and len(np.asarray(e.b).ravel()):     # factor and pca post no e(b)
        k = len(np.asarray(e.b).ravel())
        mats += [("b", (1, k)), ("V", (k, k))]
    for k, v in res.matrices.items():
        shape = np.atleast_2d(np.asarray(getattr(v, "values", v), dtype=float)).shape
        mats.append((k, shape))
    if mats:
        out.line("")
        out.line("matrices:")
        for k, (r, c) in mats:
            out.line(f"{prefix}({k})".rjust(22) + f" :  {r} x {c}")
    if e is not None and e.sample is not None:
        out.line("")
        out.line("functions:")
        out.line(f"{prefix}(sample)".rjust(22) + "   ")


@command("return", abbrev="ret", raw=True, byable=False, changes_data=False,
          family="Programming", desc="list or set r() results", example="return list",
          subcommands=(Sub("list", "li", "list r() results"), Sub("clear", "clear", "clear r() results"), Sub("scalar", "sca", "return a scalar"), Sub("local", "loc", "return a macro"), Sub("matrix", "mat", "return a matrix")))
def return_(session, cmd):
    words = cmd.body.split()
    if words[:1] in (["list"], ["li"], ["l"]):
        if len(words) > 1:
            raise StataError("invalid syntax", 198)
        _list_results(session, session.r, "r")
        return
    pending = session.r_pending[-1] if session.r_pending else None
    if pending is None:
        raise StataError("non r-class program may not set r()", 151)
    if words[:1] == ["clear"]:
        pending.scalars.clear()
        pending.macros.clear()
        pending.matrices.clear()
        return
    m = re.fullmatch(r"(sca|scal|scala|scalar|local|loc|loca|matrix|mat|matr|matri)\s+([A-Za-z_]\w*)\s*(.*)",
                     cmd.body.strip(), re.S)
    if not m:
        raise StataError("invalid syntax", 198)
    kind, name, rest = m.groups()
    if kind.startswith("sca"):
        if not rest.startswith("="):
            rest = "=" + rest
        v = evaluate_scalar(rest[1:].strip(), session)
        if isinstance(v, str):
            raise StataError("type mismatch", 109)
        pending.scalars[name] = float(v)
    elif kind.startswith("loc"):
        pending.macros[name] = _macro_value(session, rest)
    else:
        src = rest.lstrip("=").strip()
        pending.matrices[name] = _get_matrix(session, src)[0].copy()


@command("args", raw=True, byable=False, changes_data=False,
          family="Programming", desc="name the arguments of a program", example="args y x")
def args(session, cmd):
    """`args a b c`: name the program's positional arguments."""
    for k, nm in enumerate(cmd.body.split(), 1):
        if not _NAME.fullmatch(nm):
            raise StataError(f"{nm} invalid name", 198)
        session.local[nm] = session.local.get(str(k), "")


@command("program", abbrev="pr", raw=True, byable=False, changes_data=False,
          family="Programming", desc="define, list and drop programs", example="program define hello",
          subcommands=(Sub("define", "de", "define a program"), Sub("list", "l", "list programs"), Sub("drop", "drop", "drop programs"), Sub("dir", "dir", "list programs")))
def program(session, cmd):
    """program drop/dir/list (definitions are read by the interpreter, up to `end`)."""
    progs = session.programs
    words = cmd.body.split()
    if not words:
        raise StataError("invalid syntax", 198)
    sub = words[0]
    # programs live outside the session snapshot: check every name before changing anything
    missing = [nm for nm in words[1:] if nm != "_all" and nm not in progs]
    if sub in ("drop", "list", "li", "l") and missing:
        raise StataError(f"program {missing[0]} not found", 111)
    if sub == "drop":
        for nm in words[1:]:
            if nm == "_all":
                progs.clear()
            else:
                progs.pop(nm, None)
        return
    if sub == "dir" and len(words) > 1:
        raise StataError("invalid syntax", 198)
    if sub in ("dir", "list", "li", "l"):
        for nm, prog in progs.items():
            if sub == "dir":
                session.out.line(f"  ado {nm}")
            elif len(words) == 1 or nm in words[1:] or "_all" in words[1:]:
                session.out.line("")
                session.out.line(f"{nm}:")
                for k, ln in enumerate(prog.body, 1):
                    session.out.line(f"{k:>3}.  {ln.text}")
        return
    raise StataError("invalid syntax", 198)


@command("ereturn", abbrev="eret", raw=True, byable=False, changes_data=False,
          family="Programming", desc="list e() results", example="ereturn list",
          subcommands=(Sub("list", "li", "list e() results"), Sub("clear", "clear", "clear e() results")))
def ereturn(session, cmd):
    if cmd.body.split() not in (["list"], ["li"], ["l"]):
        raise StataError("invalid syntax", 198)
    _list_results(session, session.e, "e", e=session.e)


# ---- matrices ---------------------------------------------------------------------------------
class NamedMatrix:
    """A matrix with Stata row/column names ('eq:name' or 'name'); `.values` is the array."""

    def __init__(self, values, rownames, colnames):
        self.values = np.atleast_2d(np.asarray(values, dtype=float))
        self.rownames = list(rownames)
        self.colnames = list(colnames)


def _split_name(n: str) -> tuple[str, str]:
    return tuple(n.split(":", 1)) if ":" in n else ("", n)


def _get_matrix(session, name: str):
    """name -> (values 2-D, row names, col names as (eq, name), symmetric?)."""
    from hlmshell.syntax import matrix_expr as mx
    m = mx.lookup(session, name)
    vals = m.values
    rows = [_split_name(str(r)) for r in m.rows]
    cols = [_split_name(str(c)) for c in m.cols]
    sym = vals.shape[0] == vals.shape[1] and vals.shape[0] > 1 and np.allclose(vals, vals.T, equal_nan=True)
    return vals, rows, cols, sym


def matrix_list_text(session, name: str) -> list[str]:
    vals, rows, cols, sym = _get_matrix(session, name)
    r, c = vals.shape
    out = [f"{'symmetric ' if sym else ''}{name}[{r},{c}]"]
    has_eq = any(q for q, _ in cols)
    rlab = [f"{q}:{n}" if q else n for q, n in rows]
    lw = max([len(x) for x in rlab] + [2]) + 1
    for start in range(0, c, 5):
        block = list(range(start, min(start + 5, c)))
        if has_eq:
            out.append(" " * lw + "".join(f"{(cols[j][0] + ':')[-10:]:>11}" for j in block))
        out.append(" " * lw + "".join(f"{cols[j][1][-10:]:>11}" for j in block))
        for i in range(r):
            cells = []
            for j in block:
                if sym and j > i:
                    break
                cells.append(f"{fmt_g(float(vals[i, j]), 10):>11}")
            if cells or not sym:
                out.append(f"{rlab[i]:<{lw}}" + "".join(cells))
        if start + 5 < c:
            out.append("")
    return out


@command("matrix", abbrev="mat", raw=True, byable=False, changes_data=False,
          family="Programming", desc="define, list and drop matrices", example="matrix list e(b)",
          subcommands=(Sub("define", "def", "define a matrix"), Sub("list", "l", "list a matrix"), Sub("drop", "drop", "drop matrices"), Sub("dir", "dir", "list matrices"), Sub("rownames", "rown", "set row names"), Sub("colnames", "coln", "set column names")))
def matrix(session, cmd):
    body = cmd.body.strip()
    m = re.match(r"(\w+)\s*(.*)", body, re.S)
    if not m:
        raise StataError("invalid syntax", 198)
    sub, rest = m.group(1), m.group(2).strip()
    handler = _MATRIX_SUBS.get(sub)
    if handler is not None:
        handler(session, rest)
        return
    _matrix_define(session, rest if sub in ("define", "def", "defi", "defin") else body)


def _raw_options(command: str, text: str, sub: str | None = None) -> Args:
    """Options after the comma of a raw command's text, bound to the spec on its registration
    line (raw commands keep their text verbatim, so the parser does not bind them)."""
    spec = REGISTRY.resolve(command)
    specs = spec.subcommand(sub).options if sub else spec.options or ()
    return bind_options(specs, parse_options(text), strict=True)


def _matrix_list(session, rest: str) -> None:
    name, _, opts = rest.partition(",")
    name = name.strip()
    if not name or len(name.split()) > 1:
        raise StataError("invalid syntax", 198)
    _raw_options("matrix", opts, "list")        # matrix list takes no options
    text = matrix_list_text(session, name)
    session.out.line("")
    for ln in text:
        session.out.line(ln)


def _matrix_dir(session, rest: str) -> None:
    for k, v in session.matrices.items():
        shape = np.atleast_2d(np.asarray(getattr(v, "values", v), dtype=float)).shape
        session.out.line(f"{k:>12}[{shape[0]},{shape[1]}]")


def _matrix_drop(session, rest: str) -> None:
    for nm in rest.split():
        if nm == "_all":
            session.matrices.clear()
        elif nm in session.matrices:
            del session.matrices[nm]
        else:
            raise StataError(f"matrix {nm} not found", 111)


_MATRIX_SUBS = {"list": _matrix_list, "li": _matrix_list, "l": _matrix_list, "dir": _matrix_dir,
                "drop": _matrix_drop}


def _matrix_define(session, body: str) -> None:
    """`matrix name = expression` (Stata's matrix expressions: hlmshell.syntax.matrix_expr),
    and `matrix name[i, j] = exp` for one element."""
    from hlmshell.syntax import matrix_expr as mx
    m = re.fullmatch(r"([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*=\s*(.+)", body, re.S)
    if not m:
        raise StataError("invalid syntax", 198)
    name, sub, src = m.group(1), m.group(2), m.group(3).strip()
    if sub:
        _matrix_set_element(session, name, sub[1:-1], src)
        return
    got = mx.evaluate_matrix(src, session, lambda text: evaluate_scalar(text, session))
    session.matrices[name] = NamedMatrix(got.values, got.rows, got.cols)


def _matrix_set_element(session, name: str, sub: str, src: str) -> None:
    from hlmshell.syntax import matrix_expr as mx
    m = mx.lookup(session, name)
    parts = sub.split(",")
    idx = [evaluate_scalar(p.strip(), session) for p in parts]
    if len(idx) == 1:
        idx = [1, idx[0]] if m.shape[0] == 1 else [idx[0], 1]
    if len(idx) != 2 or any(isinstance(i, str) or i != i for i in idx):
        raise StataError("invalid syntax", 198)
    i, j = int(idx[0]), int(idx[1])
    if not (1 <= i <= m.shape[0] and 1 <= j <= m.shape[1]):
        raise StataError("subscript invalid", 503)
    v = evaluate_scalar(src, session)
    if isinstance(v, str):
        raise StataError("type mismatch", 109)
    vals = m.values.copy()
    vals[i - 1, j - 1] = float(v)
    session.matrices[name] = NamedMatrix(vals, m.rows, m.cols)


def _matrix_names(which: str):
    """matrix rownames/colnames/roweq/coleq A = names."""
    def handler(session, rest: str) -> None:
        from hlmshell.syntax import matrix_expr as mx
        m = re.fullmatch(r"([A-Za-z_]\w*)\s*=\s*(.*)", rest, re.S)
        if not m:
            raise StataError("invalid syntax", 198)
        mat = mx.lookup(session, m.group(1))
        # a quoted name may hold blanks (`= "Patient intercept" "Hospice intercept"`)
        words = [q if q is not None and q != "" or w == "" and q is not None else w
                 for q, w in re.findall(r'"([^"]*)"|(\S+)', m.group(2))]
        current = mat.rows if which.startswith("row") else mat.cols
        if not words or len(words) > len(current):
            raise StataError("conformability error", 503)
        words += words[-1:] * (len(current) - len(words)) if which.endswith("eq") else []
        if len(words) != len(current):
            raise StataError("conformability error", 503)
        if which.endswith("eq"):
            new = [f"{w}:{c.split(':')[-1]}" if w != "_" else c.split(":")[-1]
                   for w, c in zip(words, current)]
        else:
            new = [w if ":" in w or ":" not in c else f"{c.split(':')[0]}:{w}"
                   for w, c in zip(words, current)]
            new = [w.replace("~", "") for w in new]
        rows, cols = (new, mat.cols) if which.startswith("row") else (mat.rows, new)
        session.matrices[m.group(1)] = NamedMatrix(mat.values, rows, cols)
    return handler


for _w, _full in (("rownames", "rownames"), ("rowname", "rownames"), ("rown", "rownames"),
                  ("colnames", "colnames"), ("colname", "colnames"), ("coln", "colnames"),
                  ("roweq", "roweq"), ("coleq", "coleq")):
    _MATRIX_SUBS[_w] = _matrix_names(_full)


# ---- do-files and flow --------------------------------------------------------------------------
def _find_dofile(word: str) -> Path:
    p = Path(word)
    cands = [p] if p.suffix else [p.with_suffix(".do"), p]
    for c in cands:
        if c.is_file():
            return c
    raise StataError(f"file {cands[0]} not found", 601)


def _split_do_args(body: str) -> tuple[str, str]:
    body = body.strip()
    if not body:
        raise StataError("invalid file specification", 198)
    if body.startswith('"'):
        end = body.find('"', 1)
        if end < 0:
            raise StataError("invalid file specification", 198)
        return body[1:end], body[end + 1:].strip()
    parts = body.split(None, 1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def _runner(session):
    """The interpreter's interface for running code, session.runner: the interpreter driving
    the session sets it (a bare Session, its handlers called directly, runs no do-files)."""
    if session.runner is None:
        raise StataError("no interpreter is running this session; do-files cannot run", 9999)
    return session.runner


def _run_file(session, cmd, echo: bool) -> None:
    fname, args = _split_do_args(cmd.body)
    path = _find_dofile(fname)
    runner = _runner(session)
    if echo:
        session.out.line("")
        runner.run_dofile(path, echo=True, args=args)
        return
    q = session.out.quiet
    session.out.quiet += 1
    try:
        runner.run_dofile(path, echo=False, args=args)
    finally:
        session.out.quiet = q


@command("do", raw=True, transactional=False, byable=False,
          family="Programming", desc="run a do-file", example="do 01_empty_model_icc.do")
def do(session, cmd):
    _run_file(session, cmd, echo=True)


@command("run", raw=True, transactional=False, byable=False,
          family="Programming", desc="run a do-file quietly", example="run setup.do")
def run(session, cmd):
    _run_file(session, cmd, echo=False)


@command("include", raw=True, transactional=False, byable=False,
          family="Programming", desc="run a do-file in the current context", example="include settings.do")
def include(session, cmd):
    fname, _ = _split_do_args(cmd.body)
    _runner(session).run_include(_find_dofile(fname))


def _return_code(session, text: str) -> int:
    """The `exp` of `error exp` / `exit exp`: a return code, an integer 0 to 32,767."""
    v = evaluate_scalar(text.strip().lstrip("=").strip(), session)
    if isinstance(v, str):
        raise StataError("type mismatch", 109)
    v = float(v)
    if not (math.isfinite(v) and v == int(v) and 0 <= v <= 32767):
        raise StataError("invalid syntax", 198)
    return int(v)


@command("exit", raw=True, transactional=False, byable=False,
          family="Programming", desc="leave a do-file, program or hlmshell", example="exit, clear",
          options=(Opt("clear", desc="exit even though the data have changed since last saved"),
                   Opt("STATA", desc="leave hlmshell itself (as exiting Stata)")))
def exit_(session, cmd):
    body, _, text = cmd.body.strip().partition(",")
    # STATA is Stata's capitalised option; hlmshell has always taken it in any case
    typed = [o if o.name.upper() != "STATA" else type(o)("STATA", o.arg) for o in parse_options(text)]
    opts = bind_options(REGISTRY.resolve("exit").options, typed, strict=True)
    rc = _return_code(session, body.strip()) if body.strip() else 0
    raise ExitDo(rc, opts.clear)


@command("continue", raw=True, byable=False, changes_data=False,
          family="Programming", desc="skip to the next loop iteration (break: leave it)", example="continue, break",
          options=(Opt("break", "b", desc="leave the loop instead of going on to its next iteration"),))
def continue_(session, cmd):
    before, _, text = cmd.body.strip().partition(",")
    if before.strip():
        raise StataError(f"option {before.strip()} not allowed", 198)
    opts = _raw_options("continue", text)
    if session.loop_depth == 0:
        return          # outside a loop there is nothing to continue or break
    raise BreakLoop() if getattr(opts, "break") else ContinueLoop()


@command("version", abbrev="vers", raw=True, byable=False, changes_data=False,
          family="Programming", desc="set the command interpreter's version", example="version 17")
def version(session, cmd):
    """`version` shows 17.0; `version #` is accepted for any release (hlmshell reads Stata 17
    syntax throughout). `version #: command` is a prefix (syntax.parser.split_prefixes)."""
    text = cmd.body.strip()
    if not text:
        session.out.line("version 17.0")
    elif not re.fullmatch(r"\d+(\.\d*)?(\s*,\s*user)?", text):
        raise StataError("invalid syntax", 198)


@command("error", raw=True, byable=False, changes_data=False,
          family="Programming", desc="exit with a return code", example="error 198")
def error(session, cmd):
    if not cmd.body.strip():
        raise StataError("invalid syntax", 198)
    rc = _return_code(session, cmd.body)
    if rc:
        raise StataError("", rc)


@command("sleep", raw=True, byable=False, changes_data=False,
          family="Programming", desc="pause for # milliseconds", example="sleep 100")
def sleep(session, cmd):
    return None


@command("pause", raw=True, byable=False, changes_data=False,
          family="Programming", desc="pause a program (ignored unless pause on)", example="pause")
def pause(session, cmd):
    return None


# ---- working directory ------------------------------------------------------------------------
@command("pwd", raw=True, byable=False, changes_data=False,
          family="Files", desc="show the working directory", example="pwd")
def pwd(session, cmd):
    import os

    session.out.line(os.getcwd())


@command("cd", raw=True, byable=False, changes_data=False,
          family="Files", desc="change the working directory", example="cd mydata")
def cd(session, cmd):
    """`cd dir` changes the working directory (data and do-file paths resolve from it)."""
    import os

    target = strip_quotes(cmd.body) if cmd.body.strip() else os.path.expanduser("~")
    try:
        os.chdir(os.path.expanduser(target))
    except OSError:
        raise StataError(f"unable to change to {target}", 170) from None
    session.out.line(os.getcwd())


# ---- confirm ------------------------------------------------------------------------------------
@command("confirm", abbrev="conf", raw=True, byable=False, changes_data=False,
          family="Programming", desc="verify that something is what it should be", example="confirm variable ses")
def confirm(session, cmd):
    """confirm [new|numeric|string] variable, confirm [new] file, confirm [integer] number."""
    words = cmd.body.split(None, 1)
    if not words:
        raise StataError("invalid syntax", 198)
    kind, rest = words[0], words[1] if len(words) > 1 else ""
    if kind in ("new", "numeric", "string", "integer", "str"):
        sub = rest.split(None, 1)
        what, rest = (sub[0], sub[1] if len(sub) > 1 else "") if sub else ("", "")
    else:
        what, kind = kind, ""
    if abbrev_match(what, "variable", 1):
        _confirm_variables(session, kind, rest)
    elif what == "file":
        _confirm_file(kind, rest)
    elif what in ("number", "integer") or (kind == "integer" and what == "number"):
        _confirm_number(kind, rest)
    else:
        raise StataError("invalid syntax", 198)


def _confirm_variables(session, kind: str, rest: str) -> None:
    if kind == "new":
        for nm in expand_varlist(session.data, rest, new=True):
            if nm in session.data.vars:
                raise StataError(f"variable {nm} already defined", 110)
        return
    for nm in expand_varlist(session.data, rest):
        v = session.data.var(nm)
        if kind == "numeric" and v.is_string:
            raise StataError(f"{nm} found where numeric variable expected", 7)
        if kind in ("string", "str") and not v.is_string:
            raise StataError(f"{nm} found where string variable expected", 7)


def _confirm_file(kind: str, rest: str) -> None:
    target = strip_quotes(rest)
    exists = Path(target).exists()
    if kind == "new" and exists:
        raise StataError(f"file {target} already exists", 602)
    if kind != "new" and not exists:
        raise StataError(f"file {target} not found", 601)


def _confirm_number(kind: str, rest: str) -> None:
    text = rest.strip()
    try:
        val = float(text)
    except ValueError:
        raise StataError(f"{text} found where number expected", 7) from None
    if kind == "integer" and not val.is_integer():
        raise StataError(f"{text} found where integer expected", 7)
