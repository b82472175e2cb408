"""How much of real do-files hlmshell runs (issue 13's measure), on a corpus kept outside the repo.

    python bench/dofile_coverage.py /tmp/dofile_corpus            # every *.do in the folder
    python bench/dofile_coverage.py CORPUS --kit DIR --json out.json --timeout 120 --logs DIR

Each do-file runs in a fresh temporary directory, in its own process (killed after --timeout
seconds), with hlmshell's interpreter. The unit counted is a top-level statement of the do-file:
a command, or a whole loop / `if` / `{ }` block / `program` definition (comments do not count).
The run *keeps going* after a failing statement (hlmshell itself stops a do-file at its first
error, as Stata does; the measurement only needs to see every statement, so the continuation is
done here, by running the do-file's top-level statements one after the other, never by
changing what the interpreter does with errors). A file "runs to the end" when none of its
statements fails, which is exactly when `hlmshell FILE.do` would reach `end of do-file`.

Data. Real do-files read data we do not have (webuse, URLs, someone's C:\\ drive). The rule:
  * a failure whose code says a file or folder is missing (r(601) file not found, r(603) file
    could not be opened, r(170) unable to change directory, r(631)/r(672) host or URL) is
    counted as **no data**, not as a failure of hlmshell;
  * while no dataset has been loaded (from the start of the file, or after a load failed),
    failures that follow from having no data (r(111) variable not found, r(110) already
    defined (the previous data stayed in memory), r(2000)/r(2001) no or too few observations,
    r(301) last estimates not found, r(459), "observation numbers out of range") are counted
    as **no data (downstream)**; so is `log close` r(606) after a `log using` into a missing
    folder;
  * everything else is a failure, syntax errors (r(198)) included, even without data.
  * --kit DIR: data files we can rebuild from public example data (e.g. the High School and
    Beyond extract shipped with hlmshell, or a course's own public data). A `use`/`merge`/
    `import` of a file that is not found, given by name, path or URL, reads the kit file with
    the same base name (what a user who downloaded the file next to the do-file would get).
    Nothing is copied into the temporary directory, so a do-file's own `save` still works.
The headline numbers leave the no-data statements out: % of statements that ran = ran /
(statements - no data), and files to the end = files whose statements all ran or failed only
for want of data. The strict numbers (no-data counted as failures) are printed beside them.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

# ---- classification (pure: unit-tested in tests/test_dofile_coverage.py) ---------------------
NO_FILE_CODES = {601, 603, 170, 631, 672}
DOWNSTREAM_CODES = {110, 111, 119, 2000, 2001, 301, 459}   # 119: svy:/mi on data never set up
LOADERS = {"use", "webuse", "sysuse", "import", "insheet", "infile", "infix", "input", "bcuse",
           "set obs", "xmluse", "odbc"}
# areas other helpers own right now (issue 13's brief): listed apart in the report
OTHER_OWNERS = re.compile(r"^(xtme\w*|me(logit|probit|cloglog|poisson|nbreg|ologit|oprobit|glm|streg|intreg|tobit|"
                          r"qrlogit|qrpoisson|gologit)|menl|glm|logit|logistic|probit|poisson|nbreg|ologit|oprobit|"
                          r"mlogit|margins|marginsplot|etable|esttab|estout|eststo|graph|twoway|"
                          r"scatter|line|histogram|kdensity|qnorm|pnorm|rvfplot|xtline|gr)$")

_PREFIX = re.compile(r"^\s*(?:(?:qui|quie|quiet|quietl|quietly|n|no|noi|nois|noisi|noisil|noisily|"
                     r"cap|capt|captu|captur|capture)\b\s*:?\s*"
                     r"|(?:by|bys|byso|bysor|bysort)\b[^:]*:\s*"
                     r"|version\s+[\d.]+\s*:\s*|xi\s*:\s*|eststo\b[^:]*:\s*|estpost\s+"
                     r"|statsby\b[^:]*:\s*|svy\b[^:]*:\s*|mi\s+estimate\b[^:]*:\s*"
                     r"|bootstrap\b[^:]*:\s*|jackknife\b[^:]*:\s*|nestreg\b[^:]*:\s*"
                     r"|stepwise\b[^:]*:\s*|fvvarlist\s*:\s*)")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def command_name(text: str, lookup=None) -> str:
    """The command a line runs: prefixes (quietly, capture, by ...:, version #:, xi:, eststo:)
    peeled off, the first word resolved through `lookup` (word -> full name or None) so that
    `reg` and `regress` count together; `set obs` and `estat icc`-like pairs keep two words."""
    t = text.strip()
    while True:
        m = _PREFIX.match(t)
        if not m or m.end() == 0:
            break
        t = t[m.end():]
    if t.startswith("#"):
        return "#" + (_WORD.match(t[1:]).group(0) if _WORD.match(t[1:]) else "")
    m = _WORD.match(t)
    if not m:
        return t.split()[0] if t.split() else ""
    word = m.group(0)
    if lookup is not None:
        full = lookup(word)
        word = full or word
    if word in ("estat", "estimates", "set", "import", "export", "label", "graph", "xtset", "matrix",
                "mi", "putexcel", "file", "snapshot", "timer", "log", "net", "ssc", "gr", "est", "mat"):
        rest = t[m.end():].lstrip()
        m2 = _WORD.match(rest)
        if m2 and word not in ("xtset",):
            return f"{word} {m2.group(0)}"
    return word


def classify(records: list[dict]) -> list[dict]:
    """Give each statement record (`rc`, `cmd`, optional `inner_cmd`, `nvars` and `nobs`: the
    variables and observations in memory after it) a `status`: ok, failed, nodata (a file or folder is missing) or downstream
    (a failure that follows from having no dataset). Records are in the order they ran. There
    is no dataset from the start of a file until a load works (memory holds variables after
    it, or until variables are made in an empty memory), and again after a load fails or leaves
    memory empty (`capture use ...`)."""
    no_data = True                        # nothing loaded at the start of a do-file
    log_failed = False
    prev_empty = True
    out = []
    for r in records:
        r = dict(r)
        rc = r["rc"]
        cmd = r.get("inner_cmd") or r["cmd"]
        loader = any(c in LOADERS or c.split(" ")[0] in LOADERS for c in (cmd, r["cmd"]) if c)
        if rc == 0:
            r["status"] = "ok"
        elif rc in NO_FILE_CODES:
            r["status"] = "nodata"
        elif no_data and (rc in DOWNSTREAM_CODES or "out of range" in r.get("message", "")):
            r["status"] = "downstream"
        elif rc == 606 and log_failed:          # `log close` after a `log using` to a missing folder
            r["status"] = "nodata"
        else:
            r["status"] = "failed"
        if r["cmd"] == "log using":
            log_failed = rc != 0
        empty = not r.get("nvars", 1) or not r.get("nobs", 1)
        if loader and r["cmd"] != "set obs":
            no_data = rc != 0 or empty
        elif empty:
            no_data = True
        elif prev_empty:                         # data made from nothing: `set obs` then `gen`
            no_data = False
        prev_empty = empty
        out.append(r)
    return out


def summarize_file(records: list[dict], timed_out: bool = False) -> dict:
    """Counts for one file from its classified records."""
    c = Counter(r["status"] for r in records)
    total = len(records)
    nod = c["nodata"] + c["downstream"]
    failed = c["failed"] + (1 if timed_out else 0)
    first = next((k for k, r in enumerate(records) if r["status"] == "failed"), len(records))
    before = records[:first]
    return {
        # as `hlmshell FILE.do` runs it (stopping at the first failure), data assumed present
        "ok_before_stop": sum(r["status"] == "ok" for r in before),
        "countable_before_stop": sum(r["status"] not in ("nodata", "downstream") for r in records),
        "statements": total, "ok": c["ok"], "failed": failed, "nodata": c["nodata"],
        "downstream": c["downstream"],
        "to_end": failed == 0, "to_end_strict": failed == 0 and nod == 0,
        "failures": [(r.get("inner_cmd") or r["cmd"], r["rc"]) for r in records if r["status"] == "failed"]
                    + ([("(timeout)", 0)] if timed_out else []),
    }


def totals(files: dict[str, dict]) -> dict:
    ok = sum(f["ok"] for f in files.values())
    stmts = sum(f["statements"] for f in files.values())
    nod = sum(f["nodata"] + f["downstream"] for f in files.values())
    counted = stmts - nod
    stop_ok = sum(f.get("ok_before_stop", 0) for f in files.values())
    return {
        "pct_ran_stopping": 100.0 * stop_ok / counted if counted else 100.0,
        "files": len(files), "statements": stmts, "ok": ok, "nodata": nod,
        "pct_ran": 100.0 * ok / counted if counted else 100.0,
        "pct_ran_strict": 100.0 * ok / stmts if stmts else 100.0,
        "to_end": sum(f["to_end"] for f in files.values()),
        "to_end_strict": sum(f["to_end_strict"] for f in files.values()),
    }


# ---- the child: one do-file, statement by statement ------------------------------------------
@contextmanager
def kit_fallback(kit: Path | None):
    """`use URL-or-path/name.dta` reads kit/name.dta when the path itself does not exist (the
    kit comes before the sample data shipped with hlmshell, as a file beside the do-file would);
    `webuse name` and `sysuse name` of data not shipped read kit/name.dta instead of the web."""
    from hlmshell.data import locate
    original = locate.find_data
    if kit is None:
        yield
        return

    def find_data(name, ext=".dta"):
        fname = locate.with_ext(locate.unquote(name).strip(), ext)
        if Path(fname).is_file():
            return Path(fname)
        base = re.split(r"[\\/]", fname)[-1]
        if base and (kit / base).is_file():        # before hlmshell's own sample data
            return kit / base
        return original(name, ext)

    from hlmshell.data import remote
    from hlmshell.data.dta import read_dta
    original_remote = remote.read_remote_dta

    def read_remote_dta(url):           # use URL, webuse, sysuse of data not shipped
        base = url.rstrip("/").rsplit("/", 1)[-1]
        if base and (kit / base).is_file():
            return read_dta(kit / base)
        return original_remote(url)

    remote.read_remote_dta = read_remote_dta
    patched = []
    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith("hlmshell") and getattr(mod, "find_data", None) is original:
            mod.find_data = find_data
            patched.append(mod)
    try:
        yield
    finally:
        for mod in patched:
            mod.find_data = original
        remote.read_remote_dta = original_remote


def _statement_label(st) -> str:
    from hlmshell.syntax import statements as S
    if isinstance(st, S.CommandStmt):
        return st.text
    if isinstance(st, S.ProgramDef):
        return "program " + st.name
    if isinstance(st, (S.ForeachStmt, S.ForvaluesStmt, S.WhileStmt, S.IfStmt, S.PrefixBlock, S.ElseStmt)):
        return st.line.text
    return getattr(getattr(st, "line", None), "text", type(st).__name__)


def run_file(path: Path, kit: Path | None = None, progress=None) -> list[dict]:
    """Run the do-file at `path` in the current directory, keeping going after errors; return
    one record per top-level statement: line, text, cmd, rc, inner_cmd (the command that failed,
    inside a loop or program), message (its first line)."""
    from hlmshell.errors import ExitDo, StataError
    from hlmshell.interpreter import Interpreter
    from hlmshell.registry import REGISTRY
    from hlmshell.session import Session
    from hlmshell.syntax import statements as S

    def lookup(word):
        spec = REGISTRY.lookup(word)
        return spec.name if spec is not None else None

    session = Session()
    interp = Interpreter(session)
    records: list[dict] = []
    state = {"top": None, "last": ""}
    orig_exec, orig_exec_at, orig_execute = interp._exec, interp._exec_at, interp.execute

    def execute(raw, expanded=False):
        state["last"] = raw
        return orig_execute(raw, expanded)

    def _exec(block, echo="none", name=""):
        if state["top"] is None and interp.depth == 1:
            state["top"] = block.statements
        return orig_exec(block, echo, name)

    def _exec_at(stmts, i, echo, name):
        if stmts is not state["top"]:
            return orig_exec_at(stmts, i, echo, name)
        st = stmts[i]
        if isinstance(st, S.Comment):
            return orig_exec_at(stmts, i, echo, name)
        state["last"] = ""
        label = _statement_label(st)
        rec = {"line": st.line.lineno, "text": label[:200], "cmd": command_name(label, lookup)}
        try:
            nxt = orig_exec_at(stmts, i, echo, name)
            rec["rc"] = 0
        except StataError as e:
            nxt = i + 1
            rec["rc"] = e.rc
            rec["message"] = (e.message or "").split("\n")[0][:200]
            if e.message:
                interp._show_error(e)
            else:
                interp._show(f"r({e.rc});")
            interp.error_location = None
        except ExitDo as e:             # `exit [#]`, also inside a block: the do-file ends
            rec["rc"] = e.rc
            if e.rc:
                rec["message"] = f"exit {e.rc}"
            rec["nvars"], rec["nobs"] = len(session.data.names), session.data.n
            records.append(rec)
            if progress is not None:
                progress(rec)
            raise
        except Exception as e:  # noqa: BLE001 - measured, not hidden: r(9999) in the report
            nxt = i + 1
            rec["rc"] = 9999
            rec["message"] = f"{type(e).__name__}: {e}"[:200]
        inner = command_name(state["last"], lookup) if state["last"] else ""
        if rec["rc"] and inner and inner != rec["cmd"]:
            rec["inner_cmd"] = inner
        rec["nvars"], rec["nobs"] = len(session.data.names), session.data.n
        records.append(rec)
        if progress is not None:
            progress(rec)
        return nxt

    interp._exec, interp._exec_at, interp.execute = _exec, _exec_at, execute
    with kit_fallback(kit):
        interp.run_dofile(str(path), echo=True)
    return records


def _child(args) -> int:
    kit = Path(args.kit) if args.kit else None
    with open(args.child_json, "w", encoding="utf-8") as out:

        def progress(rec):
            out.write(json.dumps(rec) + "\n")
            out.flush()

        run_file(Path(args.child), kit, progress)
    return 0


# ---- the parent: every file in its own process and temporary directory ------------------------
def run_corpus(corpus: Path, kit: Path | None, timeout: float, logs: Path | None) -> dict[str, dict]:
    files = [corpus] if corpus.is_file() else sorted(p for p in corpus.iterdir() if p.suffix.lower() == ".do")
    results = {}
    for f in files:
        with tempfile.TemporaryDirectory(prefix="dofile_cov_") as tmp:
            tmp = Path(tmp)
            shutil.copy(f, tmp / f.name)
            jpath = tmp / ".records.jsonl"
            cmd = [sys.executable, os.path.abspath(__file__), "--child", str(tmp / f.name),
                   "--child-json", str(jpath)] + (["--kit", str(kit)] if kit else [])
            env = dict(os.environ, MPLBACKEND="Agg")
            timed_out = False
            with open(tmp / ".log", "w", encoding="utf-8") as log:
                try:
                    subprocess.run(cmd, cwd=tmp, stdout=log, stderr=subprocess.STDOUT, timeout=timeout,
                                   env=env, stdin=subprocess.DEVNULL, check=False)
                except subprocess.TimeoutExpired:
                    timed_out = True
            recs = []
            if jpath.exists():
                recs = [json.loads(x) for x in jpath.read_text(encoding="utf-8").splitlines() if x.strip()]
            if logs is not None:
                logs.mkdir(parents=True, exist_ok=True)
                shutil.copy(tmp / ".log", logs / (f.stem + ".log"))
        cls = classify(recs)
        summary = summarize_file(cls, timed_out)
        summary["records"] = cls
        results[f.name] = summary
    return results


def report(results: dict[str, dict]) -> str:
    lines = [f"{'file':34} {'stmts':>5} {'ran':>5} {'fail':>5} {'nodata':>6}  end  failing commands (r())"]
    for name, s in results.items():
        fails = Counter(f"{c} {rc}" for c, rc in s["failures"])
        ftxt = ", ".join(f"{k}" + (f" x{n}" if n > 1 else "") for k, n in fails.most_common())
        lines.append(f"{name[:34]:34} {s['statements']:5d} {s['ok']:5d} {s['failed']:5d} "
                     f"{s['nodata'] + s['downstream']:6d}  {'yes' if s['to_end'] else 'no ':3}  {ftxt}")
    t = totals(results)
    lines.append("")
    lines.append(f"{t['files']} files, {t['statements']} statements: {t['ok']} ran, "
                 f"{t['nodata']} failed for want of data")
    lines.append(f"statements that ran: {t['pct_ran']:.1f}% of those with data "
                 f"(strict, no-data counted as failures: {t['pct_ran_strict']:.1f}%)")
    lines.append(f"files to the end: {t['to_end']} of {t['files']} "
                 f"(strict: {t['to_end_strict']})")
    lines.append(f"statements that ran before each file's first failure (a plain `hlmshell FILE.do`"
                 f" run): {t['pct_ran_stopping']:.1f}% of those with data")
    agg = Counter()
    other = Counter()
    for s in results.values():
        for c, rc in s["failures"]:
            word = (c.split() or ["<empty>"])[0]        # `eststo:` with nothing after it
            (other if OTHER_OWNERS.match(word) else agg)[f"{c} r({rc})"] += 1
    lines.append("")
    lines.append("most frequent failures (everyday layer):")
    lines += [f"  {n:3d}  {k}" for k, n in agg.most_common(25)]
    lines.append("failures in areas other helpers own (GLMM/margins/graphs/tables):")
    lines += [f"  {n:3d}  {k}" for k, n in other.most_common(25)]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", help="folder of .do files (or one .do file)")
    ap.add_argument("--kit", help="folder of data files to copy next to each do-file")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per do-file (default 120)")
    ap.add_argument("--json", help="write every record and count to this file")
    ap.add_argument("--logs", help="keep each run's output in this folder")
    ap.add_argument("--verbose", action="store_true", help="list every failing statement")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--child-json", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return _child(args)
    if not args.corpus:
        ap.error("a corpus folder is required")
    results = run_corpus(Path(args.corpus), Path(args.kit).resolve() if args.kit else None,
                         args.timeout, Path(args.logs) if args.logs else None)
    print(report(results))
    if args.verbose:
        print()
        for name, s in results.items():
            for r in s["records"]:
                if r["status"] == "failed":
                    print(f"{name}:{r['line']}: r({r['rc']}) {r.get('inner_cmd') or r['cmd']}: "
                          f"{r['text'][:90]}  -- {r.get('message', '')}")
    if args.json:
        Path(args.json).write_text(json.dumps({"files": results, "totals": totals(results)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
