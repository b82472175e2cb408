"""Factor-variable design matrices: Stata's names, base levels, collinearity notes, display
groups and random-effects blocks (hlmshell.engine.design; display groups and term labels from
hlmshell.output.labels; terms typed as the parser's and translated as the commands do)."""
import os

import numpy as np
import pytest

import hlmshell
from hlmshell.data.dta import read_dta
from hlmshell.commands.model_terms import engine_term
from hlmshell.engine import design as dz
from hlmshell.errors import StataError
from hlmshell.output import labels as shown
from hlmshell.syntax.ast import FVPart, FVTerm

HSB = os.path.join(os.path.dirname(hlmshell.__file__), "sample_data", "hsb.dta")


def c(name):
    return FVPart(name)


def i(name, **kw):
    return FVPart(name, factor=True, **kw)


def T(*parts):
    return engine_term(FVTerm(tuple(parts)))


def cross(a, b):
    """What the parser makes of a##b: a, b, a#b."""
    return [T(a), T(b), T(a, b)]


@pytest.fixture(scope="module")
def hsb():
    ds = read_dta(HSB)
    cols = {k: ds.values(k).astype(float) for k in ds.names}
    size = cols["size"]
    cols["sized"] = np.where(size <= 499, 1.0, np.where(size <= 1199, 2.0, 3.0))
    cols["sized_1"] = (cols["sized"] == 1).astype(float)
    return cols


FIRST = (cross(c("ses"), c("sector")) + cross(c("ses"), i("sized"))
         + cross(i("female"), i("sector")) + cross(i("female"), i("sized")))


def build(cols, terms, **kw):
    n = len(next(iter(cols.values())))
    return dz.build_fixed(terms, cols.__getitem__, n, **kw)


def test_first_model_notes_and_columns(hsb):
    d = build(hsb, FIRST)
    assert d.notes == ["note: ses omitted because of collinearity.",
                       "note: 1.sector omitted because of collinearity."]
    shown = [(c.name, d.status(j)) for j, c in enumerate(d.columns) if d.status(j) != "base"]
    assert shown == [("ses", None), ("sector", None), ("c.ses#c.sector", None), ("ses", "omitted"),
                     ("2.sized", None), ("3.sized", None), ("2.sized#c.ses", None),
                     ("3.sized#c.ses", None), ("1.female", None), ("1.sector", "omitted"),
                     ("1.female#1.sector", None), ("1.female#2.sized", None),
                     ("1.female#3.sized", None), ("_cons", None)]
    # the estimated part has full rank: 11 coefficients + constant
    assert d.X_keep.shape == (7185, 12)
    assert np.linalg.matrix_rank(d.X_keep) == 12


def test_first_model_stata_names(hsb):
    d = build(hsb, FIRST)
    names = d.stata_names
    assert names[:5] == ["ses", "sector", "c.ses#c.sector", "o.ses", "1b.sized"]
    assert "1b.sized#co.ses" in names
    assert "1o.sector" in names and "0b.female" in names
    assert names[names.index("1o.sector") + 1:names.index("1.female#1.sector") + 1] == [
        "0b.female#0b.sector", "0b.female#1o.sector", "1o.female#0b.sector", "1.female#1.sector"]
    assert names[-1] == "_cons"


def test_first_model_display_order(hsb):
    d = build(hsb, FIRST)
    groups = shown.display_groups(d)
    got = [(g.header, [(r.label, r.status) for r in g.rows]) for g in groups]
    assert got == [
        (None, [("ses", None)]), (None, [("sector", None)]), (None, [("c.ses#c.sector", None)]),
        (None, [("ses", "omitted")]),
        ("sized", [("2", None), ("3", None)]),
        ("sized#c.ses", [("2", None), ("3", None)]),
        (None, [("1.female", None)]), (None, [("1.sector", "omitted")]),
        ("female#sector", [("1 1", None)]),
        ("female#sized", [("1 2", None), ("1 3", None)]),
        (None, [("_cons", None)]),
    ]


def test_baselevels_shows_base_rows(hsb):
    d = build(hsb, [T(i("female")), T(i("sized"))])
    groups = shown.display_groups(d, baselevels=True)
    assert groups[0].header == "female"
    assert [(r.label, r.status) for r in groups[0].rows] == [("0", "base"), ("1", None)]
    assert [(r.label, r.status) for r in groups[1].rows] == [("1", "base"), ("2", None), ("3", None)]
    assert d.notes == []


def test_final_model_single_dummy(hsb):
    terms = cross(c("ses"), c("sector")) + cross(i("female"), i("sized_1"))
    d = build(hsb, terms)
    groups = shown.display_groups(d)
    labels = [(g.header, [r.label for r in g.rows]) for g in groups]
    assert labels[3:] == [(None, ["1.female"]), (None, ["1.sized_1"]), ("female#sized_1", ["1 1"]),
                          (None, ["_cons"])]


def test_repeated_factor_term_dropped_silently(hsb):
    terms = [T(i("female")), T(i("sector")), T(i("female"))]
    d = build(hsb, terms)
    assert [c.name for c in d.columns] == ["0.female", "1.female", "0.sector", "1.sector", "_cons"]
    assert d.notes == []


def test_repeated_continuous_is_omitted_with_note(hsb):
    d = build(hsb, [T(c("ses")), T(c("ses"))])
    assert d.names == ["ses", "ses", "_cons"]
    assert d.notes == ["note: ses omitted because of collinearity."]
    assert list(d.omitted) == [False, True, False]


def test_collinear_with_constant_and_noconstant(hsb):
    cols = dict(hsb)
    cols["one"] = np.ones(7185)
    d = build(cols, [T(c("one")), T(c("ses"))])
    assert d.notes == ["note: one omitted because of collinearity."]
    d2 = build(cols, [T(c("one")), T(c("ses"))], constant=False)
    assert d2.notes == [] and d2.names == ["one", "ses"]


def test_base_level_choices(hsb):
    for part, base in [(i("sized", base=3), 3), (i("sized", base="last"), 3),
                       (i("sized", base="first"), 1), (i("sized", base="freq"), 2)]:
        d = build(hsb, [T(part)])
        assert [c.levels[0] for c in d.columns if c.base] == [base]
    d = build(hsb, [T(i("sized", base="none"))], constant=False)
    assert [c.name for c in d.columns] == ["1.sized", "2.sized", "3.sized"]
    assert not d.base.any() and d.notes == []
    d = build(hsb, [T(i("sized", base="none"))])
    assert d.notes == ["note: 3.sized omitted because of collinearity."]


def test_explicit_levels(hsb):
    d = build(hsb, [T(i("sized", levels=(2,)))])
    assert d.names == ["2.sized", "_cons"]
    groups = shown.display_groups(d)
    assert groups[0].rows[0].label == "2.sized"


def test_interaction_columns_factor_first(hsb):
    d = build(hsb, [T(c("ses")), T(c("ses"), i("sized"))])
    assert d.names == ["ses", "1.sized#c.ses", "2.sized#c.ses", "3.sized#c.ses", "_cons"]
    assert list(d.base) == [False, True, False, False, False]
    x = d.column(2)
    assert np.allclose(x, hsb["ses"] * (hsb["sized"] == 2))
    assert shown.term_label(d.terms[1]) == "sized#c.ses"


def test_base_only_when_the_lower_order_term_is_in_the_model(hsb):
    # help fvvarlist: sex#c.age is age for males and age for females; only if age is also
    # in the model is one of them a base
    d = build(hsb, [T(c("ses"), i("sized"))])
    assert not d.base.any() and d.notes == []
    assert [g.rows[k].label for g in shown.display_groups(d)[:1] for k in range(3)] == ["1", "2", "3"]
    # no constant: every level of a factor main effect is estimated
    d = build(hsb, [T(i("sized"))], constant=False)
    assert not d.base.any() and d.notes == []
    # factor interaction without main effects: no bases, the constant makes one cell collinear
    d = build(hsb, [T(i("female"), i("sector"))])
    assert not d.base.any()
    assert d.notes == ["note: 1.female#1.sector omitted because of collinearity."]


def test_empty_cell():
    cols = {"a": np.array([0, 0, 1, 1, 2, 2.]), "b": np.array([0, 1, 0, 1, 0, 0.]),
            "y": np.arange(6.)}
    d = build(cols, [T(i("a")), T(i("b")), T(i("a"), i("b"))])
    st = {c.name: d.status(j) for j, c in enumerate(d.columns)}
    assert st["1.a#1.b"] is None and st["2.a#1.b"] == "empty" and st["0.a#1.b"] == "base"
    assert d.notes == ["note: 2.a#1.b identifies no observations in the sample."]
    assert "2o.a#1o.b" in d.stata_names


def test_factor_values_must_be_nonnegative_integers():
    cols = {"x": np.array([0, 1.5, 2.])}
    with pytest.raises(StataError) as e:
        build(cols, [T(i("x"))])
    assert e.value.rc == 452 and "noninteger" in e.value.message
    cols = {"x": np.array([0, -1, 2.])}
    with pytest.raises(StataError) as e:
        build(cols, [T(i("x"))])
    assert e.value.rc == 452 and "negative" in e.value.message


def test_random_blocks_nested_and_slopes(hsb):
    n = 7185
    specs = [dz.RandomSpec("id", [T(c("ses"))], covariance="unstructured"),
             dz.RandomSpec("female", [])]
    blocks = dz.build_random(specs, hsb.__getitem__, n)
    b1, b2 = blocks
    assert b1.names == ["ses", "_cons"] and b1.covariance == "unstructured" and b1.depth == 1
    assert np.allclose(b1.Z[:, 0], hsb["ses"]) and np.allclose(b1.Z[:, 1], 1)
    assert b1.group.max() + 1 == 160
    # female within school: school/female pairs, each inside one school
    pairs = {(a, b) for a, b in zip(hsb["id"], hsb["female"])}
    assert b2.group.max() + 1 == len(pairs)
    for g in range(b2.group.max() + 1):
        assert len(set(b1.group[b2.group == g])) == 1
    assert b2.names == ["_cons"] and b2.covariance == "identity" and b2.depth == 2


def test_random_defaults_and_crossed(hsb):
    n = 7185
    blocks = dz.build_random([dz.RandomSpec("id", [T(c("ses")), T(c("female"))])], hsb.__getitem__, n)
    assert blocks[0].covariance == "independent"
    blocks = dz.build_random([dz.RandomSpec("_all", [], rterms=["sized"]),
                              dz.RandomSpec("id", [])], hsb.__getitem__, n)
    assert blocks[0].covariance == "identity" and blocks[0].Z.shape == (n, 3)
    assert (blocks[0].group == 0).all()
    assert blocks[1].group.max() + 1 == 160
    blocks = dz.build_random([dz.RandomSpec("id", [T(c("ses"))], constant=False)], hsb.__getitem__, n)
    assert blocks[0].names == ["ses"]


def test_random_factor_slope_drops_base_with_constant(hsb):
    n = 7185
    b = dz.build_random([dz.RandomSpec("id", [T(i("sized"))])], hsb.__getitem__, n)[0]
    assert b.names == ["2.sized", "3.sized", "_cons"]
    b = dz.build_random([dz.RandomSpec("id", [T(i("sized"))], constant=False)], hsb.__getitem__, n)[0]
    assert b.names == ["1.sized", "2.sized", "3.sized"]
