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
