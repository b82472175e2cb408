"""The layer rules and the complexity cap, so that .ci/run (which runs pytest) checks both.

Layers: the import-linter contracts in pyproject.toml ([tool.importlinter]): a layers
contract (cli > check | repl > interpreter > commands > session > results > syntax | engine >
output | registry > data > limits > errors), the engine forbidden to import the parser,
commands, session, results or output, and no import cycles between sibling packages or
modules. Imports inside functions count.

Complexity: no function or method in hlmshell/ above cyclomatic complexity 25 (radon's
measure). A handler that grows past it is doing several jobs; split it into parse -> validate
-> compute -> report.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "hlmshell"
MAX_COMPLEXITY = 25


def test_import_contracts():
    """pyproject.toml's contracts hold. Run as `lint-imports` would be, in a fresh interpreter
    (import-linter puts the working directory on sys.path and configures itself globally)."""
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _functions(blocks):
    """Every function and method radon found, closures included (a class's own figure is the
    sum of its methods', not a function's)."""
    for b in blocks:
        if hasattr(b, "methods"):
            continue
        yield b
        yield from _functions(b.closures)


def _complexities():
    from radon.complexity import cc_visit

    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for fn in _functions(cc_visit(path.read_text(encoding="utf-8"))):
            name = f"{fn.classname}.{fn.name}" if fn.classname else fn.name
            yield rel, name, fn.complexity


def test_complexity_cap():
    over = []
    for rel, name, cc in _complexities():
        if cc > MAX_COMPLEXITY:
            over.append(f"{rel} {name}: {cc}")
    assert not over, f"cyclomatic complexity above {MAX_COMPLEXITY}:\n" + "\n".join(over)

