"""The shipped command index (hlmshell/registry_index.py) is what a full load of the command
modules registers, in the same order: regenerate it with `python -m hlmshell.registry` after
adding or renaming a command. A do-file imports only the modules of the commands it runs."""
import subprocess
import sys

from hlmshell import registry
from hlmshell.registry_index import COMMANDS


def test_index_matches_a_full_load():
    """Same commands, modules, abbreviations and aliases (the order is a fresh process's
    registration order, which other tests' imports change here; resolution order is checked
    in a fresh process below)."""
    assert sorted(COMMANDS) == sorted(registry.build_index()), \
        "registry_index.py is out of date: run python -m hlmshell.registry"


def test_index_order_is_a_fresh_full_load():
    code = ("from hlmshell import registry\n"
            "from hlmshell.registry_index import COMMANDS\n"
            "print(COMMANDS == registry.build_index())\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.stdout.strip() == "True", p.stdout + p.stderr


def test_a_do_file_imports_only_what_it_runs(tmp_path):
    do = tmp_path / "a.do"
    do.write_text("display 1\nsysuse hsb, clear\nsummarize ses\nreg mathach ses\n")
    code = ("import sys\n"
            "from hlmshell.cli import main\n"
            "try:\n    main([%r])\nexcept SystemExit:\n    pass\n"
            "mods = sorted(m for m in sys.modules if m.startswith('hlmshell.commands.'))\n"
            "print('MODS', ' '.join(mods))\n") % str(do)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("MODS")), p.stdout + p.stderr)
    mods = set(line.split()[1:])
    assert "hlmshell.commands.estimation" in mods and "hlmshell.commands.program" in mods
    assert "hlmshell.commands.graph_twoway" not in mods and "hlmshell.commands.xtgee" not in mods
    assert "matplotlib" not in p.stdout


def test_abbreviations_resolve_as_a_full_load_does():
    words = ["reg", "su", "summ", "g", "gen", "di", "tab", "xtmixed", "mixed", "est", "mat", "l",
             "li", "lis", "d", "des", "e", "nosuchthing", "me", "mel", "xtme", "gr", "tw", "sc",
             "hist", "bs", "boot", "sim", "pred", "mar", "cent", "cen"]
    code = ("from hlmshell.registry import REGISTRY\n"
            "for w in %r:\n"
            "    s = REGISTRY.lookup(w)\n"
            "    print(w, s.name if s else '-')\n") % words
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    lazy = dict(ln.split() for ln in p.stdout.splitlines())
    registry.REGISTRY.load()
    for w in words:
        s = registry.REGISTRY.lookup(w)
        assert lazy[w] == (s.name if s else "-"), w


def test_fresh_process_postestimation_dispatch(tmp_path):
    """Modules imported on first use must still find what other modules register (predict's
    handlers for the GLMMs, GEE and panel GLMs; multi-level me* fits): a fresh process runs
    each estimation and its predict with nothing else loaded before."""
    csv = tmp_path / "d.csv"
    import numpy as np
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(30), 10)
    sub = np.tile(np.arange(10) // 5, 30)
    x = rng.normal(size=300)
    y = (rng.random(300) < 1 / (1 + np.exp(-(0.3 * x + rng.normal(size=30)[g])))).astype(int)
    csv.write_text("y,x,g,sub,t\n" + "\n".join(f"{a},{b:.5f},{c},{d},{k % 10 + 1}"
                                            for k, (a, b, c, d) in enumerate(zip(y, x, g, sub))))
    lines = [f"import delimited {csv}, clear",
             "melogit y x || g:, intmethod(laplace)", "predict p1, ebmodes",
             "predict r1, pearson",
             "melogit y x || g: || sub:, intmethod(laplace)", "predict p2, mu",
             "meqrlogit y x || g:, laplace", "predict p3, reffects",
             "logit y x", "predict p4, pr",
             "xtset g t", "xtgee y x, family(binomial) link(logit)", "predict p5, mu",
             "xtlogit y x, re", "predict p6, xb",
             "summarize p1-p6"]
    do = tmp_path / "all.do"
    do.write_text("\n".join(lines) + "\n")
    p = subprocess.run([sys.executable, "-m", "hlmshell", str(do)], capture_output=True, text=True,
                       timeout=300, cwd=tmp_path)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr
