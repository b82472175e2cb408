"""Runs commands: macro expansion, prefixes, blocks and loops, do-files, errors.

The pipeline (each stage a value handed to the next):

    text --lexer.logical_lines--> [Line] --statements.parse_lines--> Block (tree, parsed once)
         --Interpreter._exec (one visitor per statement kind)--> execute(command text)
         --expand_macros--> parser.parse_command --> Command --> handler(session, cmd)

Every command runs inside session.snapshot(); a StataError (or any unexpected exception,
turned into one, r(9999); HLMSHELL_DEBUG=1 re-raises it instead) puts the snapshot back and
prints Stata's message and `r(#);`. Running out of memory is Stata's r(909) and a runaway
recursion Stata's r(1000), both ordinary errors that `capture` catches: do-files, programs and
blocks are counted as they nest (limits.py) instead of waiting for Python's RecursionError.
Loop bodies, if-branches and program bodies are parsed once into statements; their command
texts, loop heads and conditions keep their macros, expanded each time they run.
What handlers may see of all this is session state (programs, loop depth, r() being built)
and session.runner (run a do-file, include a file), never the interpreter.

Command specs read here (hlmshell/registry.py; the global REGISTRY unless the Interpreter is
given its own): byable is Byable.SELF (the handler does `by` itself) or Byable.NO (`may not
be combined with by` r(190)), otherwise the handler runs once per by-group with
session.by_restrict set; transactional=False (do/run/include/exit: no snapshot, a failing
do-file keeps what it did before the error, as in Stata); qualifiers/options
(check_qualifiers: if/in/weights/options the command does not take are Stata's r(101)/r(198)
before the handler runs). Every other command runs inside a snapshot, which costs
microseconds whatever the data (copy-on-write columns, data/dataset.py).
"""
from __future__ import annotations

import math
import re
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from hlmshell.errors import Break, ExitDo, StataError, debug_enabled
from hlmshell.limits import MAX_BLOCK_NESTING, MAX_NESTING, ensure_stack, no_memory, system_limit
from hlmshell.registry import REGISTRY, Byable, Registry, abbrev_match, check_qualifiers
from hlmshell.results import RResults
from hlmshell.syntax.evaluate import by_groups, evaluate_scalar
from hlmshell.syntax.flow import BreakLoop, ContinueLoop
from hlmshell.syntax.functions import is_str, num_text
from hlmshell.syntax.lexer import Line, logical_lines, tokens, top_words
from hlmshell.syntax.macros import expand_macros, num_to_macro
from hlmshell.syntax.numlist import forvalues_range, numlist
from hlmshell.syntax.oldfor import check_lengths, parse_for, substitute
from hlmshell.output.coeftable import table_formats
from hlmshell.syntax.parser import (PrefixError, parse_command, parse_expr, split_prefixes,
                                    try_parse_expr)
from hlmshell.syntax.statements import (Block, CommandStmt, Comment, ElseStmt, ErrorStmt,
                                        ForeachStmt, FrameBlock, ForvaluesStmt, IfStmt, InputStmt,
                                        PrefixBlock, ProgramDef, WhileStmt, is_else,
                                        parse_lines)
from hlmshell.syntax.varlist import expand_varlist

DASHES = "-" * 79
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Printed(StataError):
    """An error whose message (and r(#)) was already shown by an inner do-file."""


def _no_memory_to_load(exc: ImportError) -> bool:
    """The OS could not map a shared library of a module imported on first use (pandas,
    scipy): out of memory, as a failed allocation is."""
    text = str(exc).lower()
    return "failed to map segment" in text or "cannot allocate memory" in text


def _session_field(name: str) -> property:
    """An attribute that lives in the session (the state handlers and snapshots see)."""
    return property(lambda self: getattr(self.session, name),
                    lambda self, value: setattr(self.session, name, value))


class _Runner:
    """The narrow interface handlers get (session.runner): run a do-file or include a file.
    Everything else they need (programs, r() being built, loop depth) is session state."""

    def __init__(self, interp: "Interpreter"):
        self._interp = interp

    def run_dofile(self, path, echo: bool = True, args: str = "") -> int:
        return self._interp.run_dofile(path, echo=echo, args=args)

    def run_include(self, path) -> None:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        self._interp.run_include(logical_lines(text), str(path))

    # -- prefix commands (statsby): run one command line, already macro-expanded; raises
    #    StataError like any command (hlmshell/commands/statsby.py)
    def run_command(self, text: str) -> None:
        self._interp.execute(text, expanded=True)


def _raise(err: Exception) -> None:
    raise err


class Interpreter:
    programs = _session_field("programs")
    r_pending = _session_field("r_pending")
    loop_depth = _session_field("loop_depth")
    nesting = _session_field("nesting")

    def __init__(self, session, registry: Registry | None = None):
        ensure_stack()                  # room for the nesting hlmshell allows (limits.py)
        self.session = session
        self.registry = REGISTRY if registry is None else registry
        session.attach(self, _Runner(self))
        if not hasattr(session, "by_restrict"):
            session.by_restrict = None
        self.capture_depth = 0
        self.active = 0                 # entry points currently running (run_line/run_text)
        self.depth = 0                  # nested do-files
        self.nesting = 0                # do-files + programs + includes running (Stata: 64 at most)
        self.block_depth = 0            # { } blocks being run, across all levels
        self.level_lines: dict[int, int] = {}   # nesting level -> line it is running
        self.loop_depth = 0
        self.exit_requested = False     # `exit` typed at the top level
        self.error_location: tuple[str, int] | None = None
        self._interrupted = False       # set by our SIGINT handler; checked between statements
        try:
            self.registry.prepare()     # the command index (or every module of a test's table)
        except Exception as exc:  # a broken command module must not stop the shell  # noqa: BLE001
            if debug_enabled():
                raise
            sys.stderr.write(f"hlmshell: some commands could not be loaded ({type(exc).__name__}: {exc})\n")
        self.programs = {}
        self.r_pending = []             # r() being built by running r-class programs
        self.current: tuple[str, int] = ("", 0)

    @property
    def out(self):
        return self.session.out

    # ---- entry points --------------------------------------------------------------------------
    def run_line(self, text: str) -> int:
        """REPL entry: run what the user typed (one command or a complete block); never raises."""
        lines = logical_lines(text)
        if self.session.settings.get("cmdlog"):     # the line as typed, before it runs
            from hlmshell.commands.log_tools import record_typed
            record_typed(self.session, text)
        return self._top(lambda: self._exec_lines(lines, echo="none"))

    def run_text(self, text: str, echo: bool = True, name: str = "") -> int:
        """Run do-file text in its own local scope; errors stop it (`end of do-file`).

        With echo=False and no name at the top level the text runs as if typed at the prompt
        (the REPL's multi-line blocks): current locals, no `end of do-file`.
        """
        lines = logical_lines(text)
        if not echo and not name and self.active == 0:
            return self._top(lambda: self._exec_lines(lines, echo="none"))
        if self.active == 0:
            return self._top(lambda: self._run_do(lines, echo, name), dofile=True)
        return self._run_do(lines, echo, name)

    def run_dofile(self, path, echo: bool = True, args: str = "") -> int:
        p = Path(path)
        if not p.is_file():
            err = StataError(f"file {path} not found", 601)
            if self.active == 0:
                def fail():
                    raise err
                return self._top(fail)
            raise err
        text = p.read_text(encoding="utf-8", errors="replace")
        return self._run_with_args(text, echo, str(p), args)

    def _run_with_args(self, text, echo, name, args):
        lines = logical_lines(text)

        def go():
            return self._run_do(lines, echo, name, args)

        if self.active == 0:
            return self._top(go, dofile=True)
        return go()

    # ---- top level: print errors, never raise ------------------------------------------------------
    def _top(self, fn, dofile: bool = False) -> int:
        quiet0 = self.out.quiet
        old_handler = None
        if self.active == 0:
            self.error_location = None
            self._interrupted = False
            old_handler = self._install_sigint()
        self.active += 1
        try:
            fn()
            return 0
        except _Printed as e:
            self._show("")
            self._show(f"r({e.rc});")
            if self.error_location and not self.capture_depth:
                where, line = self.error_location
                sys.stderr.write(f"hlmshell: {where} stopped at line {line} with r({e.rc})\n")
            return e.rc
        except StataError as e:
            self._show_error(e)
            return e.rc
        except ExitDo as e:
            if not dofile:
                self.exit_requested = True
                raise
            return e.rc
        except (Break, KeyboardInterrupt):
            self.out.quiet = quiet0
            self._show("--Break--")
            self._show("r(1);")
            return 1
        except (ContinueLoop, BreakLoop):
            return 0
        except (MemoryError, RecursionError) as exc:    # a backstop: _exec_at converts them first
            if debug_enabled():
                raise
            self.out.quiet = quiet0
            self._show_error(no_memory() if isinstance(exc, MemoryError) else system_limit())
            return 909 if isinstance(exc, MemoryError) else 1000
        except Exception as exc:  # never a traceback at the prompt  # noqa: BLE001
            if debug_enabled():
                raise
            self._show(f"unexpected error ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})")
            self._show("r(9999);")
            return 9999
        finally:
            self.active -= 1
            self.out.quiet = quiet0
            if old_handler is not None:
                signal.signal(signal.SIGINT, old_handler)

    def _install_sigint(self):
        """Remember a Ctrl-C even when Python drops its KeyboardInterrupt (raised inside a
        finalizer, say): statements and loop passes check the flag and stop with --Break--."""
        if threading.current_thread() is not threading.main_thread():
            return None
        current = signal.getsignal(signal.SIGINT)
        if current is not signal.default_int_handler:
            return None

        def handler(signum, frame):
            self._interrupted = True
            raise KeyboardInterrupt

        try:
            signal.signal(signal.SIGINT, handler)
        except (ValueError, OSError):
            return None
        return current

    def _check_break(self) -> None:
        if self._interrupted:
            self._interrupted = False
            raise Break()

    def _show(self, text: str) -> None:
        """Print even under quietly (errors show through quietly, not through capture)."""
        if self.capture_depth:
            return
        q = self.out.quiet
        self.out.quiet = 0
        try:
            self.out.line(text)
        finally:
            self.out.quiet = q

    def _show_error(self, e: StataError) -> None:
        if e.message:
            for ln in e.message.split("\n"):
                self._show(ln)
        self._show(f"r({e.rc});")

    # ---- do-files -----------------------------------------------------------------------------------
    def _run_do(self, lines: list[Line], echo: bool, name: str, args: str = "") -> int:
        s = self.session
        scope: dict[str, str] = {}
        if args:
            toks = tokens(args)
            scope["0"] = args
            for i, t in enumerate(toks, 1):
                scope[str(i)] = t
        self._enter_level()
        s.locals.append(scope)
        self.depth += 1
        mode = "top" if echo else "none"
        saved_loop = self.loop_depth
        self.loop_depth = 0
        try:
            self._exec_lines(lines, echo=mode, name=name)
        except ExitDo as e:
            if e.rc:
                self._do_error_tail(StataError("", e.rc), echo, printed=True)
        except (ContinueLoop, BreakLoop):
            pass
        except _Printed as e:
            self._do_error_tail(e, echo, printed=True)
        except (Break, KeyboardInterrupt):
            self._do_error_tail(StataError("--Break--", 1), echo, printed=False)
        except StataError as e:
            if self.error_location is None:
                # the do-file's own line, not one inside a program it called
                self.error_location = (name or "do-file", self.level_lines.get(self.nesting, self.current[1]))
            self._do_error_tail(e, echo, printed=False)
        else:
            if echo:
                self.out.line("end of do-file")
            return 0
        finally:
            self.depth -= 1
            self.nesting -= 1
            self.loop_depth = saved_loop
            if len(s.locals) > 1:
                s.locals.pop()
        return 0

    def _enter_level(self) -> None:
        """One more do-file, program or include running: Stata's 65th is r(1000)."""
        if self.nesting >= MAX_NESTING:
            raise system_limit()
        self.nesting += 1

    def run_include(self, lines: list[Line], name: str) -> None:
        """`include`: the file's lines run in the current scope, but as one more nesting level
        (a file that includes itself stops with r(1000), not a Python RecursionError)."""
        self._enter_level()
        try:
            self._exec_lines(lines, echo="none", name=name)
        finally:
            self.nesting -= 1

    def _do_error_tail(self, e: StataError, echo: bool, printed: bool):
        """Stop a do-file: the error (or, for a failed nested `do`, its r(#)), `end of do-file`."""
        if printed:
            self._show(f"r({e.rc});")
        else:
            self._show_error(e)
        if echo:
            self._show("")
            self._show("end of do-file")
        raise _Printed("", e.rc)

    # ---- executing lines -------------------------------------------------------------------------------
    def _echo_line(self, first: str, raw: str) -> None:
        """One echoed line, wrapped at Stata's 79 columns with `> ` continuations."""
        text = first + raw
        width = 79
        self.out.line(text[:width])
        rest = text[width:]
        while rest:
            self.out.line("> " + rest[: width - 2])
            rest = rest[width - 2:]

    def _echo(self, line: Line, mode: str, number: int | None = None) -> None:
        if mode == "none":
            return
        for k, raw in enumerate(line.echo or [line.text]):
            if k == 0:
                self._echo_line(". ", raw) if raw.strip() else self.out.line(". ")
            else:
                self._echo_line("> ", raw)

    def _exec_lines(self, lines: list[Line], echo: str = "none", name: str = "") -> None:
        """Parse `lines` into statements (once) and run them."""
        self._exec(parse_lines(lines), echo, name)

    def _exec(self, block: Block, echo: str = "none", name: str = "") -> None:
        stmts = block.statements
        i = 0
        while i < len(stmts):
            i = self._exec_at(stmts, i, echo, name)

    def _exec_at(self, stmts: tuple, i: int, echo: str, name: str) -> int:
        """Run stmts[i]; return the index of the statement after it.

        Memory running out outside a command's handler (expanding a macro, say) is r(909), and
        a Python recursion overflow that the nesting counters did not prevent is r(1000): both
        become StataErrors here, at the innermost statement, so `capture` sees them."""
        try:
            self._check_break()
            st = stmts[i]
            self.current = (name, st.line.lineno)
            self.level_lines[self.nesting] = st.line.lineno
            if isinstance(st, CommandStmt):
                return self._visit_command(stmts, i, echo, name)
            if isinstance(st, (Comment, ProgramDef, ErrorStmt, InputStmt)):
                _VISIT[type(st)](self, st, echo, name)
            else:
                with self._in_block():
                    _VISIT[type(st)](self, st, echo, name)
            return i + 1
        except MemoryError:
            if debug_enabled():
                raise
            raise no_memory() from None
        except RecursionError:
            if debug_enabled():
                raise
            raise system_limit() from None

    # ---- visitors: one per statement kind ---------------------------------------------------------------
    def _visit_comment(self, st: Comment, echo: str, name: str) -> None:
        if echo != "none":
            self._echo(st.line, echo)

    def _visit_error(self, st: ErrorStmt, echo: str, name: str) -> None:
        if not st.in_block:
            raise st.error()
        with self._in_block():
            raise st.error()

    def _visit_command(self, stmts: tuple, i: int, echo: str, name: str) -> int:
        """A command; after a one-line `if exp cmd` (known only now, after macro expansion)
        an `else` on the next line belongs to it."""
        st = stmts[i]
        self._echo(st.line, echo)
        taken = self.execute(st.text)
        nxt = i + 1
        if taken is not None and nxt < len(stmts) and isinstance(stmts[nxt], (CommandStmt, ElseStmt)) \
                and is_else(stmts[nxt].line.text):
            self._else_after_one_line_if(stmts[nxt], taken, echo, name)
            nxt += 1
        if echo == "top":
            self.out.line("")
        return nxt

    def _else_after_one_line_if(self, st, taken: bool, echo: str, name: str) -> None:
        """`if exp cmd` followed by `else cmd` or `else {`...`}`."""
        text = st.line.text.strip()[4:].strip()
        inner = "none" if echo == "none" else "inner"
        if isinstance(st, ElseStmt):
            if text[:-1].strip():
                raise StataError("invalid syntax", 198)
            if st.error is not None:
                raise st.error()
            self._echo(st.line, inner)
            if not taken:
                with self._in_block():
                    self._exec(st.body, echo=inner, name=name)
            self._echo(st.close, inner)
            return
        self._echo(st.line, inner)
        if not text:
            raise StataError("invalid syntax", 198)
        if not taken:
            self.current = (name, st.line.lineno)
            self.level_lines[self.nesting] = st.line.lineno
            self.execute(text)

    def _visit_input(self, st: InputStmt, echo: str, name: str) -> None:
        """`input`: the command runs with its data lines (session.input_lines), which it
        echoes itself, numbered, as Stata does."""
        self._echo(st.line, echo)
        self.session.input_lines = [ln.text for ln in st.data]
        self.session.input_echo = [ln.echo for ln in st.data]     # as typed (a Mata block's echo)
        try:
            self.execute(st.line.text)
        finally:
            self.session.input_lines = None
            self.session.input_echo = None
        if echo == "top":
            self.out.line("")

    def _visit_else(self, st: ElseStmt, echo: str, name: str) -> None:
        """An `else {` that follows no one-line `if`."""
        if st.error is not None:
            raise st.error()
        raise StataError("invalid syntax", 198)

    def _visit_program(self, st: ProgramDef, echo: str, name: str) -> None:
        """`program [define] name [, rclass]` ... `end`: keep the parsed body for later calls."""
        if echo != "none":
            self._echo(st.line, echo)
            for n, ln in enumerate(st.body_lines + (st.end,), start=1):
                for k, raw in enumerate(ln.echo or [ln.text]):
                    self._echo_line(f"{n:>3}. " if k == 0 else "> ", raw)
        if st.after_name and expand_macros(st.after_name, self.session).strip():
            if st.captured:                               # the macros gave the line more words
                self.session.rc = 198
                return
            raise StataError("invalid syntax", 198)
        if st.name in self.programs or self._is_builtin(st.name):
            if st.captured:             # capture program define: the old definition stays
                self.session.rc = 110
                return
            raise StataError(f"program {st.name} already defined", 110)
        if st.captured:
            self.session.rc = 0
        self.programs[st.name] = Program(st.name, list(st.body_lines), "rclass" in st.options,
                                         "eclass" in st.options, st.body)
        if echo == "top":
            self.out.line("")

    def _visit_loop(self, st, echo: str, name: str) -> None:
        """Stata echoes a loop as typed: `. foreach ... {`, then `  2. body`, ... `  n. }`."""
        if echo != "none":
            self._echo(st.echo_lines[0], echo)
            for n, ln in enumerate(st.echo_lines[1:], start=2):
                for k, raw in enumerate(ln.echo or [ln.text]):
                    self._echo_line(f"{n:>3}. " if k == 0 else "> ", raw)
        self._with_prefixes(list(st.prefixes), lambda: self._run_loop(st, name))
        if echo == "top":
            self.out.line("")

    def _visit_prefix_block(self, st: PrefixBlock, echo: str, name: str) -> None:
        self._echo(st.line, echo)
        inner = "none" if echo == "none" else "inner"
        self._run_prefix_block(st.prefix, st.body, inner, name)
        if echo != "none":
            self._echo(st.close, inner)
            if echo == "top":
                self.out.line("")

    def _visit_frame_block(self, st: FrameBlock, echo: str, name: str) -> None:
        """`frame name {` ... `}`: the body runs in that frame; the current frame comes back
        afterwards, also after an error."""
        from hlmshell.commands.frames import in_frame, names as frame_names

        self._echo(st.line, echo)
        inner = "none" if echo == "none" else "inner"
        frame = expand_macros(st.name, self.session).strip()
        if frame not in frame_names(self.session):
            raise StataError(f"frame {frame} not found", 111)
        with self._in_block(), in_frame(self.session, frame):
            self._exec(st.body, echo=inner, name=name)
        if echo != "none":
            self._echo(st.close, inner)
            if echo == "top":
                self.out.line("")

    def _visit_if(self, st: IfStmt, echo: str, name: str) -> None:
        """if exp { } [else if exp { }] [else { }]: the first condition is expanded before the
        echo, the others when they are evaluated."""
        inner = "none" if echo == "none" else "inner"
        first = expand_macros(st.branches[0][0], self.session)[2:].strip()
        if echo != "none":
            self._echo(st.line, echo)
        chosen = st.else_block
        for k, (cond, block) in enumerate(st.branches):
            text = first if k == 0 else expand_macros(cond[2:].strip(), self.session)
            if self._truth(text):
                chosen = block
                break
        if chosen is not None:
            self._exec(chosen, echo=inner, name=name)
        if echo != "none":
            self.out.line(". }")
            if echo == "top":
                self.out.line("")

    def call_program(self, prog: "Program", args: str) -> None:
        """Run a user program: its own local scope with `0', `1', ...; r() posted at the end."""
        s = self.session
        scope = {"0": args.strip()}
        for k, t in enumerate(tokens(args), 1):
            scope[str(k)] = t
        self._enter_level()
        s.locals.append(scope)
        self.r_pending.append(RResults() if prog.rclass else None)
        saved_loop = self.loop_depth
        self.loop_depth = 0
        temps_before = _temp_vars(s)
        try:
            self._exec(prog.block, echo="none", name=prog.name)
        except ExitDo as e:
            if e.rc:
                raise StataError("", e.rc) from None
        finally:
            self.nesting -= 1
            self.loop_depth = saved_loop
            pending = self.r_pending.pop()
            s.locals.pop()
            _drop_new_temps(s, temps_before)
        if pending is not None:
            s.r = pending

    @contextmanager
    def _in_block(self):
        """{ } blocks are counted, so that blocks nested beyond MAX_BLOCK_NESTING stop with
        r(1000) rather than overflowing Python's stack."""
        if self.block_depth >= MAX_BLOCK_NESTING:
            raise system_limit()
        self.block_depth += 1
        try:
            yield
        finally:
            self.block_depth -= 1

    def _run_prefix_block(self, prefix_text: str, body: Block, echo: str, name: str) -> None:
        prefixes, _ = split_prefixes(prefix_text + " x")
        kinds = [p.kind for p in prefixes]
        self._with_prefixes(kinds, lambda: self._exec(body, echo=echo, name=name))

    def _with_prefixes(self, kinds: list[str], fn) -> None:
        """Apply quietly/noisily/capture (outer to inner) around fn()."""
        if not kinds:
            fn()
            return
        k, rest = kinds[0], kinds[1:]
        out = self.out
        if k == "quietly":
            out.quiet += 1
            try:
                self._with_prefixes(rest, fn)
            finally:
                out.quiet -= 1
        elif k == "noisily":
            q = out.quiet
            out.quiet = 0
            try:
                self._with_prefixes(rest, fn)
            finally:
                out.quiet = q
        elif k == "capture":
            noisy = "noisily" in rest
            if not noisy:
                out.quiet += 1
            self.capture_depth += 1
            try:
                self._with_prefixes(rest, fn)
                self.session.rc = 0
            except _Printed as e:
                self.session.rc = e.rc
            except StataError as e:
                self.session.rc = e.rc
                if noisy and e.message:
                    out.line(e.message)     # capture noisily shows the message, not r(#)
            finally:
                self.capture_depth -= 1
                if not noisy:
                    out.quiet -= 1
        else:
            self._with_prefixes(rest, fn)

    def _truth(self, cond_text: str) -> bool:
        v = evaluate_scalar(parse_expr(cond_text), self.session)
        if is_str(v):
            raise StataError("type mismatch", 109)
        return float(v) != 0 or math.isnan(float(v))

    # ---- loops ------------------------------------------------------------------------------------------------
    def _run_loop(self, st, name: str) -> None:
        s = self.session
        self.loop_depth += 1
        try:
            if isinstance(st, WhileStmt):
                cond_raw = st.head[len("while"):].strip()
                while not self._check_break() and self._truth(expand_macros(cond_raw, s)):
                    if not self._body(st.body, name):
                        break
                return
            h = expand_macros(st.head, s)
            if isinstance(st, ForeachStmt):
                lname, values = self._foreach_values(h)
            else:
                lname, values = self._forvalues_values(h)
            for v in values:
                s.local[lname] = v
                if not self._body(st.body, name):
                    break
        finally:
            self.loop_depth -= 1

    def _body(self, body: Block, name: str) -> bool:
        """One pass; False when `continue, break` asks to leave the loop."""
        self._check_break()
        try:
            self._exec(body, echo="none", name=name)
        except ContinueLoop:
            return True
        except BreakLoop:
            return False
        return True

    def _foreach_values(self, head: str) -> tuple[str, list[str]]:
        m = re.fullmatch(r"foreach\s+([A-Za-z_]\w*)\s+(in|of)\s*(.*)", head, re.S)
        if not m:
            raise StataError("invalid syntax", 198)
        lname, kind, rest = m.group(1), m.group(2), m.group(3)
        if kind == "in":
            return lname, tokens(rest)
        m2 = re.fullmatch(r"(\w+)\s*(.*)", rest, re.S)
        if not m2:
            raise StataError("invalid syntax", 198)
        lt, lst = m2.group(1), m2.group(2)
        s = self.session
        if lt == "local":
            return lname, tokens(s.local.get(lst.strip(), ""))
        if lt == "global":
            return lname, tokens(s.globals.get(lst.strip(), ""))
        if abbrev_match(lt, "varlist", 3):
            return lname, expand_varlist(s.data, lst)
        if abbrev_match(lt, "newlist", 3):
            return lname, expand_varlist(s.data, lst, new=True)
        if abbrev_match(lt, "numlist", 3):
            return lname, [num_to_macro(x) for x in numlist(lst)]
        raise StataError("invalid syntax", 198)

    def _run_old_for(self, text: str) -> None:
        """Stata's old `for` (syntax/oldfor.py): the lists expanded once, then each pass's
        commands with X, Y, ... replaced, each shown as `-> command` unless noheader."""
        spec = parse_for(text)
        values = [self._for_list(kind, lst) for kind, lst in spec.lists]
        n = check_lengths(values)
        self.loop_depth += 1
        try:
            for k in range(n):
                self._check_break()
                elements = tuple(v[k] for v in values)
                for command in spec.commands:
                    self._old_for_command(substitute(command, elements), spec.options)
                if "pause" in spec.options and "dryrun" not in spec.options:
                    self.execute("pause", expanded=True)    # as Stata's pause (on or off)
        finally:
            self.loop_depth -= 1

    def _old_for_command(self, text: str, options) -> None:
        if "noheader" not in options:
            self.out.line(f"-> {text}")
        if "dryrun" in options:
            return
        try:
            self.execute(text, expanded=True)
        except StataError as e:
            if "nostop" not in options or isinstance(e, _Printed):
                raise
            self._show_error(e)

    def _for_list(self, kind: str, text: str) -> list[str]:
        data = self.session.data
        if kind == "varlist":
            return expand_varlist(data, text)
        if kind == "newlist":
            return expand_varlist(data, text, new=True)
        if kind == "numlist":
            return [num_to_macro(x) for x in numlist(text)]
        return tokens(text)

    def _forvalues_values(self, head: str):
        """(local name, its values): a lazy sequence, so `forvalues i = 1/100000000` never
        builds the list (a `continue, break` may leave it after a few passes)."""
        m = re.fullmatch(r"forv\w*\s+([A-Za-z_]\w*)\s*=\s*(.*)", head, re.S)
        if not m:
            raise StataError("invalid syntax", 198)
        return m.group(1), (num_to_macro(x) for x in forvalues_range(m.group(2)))

    # ---- one command ----------------------------------------------------------------------------------------------
    def execute(self, raw: str, expanded: bool = False) -> bool | None:
        """Expand macros, parse, run one command (with its prefixes); raises StataError.
        For a one-line `if exp cmd`, returns whether exp held (else None)."""
        s = self.session
        text = (raw if expanded else expand_macros(raw, s)).strip()
        if not text:
            return
        if text.startswith("#"):
            self._hash_command(text)
            return
        split = self._split_prefixes(text)
        if split is None:
            return
        prefixes, rest = split
        m = _WORD.match(rest)
        word = m.group(0) if m else ""
        if word == "if":
            return self._one_line_if(prefixes, text, rest)
        if word in ("else", "foreach", "while") or abbrev_match(word, "forvalues", 4):
            raise StataError("{ required" if word != "else" else "invalid syntax", 198 if word == "else" else 100)
        kinds = [p.kind for p in prefixes if p.kind != "by"]
        if word == "for" and word not in self.programs:
            if len(kinds) != len(prefixes):
                raise StataError("for may not be combined with by", 190)
            self._with_prefixes(kinds, lambda: self._run_old_for(rest[3:]))
            return
        if word and word not in self.programs and self.registry.lookup(word) is None:
            self._autoload(word)
        if word in self.programs and not self._is_builtin(word):
            if any(p.kind == "by" for p in prefixes):
                raise StataError(f"{word} may not be combined with by", 190)
            prog = self.programs[word]
            self._with_prefixes(kinds, lambda: self.call_program(prog, rest[len(word):]))
            return
        if not kinds:
            self._run_command(text)
            return
        self._with_prefixes(kinds, lambda: self._run_command(text))

    def _split_prefixes(self, text: str):
        """(prefixes, rest); None when a malformed by-prefix was caught by a capture before
        it (Stata's capture catches that error too)."""
        try:
            return split_prefixes(text)
        except PrefixError as err:
            kinds = [p.kind for p in err.prefixes if p.kind != "by"]
            self._with_prefixes(kinds, lambda: _raise(StataError(err.message, err.rc)))
            return None

    def _autoload(self, word: str) -> None:
        """Stata's ado-file lookup: `word.ado` along the ado-path defines the program."""
        from hlmshell.commands.adopath import find_ado
        path = find_ado(self.session, word)
        if path is not None:
            self.run_dofile(path, echo=False)

    def _one_line_if(self, prefixes, text, rest) -> bool | None:
        """`if exp command`: the shortest leading expression followed by a command word.
        Returns whether the condition held (None when capture swallowed an error first), so
        that an `else` on the next line can follow it."""
        body = rest[2:]
        spans = top_words(body)
        for k in range(1, len(spans)):
            cond = body[: spans[k - 1][1]]
            cmd_text = body[spans[k][0]:]
            m = _WORD.match(cmd_text)
            if not m or try_parse_expr(cond) is None:
                continue
            if (self.registry.lookup(m.group(0)) is None and m.group(0) not in ("if", "continue")
                    and m.group(0) not in self.programs):
                continue
            kinds = [p.kind for p in prefixes if p.kind != "by"]

            decided: list[bool] = []

            def go():
                taken = self._truth(cond)
                if taken:
                    self.execute(cmd_text, expanded=True)   # the whole line was expanded once
                decided.append(taken)

            self._with_prefixes(kinds, go)
            return decided[0] if decided else None
        raise StataError("invalid syntax", 198)

    def _hash_command(self, text: str) -> None:
        if re.fullmatch(r"#d(elimit|elimi|elim|eli|el|e)?cr", text.strip()):
            text = text.strip()[:-2] + " cr"             # `#delimitcr`, as Stata reads it
        m = re.match(r"#(d\w*)\s*(.*)", text, re.S)
        if m and abbrev_match(m.group(1), "delimit", 1):      # `#delimit;` needs no blank
            arg = m.group(2).strip()
            if arg.startswith(";"):
                self.out.line("delimiter now ;")
            elif arg in ("", "cr"):
                self.out.line("delimiter now cr")
            else:
                raise StataError("invalid syntax", 198)
            return
        if text.startswith("#r") or text.startswith("#q"):
            return
        raise StataError(f"command {text.split()[0]} is unrecognized", 199)

    def _run_command(self, text: str) -> None:
        s = self.session
        try:
            cmd = parse_command(text, table=self.registry)
        except RecursionError:
            raise StataError("expression too long", 130) from None
        spec = self.registry.commands.get(cmd.name) or self.registry.resolve(cmd.typed)
        check_qualifiers(spec, cmd)
        serial, r_before = s.estimation_serial, s.r
        formats = [cmd.formats.get(k) or s.settings.get(k) or None
                   for k in ("cformat", "pformat", "sformat")]
        with table_formats(*formats):
            if cmd.formats.get("coeflegend"):
                self._call_with_legend(spec, cmd)
            else:
                self._call_handler(spec, cmd)
        if s.estimation_serial != serial and s.r is r_before and s.e is not None:
            _post_coef_table(s)

    def _call_handler(self, spec, cmd) -> None:
        """The handler, with the session put back as it was if it fails (transactional)."""
        s = self.session
        snap = self._snapshot() if spec.transactional else None
        failed = None
        try:
            by = [p for p in cmd.prefixes if p.kind == "by"]
            # numerical edge cases (x/0, overflow, the mean of nothing) are missing values in
            # Stata, never warnings: no handler's numpy arithmetic prints a RuntimeWarning
            with np.errstate(all="ignore"):
                if by and spec.byable is not Byable.SELF:
                    self._run_by(spec, cmd, by[-1])
                else:
                    spec.handler(s, cmd)
        except (ExitDo, ContinueLoop, BreakLoop):
            raise
        except StataError:
            if snap is not None:
                s.restore(snap)
            raise
        except (KeyboardInterrupt, Break):
            if snap is not None:
                s.restore(snap)
            raise Break() from None
        except (MemoryError, RecursionError) as exc:
            if debug_enabled():
                raise
            # raised below, outside this handler: the MemoryError's traceback (and the big
            # half-built arrays its frames hold) is released before the snapshot goes back
            failed = no_memory() if isinstance(exc, MemoryError) else system_limit()
        except Exception as exc:  # a bug in a handler must not show a traceback
            if snap is not None:
                s.restore(snap)
            if debug_enabled():
                raise
            if isinstance(exc, ImportError) and _no_memory_to_load(exc):
                raise no_memory() from None     # a library loaded on first use did not fit
            msg = str(exc).splitlines()[0] if str(exc) else ""
            raise StataError(f"{cmd.name}: unexpected error ({type(exc).__name__}{': ' + msg if msg else ''})",
                             9999) from None
        finally:
            s.by_restrict = None
            s.by_codes = None
        if failed is not None:
            if snap is not None:
                s.restore(snap)
            raise failed

    def _call_with_legend(self, spec, cmd) -> None:
        """coeflegend: run the command with its output captured, then print it with the
        coefficient table replaced by the legend (hlmshell.output.coeflegend)."""
        from hlmshell.output.coeflegend import rewrite
        from hlmshell.output.writer import Capture
        s = self.session
        shown, s.out = s.out, Capture()
        try:
            self._call_handler(spec, cmd)
            text = s.out.getvalue()
        finally:
            s.out = shown
        names = list(s.e.names) if s.e is not None else []
        text = rewrite(text, names)
        shown.write(text)

    def _snapshot(self) -> dict:
        """What a failure of a transactional command puts back: session.snapshot(), or r(909)
        when even that does not fit (nothing changed yet)."""
        try:
            return self.session.snapshot()
        except MemoryError:
            if debug_enabled():
                raise
        raise no_memory()

    def _run_by(self, spec, cmd, prefix) -> None:
        s = self.session
        if spec.byable is Byable.NO:
            raise StataError(f"{cmd.name} may not be combined with by", 190)
        codes = by_groups(s, prefix)
        byv = expand_varlist(s.data, " ".join(prefix.by_vars))
        if len(codes) == 0:
            return
        ngroups = int(codes[-1]) + 1
        starts = np.searchsorted(codes, np.arange(ngroups))
        for g in range(ngroups):
            first = int(starts[g])
            label = ", ".join(f"{v} = {self._by_value(v, first)}" for v in byv)
            s.out.line("")
            s.out.line(DASHES)
            s.out.line(f"-> {label}")
            s.by_restrict = codes == g
            s.by_codes = codes
            try:
                spec.handler(s, cmd)
            finally:
                s.by_codes = None
        s.by_restrict = None

    def _is_builtin(self, word: str) -> bool:
        """Built-in commands (and their abbreviations) win over user programs, as in Stata."""
        return self.registry.lookup(word) is not None

    def _by_value(self, name: str, i: int) -> str:
        var = self.session.data.var(name)
        v = var.values[i]
        if var.is_string:
            return str(v)
        if var.vallab:
            lab = self.session.data.value_labels.get(var.vallab, {})
            if float(v) in lab:
                return lab[float(v)]
        return num_text(float(v), 9)


class Program:
    """A user program: its body as typed (program list) and parsed once (what runs)."""

    def __init__(self, name: str, body: list[Line], rclass: bool = False, eclass: bool = False,
                 block: Block | None = None):
        self.name, self.body, self.rclass, self.eclass = name, body, rclass, eclass
        self.block = block if block is not None else parse_lines(body)


_VISIT = {
    Comment: Interpreter._visit_comment, ErrorStmt: Interpreter._visit_error,
    ProgramDef: Interpreter._visit_program, ElseStmt: Interpreter._visit_else,
    InputStmt: Interpreter._visit_input,
    IfStmt: Interpreter._visit_if, PrefixBlock: Interpreter._visit_prefix_block,
    FrameBlock: Interpreter._visit_frame_block,
    ForeachStmt: Interpreter._visit_loop, ForvaluesStmt: Interpreter._visit_loop,
    WhileStmt: Interpreter._visit_loop,
}


_TEMP_NAME = re.compile(r"__\d{6}")


def _temp_vars(session) -> set[str]:
    """Temporary variables (tempvar/marksample names) in the data now."""
    return {n for n in session.data.names if _TEMP_NAME.fullmatch(n)}


def _drop_new_temps(session, before: set[str]) -> None:
    """Stata drops a program's temporary variables when the program ends."""
    new = [n for n in session.data.names if _TEMP_NAME.fullmatch(n) and n not in before]
    if new:
        session.data.drop(new)


def _post_coef_table(session) -> None:
    """A new estimation leaves r(table) and r(level), as Stata's coefficient table does
    (commands that post their own r(), like margins, post, keep theirs)."""
    from hlmshell.results.coef_table import coef_table_results
    e = session.e
    level = e.scalars.get("level") or float(session.settings.get("level", 95))
    table = coef_table_results(e, float(level))
    if table is not None:
        session.r = table
