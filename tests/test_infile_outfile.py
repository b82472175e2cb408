"""infile (free format) and outfile: values read as numpy reads the same text; outfile's text
read back by infile and by numpy; Stata's refusals."""
import numpy as np
import pytest

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture
def s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Session(out=Capture())


def test_free_format_values_match_numpy(s, tmp_path):
    rng = np.random.default_rng(3)
    X = np.round(rng.normal(size=(40, 3)) * 100, 3)
    text = "\n".join(" ".join(repr(float(v)) for v in row) for row in X)
    # one observation spread over two lines, another with commas: free format reads on
    (tmp_path / "d.raw").write_text(text.replace(" ", "\n", 1) + "\n")
    out = ok(s, "infile double(a b) double c using d")
    assert "(40 observations read)" in out
    got = np.column_stack([s.data.var(v).values for v in "abc"])
    assert np.array_equal(got, X)


def test_strings_missing_commas_and_notes(s, tmp_path):
    (tmp_path / "p.raw").write_text('1 2.5 "Ann Lee"\n3 . Bob\n5,,Carl x 8 Dee\n')
    out = ok(s, "infile x y str3 name using p.raw")
    assert "'x' cannot be read as a number for x[4]" in out
    assert list(s.data.var("name").values) == ["Ann", "Bob", "Car", "Dee"]
    y = s.data.var("y").values
    assert y[0] == 2.5 and np.isnan(y[1]) and np.isnan(y[2]) and y[3] == 8
    assert s.data.var("x").vtype == "float" and s.data.var("name").vtype == "str3"


def test_if_in_skip_automatic_byvariable(s, tmp_path):
    (tmp_path / "p.raw").write_text("1 a 10\n2 b 20\n3 a 30\n4 c 40\n")
    ok(s, "infile k _skip v using p.raw in 2/4 if v > 20")
    assert list(s.data.var("k").values) == [3, 4]
    ok(s, "infile k g v using p.raw, clear automatic")
    assert list(s.data.var("g").values) == [1, 2, 1, 3]
    assert s.data.value_labels["g"] == {1.0: "a", 2.0: "b", 3.0: "c"}
    (tmp_path / "q.raw").write_text("1 2 3 4 5 6")
    ok(s, "infile v1-v3 using q.raw, clear byvariable(2)")
    assert list(s.data.var("v2").values) == [3, 4]


def test_refusals(s, tmp_path):
    (tmp_path / "p.raw").write_text("1 2\n")
    assert run(s, "infile a b using nosuch.raw")[0] == 601
    assert run(s, "infile using p.raw")[0] == 198
    assert run(s, "infile a a using p.raw")[0] == 110
    assert run(s, "infile 1a using p.raw")[0] == 198
    assert run(s, "infile a str5 using p.raw")[0] == 198
    ok(s, "infile a b using p.raw")
    assert run(s, "infile a b using p.raw")[0] == 4          # changed since last saved
    ok(s, "save x")
    rc, out = run(s, "infile a b using p.raw")
    assert rc == 18 and "you must start with an empty dataset" in out


def test_outfile_round_trip_and_layout(s, tmp_path):
    ok(s, "use hsb")
    ok(s, "outfile id ses mathach female using o in 1/300, replace")
    lines = (tmp_path / "o.raw").read_text().splitlines()
    assert len(lines) == 300
    ref = np.loadtxt(tmp_path / "o.raw")
    ok(s, "use hsb")
    for j, v in enumerate(["id", "ses", "mathach", "female"]):
        assert np.allclose(ref[:, j], s.data.var(v).values[:300], atol=5e-4)
    ok(s, "infile id ses mathach female using o, clear")
    assert s.data.n == 300 and np.allclose(s.data.var("ses").values, ref[:, 1])
    assert run(s, "outfile using o")[0] == 602


def test_outfile_labels_comma_dictionary_wide(s, tmp_path):
    ok(s, "set obs 2")
    ok(s, 'generate str12 name = cond(_n == 1, "Ann Lee", "Bob")')
    ok(s, "generate x = cond(_n == 1, 1.5, .)")
    ok(s, "generate g = 1")
    ok(s, "label define gl 1 one")
    ok(s, "label values g gl")
    ok(s, "outfile using a, comma")
    assert (tmp_path / "a.raw").read_text() == '"Ann Lee",1.5,"one"\n"Bob",.,"one"\n'
    ok(s, "outfile using b, nolabel noquote")
    assert (tmp_path / "b.raw").read_text().split() == ["Ann", "Lee", "1.5", "1", "Bob", ".", "1"]
    ok(s, "outfile x using c, dictionary")
    text = (tmp_path / "c.dct").read_text().splitlines()
    assert text[0] == "dictionary {" and text[1].split() == ["float", "x"] and text[2] == "}"
    for k in range(30):
        ok(s, f"generate v{k} = 123456.5")
    ok(s, "outfile v* using w")
    assert max(len(ln) for ln in (tmp_path / "w.raw").read_text().splitlines()) <= 80
    ok(s, "outfile v* using w2, wide")
    assert len((tmp_path / "w2.raw").read_text().splitlines()) == 2


def test_dictionary_fixed_columns(s, tmp_path):
    (tmp_path / "d.dct").write_text(
        'dictionary using fixed.raw {\n  * comment\n'
        '  _column(1)  int    id     %3f   "identifier"\n'
        '  _column(5)  str8   name   %8s\n'
        '  _column(14) double score  %5f   "test score"\n'
        '              byte   grp\n}\n')
    (tmp_path / "fixed.raw").write_text("  1 Ann Lee   12.5 1\n 22 Bob       7.25 2\n333 Carl         . 1\n")
    out = ok(s, "infile using d")
    assert "(3 observations read)" in out
    assert list(s.data.var("id").values) == [1, 22, 333]
    assert list(s.data.var("name").values) == ["Ann Lee", "Bob", "Carl"]
    sc = s.data.var("score").values
    assert sc[0] == 12.5 and sc[1] == 7.25 and np.isnan(sc[2])
    assert list(s.data.var("grp").values) == [1, 2, 1]
    assert s.data.var("score").label == "test score" and s.data.var("name").vtype == "str8"


def test_dictionary_inline_data_lines_and_outfile_round_trip(s, tmp_path):
    (tmp_path / "two.dct").write_text(
        "infile dictionary {\n _lines(2)\n _line(1) a %2f\n _column(4) b %2f\n"
        " _line(2) c %3f\n}\n 1 2\n333\n 4 5\n666\n")
    ok(s, "infile using two")
    assert list(s.data.var("c").values) == [333, 666] and list(s.data.var("b").values) == [2, 5]
    ok(s, "use hsb, clear")
    ok(s, "outfile id ses female using od in 1/30, dictionary")
    ok(s, "infile using od, clear")
    assert s.data.n == 30 and s.data.var("id").vtype == "long"
    ref = Session(out=Capture())
    ok(ref, "use hsb")
    np.testing.assert_allclose(s.data.var("ses").values, ref.data.var("ses").values[:30], atol=5e-4)
    assert s.data.var("ses").label == ref.data.var("ses").label
    assert run(s, "infile using nosuch, clear")[0] == 601
    (tmp_path / "bad.dct").write_text("dictionary {\n x %zz\n}\n")
    assert run(s, "infile using bad, clear")[0] == 198
    assert run(s, "infile x using od.dct, clear using(a.raw)")[0] == 198
