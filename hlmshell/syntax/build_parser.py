"""Regenerate hlmshell/syntax/generated_parser.py, the prebuilt LALR parser, from grammar/stata.lark.

    python -m hlmshell.syntax.build_parser            # rewrite the shipped module
    python -m hlmshell.syntax.build_parser --check    # exit 1 if it is out of date
    python -m hlmshell.syntax.build_parser --out F    # write elsewhere

Building lark's parser from the grammar costs ~0.13 s, on every start of hlmshell; the
generated module is lark's standalone parser (`lark.tools.standalone`: lark's runtime and the
serialized parse tables, as Python literals, no pickle) built with exactly the options hlmshell
parses with, so loading it costs a few milliseconds and needs no `import lark` at all. The
grammar file stays the source of truth: tests/test_startup.py fails when the module is not
what this script makes from it (the grammar's SHA-256 is recorded in the module).

This is a developer's tool, run from a source checkout; hlmshell never writes a parser at run
time. Two adjustments make the output reproducible and fit the project's rules:
- lark numbers parser states and tokens in set-iteration order, which differs from run to run;
  the tables are renumbered canonically (tokens by name, states breadth-first from the start
  rules), so regenerating an unchanged grammar gives the same file byte for byte;
- `Lark.__init__` (building a parser from a grammar: unused here, the tables are loaded by
  `Lark_StandAlone()`, which bypasses it) is replaced by a stub, so the module keeps within the
  project's complexity cap.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import re
import sys
from collections import deque
from pathlib import Path

from hlmshell.syntax.grammar_source import LARK_OPTIONS, START_RULES, grammar_text

TARGET = Path(__file__).with_name("generated_parser.py")
SOURCE_GRAMMAR = Path(__file__).resolve().parents[2] / "grammar" / "stata.lark"   # in a checkout

HEADER = '''\
# GENERATED FILE, do not edit: `python -m hlmshell.syntax.build_parser` writes it from
# grammar/stata.lark (lark's standalone LALR parser; see hlmshell/syntax/build_parser.py).
# The lark code below is under the Mozilla Public License 2.0 (see its notice).
GRAMMAR_SHA256 = "{sha}"
BUILD_OPTIONS = {options!r}
'''

_INIT_STUB = '''\
    def __init__(self, grammar, **options) -> None:
        ##  hlmshell: building a parser from a grammar is removed from this generated module
        ##  (see hlmshell/syntax/build_parser.py); Lark_StandAlone() loads the tables below.
        raise NotImplementedError("generated parser: use Lark_StandAlone()")

'''


def grammar_sha256(text: str | None = None) -> str:
    return hashlib.sha256((grammar_text() if text is None else text).encode("utf-8")).hexdigest()


def build_options() -> dict:
    return {"start": list(START_RULES), **LARK_OPTIONS}


def _canonical_table(table: dict) -> dict:
    """The serialized LALR table with tokens numbered by name and states breadth-first from
    the start rules (transitions followed in token-name order): the same numbering whatever
    order lark's sets came out in."""
    names = table["tokens"]                       # old index -> name
    new_tok = {old: i for i, old in enumerate(sorted(names, key=lambda k: names[k]))}
    states = table["states"]
    order: dict[int, int] = {}
    queue = deque(table["start_states"][s] for s in sorted(table["start_states"]))
    while queue:
        st = queue.popleft()
        if st in order:
            continue
        order[st] = len(order)
        for tok in sorted(states[st], key=lambda k: names[k]):
            action, arg = states[st][tok]
            if action == 0:                       # shift / goto: arg is the next state
                queue.append(arg)
    missing = set(states) - set(order)
    if missing:
        raise RuntimeError(f"parse states unreachable from the start rules: {sorted(missing)}")
    new_states = {}
    for old, new in sorted(order.items(), key=lambda kv: kv[1]):
        acts = states[old]
        new_states[new] = {new_tok[t]: ((0, order[a[1]]) if a[0] == 0 else a)
                           for t, a in sorted(acts.items(), key=lambda kv: new_tok[kv[0]])}
    return {"tokens": {new_tok[k]: names[k] for k in sorted(names, key=lambda k: new_tok[k])},
            "states": new_states,
            "start_states": {s: order[table["start_states"][s]] for s in sorted(table["start_states"])},
            "end_states": {s: order[table["end_states"][s]] for s in sorted(table["end_states"])}}


def _stub_lark_init(code: str) -> str:
    """Replace the body of `class Lark`'s __init__ (up to the next class-level statement)."""
    lines = code.splitlines(keepends=True)
    cls = next(i for i, ln in enumerate(lines) if ln.startswith("class Lark(Serialize)"))
    start = next(i for i in range(cls, len(lines)) if lines[i].startswith("    def __init__("))
    end = next(i for i in range(start + 1, len(lines)) if re.match(r"    \S", lines[i]))
    return "".join(lines[:start]) + _INIT_STUB + "".join(lines[end:])


def generate() -> str:
    """The text of generated_parser.py for the grammar as it is now."""
    from lark import Lark  # the grammar compiler: needed only to regenerate, never at run time
    from lark.tools.standalone import gen_standalone

    text = grammar_text()
    parser = Lark(text, start=list(START_RULES), **LARK_OPTIONS)
    buf = io.StringIO()

    def output(*args):
        if args and isinstance(args[0], dict) and args[0].get("__type__") == "Lark":
            data = dict(args[0])
            data["parser"] = dict(data["parser"], parser=_canonical_table(data["parser"]["parser"]))
            args = (data,)
        print(*args, file=buf)

    gen_standalone(parser, output=output)
    body = _stub_lark_init(buf.getvalue())
    return HEADER.format(sha=grammar_sha256(text), options=build_options()) + body


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hlmshell.syntax.build_parser",
                                 description="Regenerate the prebuilt parser from grammar/stata.lark.")
    ap.add_argument("--check", action="store_true", help="exit 1 if the shipped parser is out of date")
    ap.add_argument("--out", type=Path, default=TARGET, help=f"output file (default {TARGET})")
    args = ap.parse_args(argv)
    if not args.check and args.out == TARGET and not SOURCE_GRAMMAR.exists():
        print("not a source checkout (no grammar/stata.lark beside the package): the installed "
              "parser is not rewritten; pass --out FILE", file=sys.stderr)
        return 2
    text = generate()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: run python -m hlmshell.syntax.build_parser",
                  file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
