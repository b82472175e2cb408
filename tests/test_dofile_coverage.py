"""The do-file coverage bench's counting (bench/dofile_coverage.py): which statements count, how
failures for want of data are told apart from hlmshell's own, and the totals built from them."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("dofile_coverage", ROOT / "bench" / "dofile_coverage.py")
cov = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cov)


def test_command_name_peels_prefixes_and_resolves_abbreviations():
    from hlmshell.registry import REGISTRY

    def lookup(w):
        spec = REGISTRY.lookup(w)
        return spec.name if spec else None

    assert cov.command_name("qui reg y x", lookup) == "regress"
    assert cov.command_name("capture noisily su y", lookup) == "summarize"
    assert cov.command_name("bysort id: egen m = mean(y)", lookup) == "egen"
    assert cov.command_name("version 16: table soc, c(mean y)", lookup) == "table"
    assert cov.command_name("est store m1", lookup) == "estimates store"
    assert cov.command_name("xttest0", lookup) == "xttest0"       # unknown words stay as typed


def test_classify_separates_missing_data_from_failures():
    recs = [
        {"cmd": "use", "rc": 601, "nvars": 0},            # the file is not here: no data
        {"cmd": "generate", "rc": 111, "nvars": 0},       # follows from it: downstream
        {"cmd": "regress", "rc": 198, "nvars": 0},        # a syntax error counts even without data
        {"cmd": "use", "rc": 0, "nvars": 3},              # data again
        {"cmd": "generate", "rc": 111, "nvars": 3},       # now a real failure
        {"cmd": "log using", "rc": 603, "nvars": 3},      # a folder that is not here
        {"cmd": "log close", "rc": 606, "nvars": 3},      # ... so no log is open: not hlmshell's fault
        {"cmd": "summarize", "rc": 0, "nvars": 3},
    ]
    status = [r["status"] for r in cov.classify(recs)]
    assert status == ["nodata", "downstream", "failed", "ok", "failed", "nodata", "nodata", "ok"]
    s = cov.summarize_file(cov.classify(recs))
    assert (s["ok"], s["failed"], s["nodata"], s["downstream"]) == (2, 2, 3, 1)
    assert not s["to_end"] and not s["to_end_strict"]
    assert s["ok_before_stop"] == 0 and s["countable_before_stop"] == 4
    t = cov.totals({"a.do": s, "b.do": cov.summarize_file(cov.classify(recs[3:4]))})
    assert t["to_end"] == 1 and t["statements"] == 9 and t["ok"] == 3
    assert abs(t["pct_ran"] - 100 * 3 / (9 - 4)) < 1e-12
    assert abs(t["pct_ran_strict"] - 100 * 3 / 9) < 1e-12


def test_run_file_keeps_going_and_counts_top_level_statements(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    do = tmp_path / "t.do"
    do.write_text(
        "* a comment does not count\n"
        "use nosuchfile_xyz\n"
        "summarize nosuchvar\n"
        "set obs 3\n"
        "gen y = _n\n"
        "frobnicate y\n"
        "forvalues i = 1/2 {\n"
        "    quietly summarize y\n"
        "    display nosuchvar2\n"
        "}\n"
        "summarize y\n")
    recs = cov.run_file(do)
    assert [r["line"] for r in recs] == [2, 3, 4, 5, 6, 7, 11]
    assert [r["rc"] for r in recs] == [601, 111, 0, 0, 199, 111, 0]
    assert recs[5]["cmd"] == "forvalues" and recs[5]["inner_cmd"] == "display"
    s = cov.summarize_file(cov.classify(recs))
    assert (s["ok"], s["failed"], s["nodata"], s["downstream"]) == (3, 2, 1, 1)
    assert s["failures"] == [("frobnicate", 199), ("display", 111)]
    assert s["ok_before_stop"] == 2                     # set obs, gen; then frobnicate stops it


def test_kit_fallback_reads_a_url_from_the_kit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    kit = tmp_path / "kit"
    kit.mkdir()
    (kit / "tiny.csv").write_text("a,b\n1,2\n3,4\n")
    do = tmp_path / "t.do"
    do.write_text('import delimited "https://example.org/data/tiny.csv", clear\nsummarize a\n')
    recs = cov.run_file(do, kit)
    assert [r["rc"] for r in recs] == [0, 0]
    from hlmshell.commands import files
    from hlmshell.data import locate
    assert files.find_data is locate.find_data           # the fallback is undone afterwards


def test_kit_serves_use_url_webuse_and_sysuse(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    kit = tmp_path / "kit"
    kit.mkdir()
    from tests.session_run import interp_session, iok
    s = interp_session("clear", "set obs 4", "gen z = _n")
    iok(s, f'save "{kit / "nlswork.dta"}"')
    do = tmp_path / "t.do"
    do.write_text("webuse nlswork, clear\nsummarize z\nsysuse nlswork, clear\n"
                  "use https://example.org/x/nlswork.dta, clear\nwebuse nosuch, clear\n")
    recs = cov.run_file(do, kit)
    assert [r["rc"] for r in recs][:4] == [0, 0, 0, 0]
    assert recs[4]["rc"] != 0
    from hlmshell.data import remote
    assert remote.read_remote_dta.__module__ == "hlmshell.data.remote"   # undone afterwards


def test_exit_inside_a_block_ends_the_file_with_its_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    do = tmp_path / "t.do"
    do.write_text("display 1\nif 1 {\n  exit 459\n}\ndisplay 2\n")
    recs = cov.run_file(do, None)
    assert [(r["text"], r["rc"]) for r in recs] == [("display 1", 0), ("if 1 {", 459)]


def test_report_survives_an_empty_command_and_svy_without_data():
    """`eststo:` with nothing after it fails with an empty command name (the report used to
    crash on it); `svy:`/`mi` on data that was never loaded (r(119)) is downstream of the
    missing file."""
    recs = [{"cmd": "use", "rc": 601, "nvars": 0},
            {"cmd": "svy", "rc": 119, "nvars": 0},
            {"cmd": "", "rc": 198, "nvars": 0}]
    status = [r["status"] for r in cov.classify(recs)]
    assert status == ["nodata", "downstream", "failed"]
    s = cov.summarize_file(cov.classify(recs))
    text = cov.report({"x.do": s})
    assert "x.do" in text and "r(198)" in text
