"""The command registry (hlmshell/registry.py): typed specs, one abbreviation helper, the parser's
typed options, `help`, and the REPL completer/highlighter reading only the registry."""
import time

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from hlmshell import registry as reg
from hlmshell.errors import StataError
from hlmshell.registry import REGISTRY, Opt, Registry, Sub, abbrev_match
from hlmshell.repl.completer import StataCompleter
from hlmshell.syntax.parser import parse_command, parse_mixed


def _own_registry() -> Registry:
    r = Registry()

    @r.command("frobnicate", abbrev="frob", family="Test", desc="a test command",
               example="frobnicate x, width(3)",
               options=(Opt("width", "w", "int", 1, "how wide"), Opt("loud", desc="shout"),
                        Opt("level", "l", "real", 95)),
               subcommands=(Sub("start", "sta", "begin"), Sub("stop", "sto", "end")))
    def frob(session, cmd):
        pass

    return r


def test_abbrev_match_is_the_one_rule():
    assert abbrev_match("su", "summarize", "su") and abbrev_match("summ", "summarize", 2)
    assert not abbrev_match("s", "summarize", "su") and not abbrev_match("sumx", "summarize", 2)
    assert not abbrev_match("", "summarize", 0)
    assert reg.abbrev_lookup("ex", [("exchangeable", "ex"), ("identity", "id")]) == "exchangeable"


def test_own_registry_resolves_without_touching_the_global_table():
    r = _own_registry()
    assert r.resolve("frob").name == "frobnicate" and r.resolve("frobnicate").name == "frobnicate"
    with pytest.raises(StataError) as e:
        r.resolve("fro")
    assert e.value.rc == 199 and e.value.message == "command fro is unrecognized"
    assert "frobnicate" not in REGISTRY.names()
    spec = r.resolve("frob")
    assert spec.option("w").name == "width" and spec.option("wi").type == "int"
    assert spec.subcommand("sta").name == "start" and spec.subcommand("st") is None
    assert spec.synopsis() == "frob(nicate) subcommand [anything] [, options]"


def test_every_registered_command_has_a_spec():
    specs = REGISTRY.commands
    REGISTRY.load()
    assert len(specs) >= 75
    missing = [n for n, s in specs.items() if not n.startswith("zz") and not (s.desc and s.family)]
    assert missing == []
    for name in ("mixed", "regress", "summarize", "predict", "lrtest", "test"):
        assert specs[name].options, name
    assert {"ic", "icc", "recovariance", "group", "sd"} <= {s.name for s in specs["estat"].subcommands}
    assert specs["mixed"].option("cov").name == "covariance"
    assert specs["keep"].byable is reg.Byable.SELF and specs["describe"].byable is reg.Byable.NO
    # the typed fields that replaced the old untyped bag (extra)
    assert specs["summarize"].changes_data is False
    assert specs["set"].exp == "none" and specs["clear"].options == ()


def test_parser_fills_typed_options():
    cmd = parse_command("summarize mathach, d sep(3)")
    assert cmd.opts.detail is True and cmd.opts.meanonly is False
    assert cmd.opts.separator == 3 and "separator" in cmd.opts
    assert parse_command("summarize mathach").opts.separator == 5       # the spec's default
    with pytest.raises(StataError) as e:
        parse_command("summarize mathach, bogus")
    assert (e.value.rc, e.value.message) == (198, "option bogus not allowed")
    bad = parse_command("summarize mathach, sep(abc)")
    with pytest.raises(StataError) as e:
        bad.opts.separator
    assert (e.value.rc, e.value.message) == (198, "option separator() incorrectly specified")


def test_parser_reads_a_test_owned_registry():
    r = _own_registry()
    cmd = parse_command("quietly frob start, w(7) loud", r)
    assert cmd.name == "frobnicate" and cmd.body == "start" and cmd.opts.width == 7 and cmd.opts.loud
    with pytest.raises(StataError) as e:
        parse_command("summarize x", r)
    assert e.value.rc == 199


def test_bind_options_types():
    r = _own_registry()
    spec = r.resolve("frob")
    from hlmshell.syntax.ast import Option

    a = reg.bind_options(spec.options, [Option("w", "4"), Option("l", "90")])
    assert a.width == 4 and a.level == 90.0 and a.loud is False
    with pytest.raises(StataError):
        reg.bind_options(spec.options, [Option("w", "2.5")]).width
    with pytest.raises(StataError):
        reg.bind_options(spec.options, [Option("loud", "x")], strict=True)


def test_mixed_equations_parsed_once_by_the_grammar():
    spec = parse_mixed("y x if x > 1 || _all: R.class || id: ses, cov(un) || school:, reml")
    assert spec.depvar == "y" and [lv.group for lv in spec.levels] == ["_all", "id", "school"]
    assert spec.levels[0].terms == [] and spec.levels[0].raw_terms == ["R.class"]
    assert [str(t) for t in spec.levels[1].terms] == ["c.ses"]
    assert spec.levels[1].options[0].name == "cov" and spec.levels[2].options[0].name == "reml"
    cmd = parse_command("mixed mathach ses || id:, reml")
    assert cmd.args.levels[0].group == "id" and cmd.if_ is None
    replay = parse_command("mixed, stddev")
    assert replay.args is None and replay.options[0].name == "stddev"
    with pytest.raises(StataError):
        parse_mixed("y x || id ses")


# ---- help -------------------------------------------------------------------------------------
def test_help_text_from_the_specs():
    from hlmshell.commands.help import help_lines

    index = help_lines("")
    assert "Estimation" in index and any(line.split()[:1] == ["mixed"] for line in index)
    mixed = "\n".join(help_lines("mixed"))
    assert "mixed depvar [indepvars] [if] [in] [weight] [, options]" in mixed
    assert "cov(ariance)" in mixed and "nocon(stant)" in mixed and "Example" in mixed
    assert "multilevel mixed-effects linear regression" in mixed
    estat = "\n".join(help_lines("estat"))
    assert "recov(ariance)" in estat and "icc" in estat
    assert help_lines("heckman") == ["heckman is a Stata command not yet available in hlmshell."]
    with pytest.raises(StataError) as e:
        help_lines("nosuchthing")
    assert (e.value.rc, e.value.message) == (111, "help for nosuchthing not found")
    own = help_lines("frob", _own_registry())
    assert any("w(idth)(#)" in line and "how wide" in line for line in own)


def test_help_command_and_unrecognized_stata_command(tmp_path):
    import subprocess
    import sys

    do = tmp_path / "h.do"
    do.write_text("help estat\nhelp heckman\ncapture heckman y x\ndisplay _rc\n")
    p = subprocess.run([sys.executable, "-m", "hlmshell", str(do)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Subcommands" in p.stdout and "heckman is a Stata command not yet available" in p.stdout
    assert "199" in p.stdout.split("display _rc")[-1]


# ---- completer and highlighter ------------------------------------------------------------------
def _completions(comp, text):
    doc = Document(text, len(text))
    return [c.text for c in comp.get_completions(doc, CompleteEvent(completion_requested=True))]


def test_tab_completes_options_after_comma_and_equations():
    comp = StataCompleter(lambda: None)
    assert _completions(comp, "mixed y x || id:, cov") == ["covariance("]
    assert _completions(comp, "mixed y x, rem") == ["reml"]
    assert _completions(comp, "regress y x, nocons") == ["noconstant"]
    assert _completions(comp, "summarize x, d") == ["detail"]
    assert _completions(comp, "estat icc, l") == ["level("]
    assert _completions(comp, "mixed y x || id: s") == []        # variables (no data here)


def test_tab_completes_subcommands_from_the_registry():
    comp = StataCompleter(lambda: None)
    assert {"group", "ic", "icc", "recovariance", "sd"} <= set(_completions(comp, "estat "))
    assert _completions(comp, "estat i") == ["ic", "icc"]
    assert _completions(comp, "estimates st") == ["stats", "store"]
    assert _completions(comp, "label v") == ["values", "variable"]


def test_completer_with_a_test_owned_registry():
    r = _own_registry()
    comp = StataCompleter(lambda: None, registry=r)
    assert "frobnicate" in _completions(comp, "fro")
    assert "summarize" not in _completions(comp, "su")
    assert _completions(comp, "frob x, w") == ["width("]
    assert _completions(comp, "frob ") == ["start", "stop"]
    assert "foreach" in _completions(comp, "fore")    # the interpreter's keywords, declared


def test_highlighter_reads_the_registry():
    from hlmshell.repl.highlight import stata_lexer

    tokens = stata_lexer().lex_document(Document("xtmixed y x || id:\nnosuchcmd y\nforeach v in a {"))
    assert ("class:pygments.keyword", "xtmixed") in [(c, t) for c, t in tokens(0)]
    assert not any("keyword" in c for c, t in tokens(1) if t == "nosuchcmd")
    assert ("class:pygments.keyword", "foreach") in [(c, t) for c, t in tokens(2)]


def test_tab_key_in_the_real_repl_completes_options_and_subcommands(tmp_path, monkeypatch):
    from test_repl import RecordingInterpreter, _run_with_feeder, _type_and_wait, make_session

    monkeypatch.setenv("HLMSHELL_HISTORY", str(tmp_path / "history"))
    s = make_session(with_data=True)
    interp = RecordingInterpreter(s)

    def feed(inp, repl):
        ok = _type_and_wait(inp, repl, "mixed mathach ses || id:, cov\t", "mixed mathach ses || id:, covariance(")
        inp.send_text("un)\r")
        time.sleep(0.2)
        ok = ok and _type_and_wait(inp, repl, "estat rec\t", "estat recovariance")
        inp.send_text("\r")
        return ok

    assert _run_with_feeder(s, interp, feed)
    assert interp.calls == [("line", "mixed mathach ses || id:, covariance(un)"),
                            ("line", "estat recovariance")]


def test_stata_only_names_no_command_hlmshell_has():
    """help's "not yet available" list must shrink as commands arrive."""
    from hlmshell.registry import REGISTRY, STATA_ONLY

    REGISTRY.load()
    assert sorted(w for w in STATA_ONLY if REGISTRY.lookup(w) is not None) == []


def test_help_topics_of_several_words():
    """`help melogit postestimation` (a public do-file) shows the command's help."""
    from hlmshell.session import Session
    from session_run import run
    s = Session()
    rc, out = run(s, "help mixed postestimation")
    assert rc == 0 and "mixed depvar [indepvars]" in out
    assert run(s, "help nosuchthing postestimation")[0] == 111
