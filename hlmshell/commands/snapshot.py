"""snapshot save/restore/list/label/erase: copies of the data kept for the session.

Snapshots live in session.data_snapshots (# -> (label, creation time, Dataset)); a copy of a
Dataset shares its read-only columns (copy-on-write), so a snapshot costs little memory.
"""
from __future__ import annotations

import datetime as _dt
import re

from hlmshell.commands._toolkit import typed_args
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import Opt, Sub, command
from hlmshell.results import RResults
from hlmshell.syntax.numlist import numlist

MAX_SNAPSHOTS = 1000


def _store(session) -> dict:
    snaps = getattr(session, "data_snapshots", None)
    if snaps is None:
        snaps = session.data_snapshots = {}
    return snaps


def _unquote(text: str) -> str:
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] == '"':
        return t[1:-1]
    if t.startswith('`"') and t.endswith("\"'"):
        return t[2:-2]
    return t


def _stamp(when: _dt.datetime) -> str:
    return f"{when.day:2d} {when.strftime('%b %Y %H:%M')}".strip()


def _describe(k: int, entry) -> str:
    label, when, _ = entry
    lab = f" ({label})" if label else ""
    return f"snapshot {k}{lab} created at {_stamp(when)}"


def _numbers(session, text: str) -> list[int]:
    """`_all` or a numlist of existing snapshot numbers."""
    snaps = _store(session)
    t = text.strip()
    if t in ("", "_all"):
        return sorted(snaps)
    try:
        nums = numlist(t)
    except StataError:
        raise syntax_error() from None
    out = []
    for x in nums:
        if x != int(x) or int(x) not in snaps:
            raise StataError(f"snapshot {x:g} not found", 111)
        out.append(int(x))
    return out


_SUBS = (Sub("save", "save", "save a snapshot of the data", (Opt("label", type="string", desc="label of up to 80 characters"),), ""),
         Sub("label", "label", "change a snapshot's label", (), "# \"label\""),
         Sub("restore", "restore", "replace the data by a snapshot", (), "#"),
         Sub("list", "list", "list snapshots", (), "[_all | numlist]"),
         Sub("erase", "erase", "erase snapshots", (), "_all | numlist"))


@command("snapshot", byable=False, qualifiers="", family="Data management", body="anything",
          desc="save and restore data snapshots", example='snapshot save, label("before recode")',
          subcommands=_SUBS)
def snapshot_cmd(session, cmd):
    sub, _, rest = (cmd.body or "").strip().partition(" ")
    spec = next((s for s in _SUBS if s.matches(sub)), None)
    if spec is None:
        raise syntax_error()
    opts = typed_args(cmd, sub=spec.name)
    {"save": _save, "label": _label, "restore": _restore, "list": _list,
     "erase": _erase}[spec.name](session, rest.strip(), opts)


def _save(session, rest: str, opts) -> None:
    if rest:
        raise syntax_error()
    snaps = _store(session)
    if len(snaps) >= MAX_SNAPSHOTS:
        raise StataError(f"too many snapshots; at most {MAX_SNAPSHOTS} allowed", 198)
    label = _unquote(opts.label or "")
    if len(label) > 80:
        raise StataError("label must be 80 characters or fewer", 198)
    k = max(snaps, default=0) + 1
    snaps[k] = (label, _dt.datetime.now(), session.data.copy())
    session.out.line(_describe(k, snaps[k]))
    session.r = RResults(scalars={"snapshot": float(k)})


def _label(session, rest: str, opts) -> None:
    m = re.match(r"(\S+)\s+(.+)$", rest, re.S)
    if not m:
        raise syntax_error()
    (k,) = _numbers(session, m.group(1))[:1] or [None]
    if k is None:
        raise syntax_error()
    snaps = _store(session)
    label = _unquote(m.group(2))
    if len(label) > 80:
        raise StataError("label must be 80 characters or fewer", 198)
    _, when, data = snaps[k]
    snaps[k] = (label, when, data)


def _restore(session, rest: str, opts) -> None:
    nums = _numbers(session, rest) if rest else []
    if len(nums) != 1 or not re.fullmatch(r"\d+", rest):
        raise syntax_error()
    data = _store(session)[nums[0]][2].copy()
    session.data = data


def _list(session, rest: str, opts) -> None:
    snaps = _store(session)
    for k in _numbers(session, rest):
        session.out.line(_describe(k, snaps[k]))


def _erase(session, rest: str, opts) -> None:
    if not rest:
        raise syntax_error()
    snaps = _store(session)
    for k in _numbers(session, rest):
        del snaps[k]
