"""Data frames (Stata 16+): several datasets in memory, one of them current.

    frame create name [newvarlist] | change | copy from to [, replace] | rename old new |
    drop names | dir | pwf | reset | put varlist|if [in], into(name)
    frame name: command        frame name { ... }  (the block: interpreter.py)
    cwf name   mkf name   pwf   frames ...   c(frame)

The current frame's data is session.data, as always, so every other command is unaware of
frames; session.frames holds the other frames' Datasets by name and session.frame the
current name. Switching frames moves Datasets between the two; a copy shares the columns
(copy-on-write, data/dataset.py). Both live in the session snapshot, so a failed command
leaves the frames as they were.
"""
from __future__ import annotations

import re
from contextlib import contextmanager

import numpy as np

from hlmshell.commands._toolkit import check_name, touse, varlist
from hlmshell.data.dataset import Dataset, Variable, is_string_type
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import Sub, abbrev_match, command
from hlmshell.results import RResults
from hlmshell.syntax.ast import Command
from hlmshell.syntax.lexer import find_top
from hlmshell.syntax.parser import fill_qualifiers

_NAME = re.compile(r"[^\W\d]\w{0,31}$")
_PREFIX = re.compile(r"([^\W\d]\w*)\s*:(.*)$", re.S)


# ---- the frames of a session ---------------------------------------------------------------------
def _others(session) -> dict:
    frames = getattr(session, "frames", None)
    if frames is None:
        frames = session.frames = {}
    return frames


def current(session) -> str:
    return getattr(session, "frame", "default")


def names(session) -> list[str]:
    return sorted([current(session), *_others(session)])


def _check_new(session, name: str) -> None:
    if not _NAME.match(name) or name in ("_all",):
        raise StataError(f"{name} invalid name", 198)
    if name in names(session):
        raise StataError(f"frame {name} already defined", 110)


def _existing(session, name: str) -> str:
    if name not in names(session):
        raise StataError(f"frame {name} not found", 111)
    return name


def dataset_of(session, name: str) -> Dataset:
    return session.data if name == current(session) else _others(session)[name]


def change_to(session, name: str) -> None:
    """Make frame `name` current (it must exist)."""
    cur = current(session)
    if name == cur:
        return
    others = _others(session)
    data = others.pop(_existing(session, name))
    others[cur] = session.data
    session.data, session.frame = data, name


@contextmanager
def in_frame(session, name: str):
    """Run the body with frame `name` current, then go back to the frame that was current
    (even after an error), unless the body dropped or renamed it."""
    back = current(session)
    change_to(session, name)
    try:
        yield
    finally:
        if back in names(session):
            change_to(session, back)


# ---- the command -------------------------------------------------------------------------------
_SUBS = (Sub("create", "create", "create a new, empty frame", (), "newframe [newvarlist]"),
         Sub("change", "change", "make a frame current", (), "framename"),
         Sub("copy", "copy", "copy a frame", "replace", "from to"),
         Sub("rename", "rename", "rename a frame", (), "oldname newname"),
         Sub("drop", "drop", "drop frames", (), "framelist"),
         Sub("dir", "dir", "list the frames in memory", (), ""),
         Sub("pwf", "pwf", "show the current frame", (), ""),
         Sub("reset", "reset", "drop all frames and data", (), ""),
         Sub("put", "put", "copy variables or observations into a new frame", "into=name",
             "varlist | if exp [in]"))


@command("frame", byable=False, raw=True, aliases=("frames",), family="Data management",
         desc="data frames: several datasets in memory", example="frame create results",
         subcommands=_SUBS)
def frame_cmd(session, cmd):
    body = cmd.body.strip()
    if not body:
        _pwf(session, "")
        return
    m = _PREFIX.match(body)
    if m and find_top(body, ":") == m.start(2) - 1:
        _prefix(session, m.group(1), m.group(2))
        return
    sub, _, rest = body.partition(" ")
    spec = next((s for s in _SUBS if s.matches(sub)), None)
    if spec is None:
        raise syntax_error()
    _HANDLERS[spec.name](session, rest.strip())


def _prefix(session, name: str, text: str) -> None:
    if not text.strip():
        raise syntax_error()
    _existing(session, name)
    with in_frame(session, name):
        session.runner.run_command(text)


def _words(rest: str, n: int) -> list[str]:
    words = rest.split()
    if len(words) != n:
        raise syntax_error()
    return words


def _create(session, rest: str) -> None:
    words = rest.split()
    if not words:
        raise syntax_error()
    _check_new(session, words[0])
    data = Dataset()
    for vtype, name in _newvars(words[1:]):
        values = np.empty(0, dtype=object) if is_string_type(vtype) else np.empty(0)
        data.vars[name] = Variable(name, values, vtype)
    _others(session)[words[0]] = data


_TYPES = re.compile(r"(byte|int|long|float|double|str\d+|strL)$")


def _newvars(words: list[str]) -> list[tuple[str, str]]:
    out, vtype = [], "float"
    for w in words:
        if _TYPES.match(w):
            vtype = w
            continue
        check_name(w)
        if any(w == n for _, n in out):
            raise StataError(f"{w} already defined", 110)
        out.append((vtype, w))
        vtype = "float"
    return out


def _change(session, rest: str) -> None:
    (name,) = _words(rest, 1)
    change_to(session, name)


def _copy(session, rest: str) -> None:
    main, _, opts = rest.partition(",")
    src, dst = _words(main, 2)
    replace = _replace_option(opts)
    _existing(session, src)
    if dst in names(session):
        if not replace:
            raise StataError(f"frame {dst} already defined", 110)
        if dst == current(session):
            session.data = dataset_of(session, src).copy()
            return
    elif not _NAME.match(dst):
        raise StataError(f"{dst} invalid name", 198)
    _others(session)[dst] = dataset_of(session, src).copy()


def _replace_option(opts: str) -> bool:
    words = opts.split()
    for w in words:
        if not abbrev_match(w, "replace", 7):
            raise StataError(f"option {w} not allowed", 198)
    return bool(words)


def _rename(session, rest: str) -> None:
    old, new = _words(rest, 2)
    _existing(session, old)
    _check_new(session, new)
    if old == current(session):
        session.frame = new
    else:
        others = _others(session)
        others[new] = others.pop(old)


def _drop(session, rest: str) -> None:
    todo = rest.split()
    if not todo:
        raise syntax_error()
    for name in todo:
        _existing(session, name)
        if name == current(session):
            raise StataError(f"frame {name} is the current frame and cannot be dropped", 110)
    for name in todo:
        _others(session).pop(name, None)


def _dir(session, rest: str) -> None:
    if rest:
        raise syntax_error()
    all_names = names(session)
    width = max(len(n) for n in all_names)
    for name in all_names:
        data = dataset_of(session, name)
        label = f"; {data.label}" if data.label else ""
        session.out.line(f"  {name:<{width}}  {data.n} x {len(data.vars)}{label}")
    session.r = RResults(macros={"frames": " ".join(all_names)})


def _pwf(session, rest: str) -> None:
    if rest:
        raise syntax_error()
    session.out.line(f"  (current frame is {current(session)})")
    session.r = RResults(macros={"currentframe": current(session)})


def _reset(session, rest: str) -> None:
    if rest:
        raise syntax_error()
    session.frames = {}
    session.frame = "default"
    session.data = Dataset()


def _put(session, rest: str) -> None:
    cmd = Command(name="frame")
    fill_qualifiers(cmd, rest, allow_exp=False)
    if cmd.weight is not None:
        raise StataError("weights not allowed", 101)
    into = [o for o in cmd.options if abbrev_match(o.name, "into", 4)]
    if len(cmd.options) != 1 or not into or not (into[0].arg or "").strip():
        raise StataError("option into() required", 198) if not into else syntax_error()
    target = into[0].arg.strip()
    _check_new(session, target)
    if not cmd.body and cmd.if_ is None and cmd.in_ is None:
        raise syntax_error()
    keep = varlist(session, cmd.body) if cmd.body else list(session.data.names)
    mask = touse(session, cmd)
    src = session.data
    data = Dataset(value_labels={k: dict(v) for k, v in src.value_labels.items()})
    for name in keep:
        v = src.vars[name]
        data.vars[name] = v.evolve(values=v.values[mask])
    data._n = int(mask.sum())
    _others(session)[target] = data


_HANDLERS = {"create": _create, "change": _change, "copy": _copy, "rename": _rename,
             "drop": _drop, "dir": _dir, "pwf": _pwf, "reset": _reset, "put": _put}


@command("cwf", byable=False, raw=True, family="Data management", desc="change working frame",
         example="cwf results")
def cwf_cmd(session, cmd):
    _change(session, cmd.body)


@command("mkf", byable=False, raw=True, family="Data management", desc="make a new frame",
         example="mkf results")
def mkf_cmd(session, cmd):
    _create(session, cmd.body)


@command("pwf", byable=False, raw=True, family="Data management", changes_data=False,
         desc="show the current (working) frame", example="pwf")
def pwf_cmd(session, cmd):
    _pwf(session, cmd.body.strip())
