"""label variable/define/values/list/drop and their abbreviations."""
import numpy as np
import pytest

from hlmshell.data.missing import ext_missing
from hlmshell.errors import StataError
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.parser import parse_command


from datacmd import run, s  # noqa: F401 (fixture)




def test_variable_label(s):
    run(s, 'label variable ses "SES = standardized"')
    assert s.data.var("ses").label == "SES = standardized"
    run(s, 'la var ses "x"')
    assert s.data.var("ses").label == "x"
    run(s, "la var ses")
    assert s.data.var("ses").label == ""
    with pytest.raises(StataError) as e:
        run(s, 'la var nosuch "x"')
    assert e.value.rc == 111


def test_define_values_list(s):
    run(s, 'label define sect 0 "public" 1 "Catholic"')
    run(s, "label values sector sect")
    assert s.data.var("sector").vallab == "sect"
    assert run(s, "label list sect") == "sect:\n           0 public\n           1 Catholic\n"
    assert s.r.scalars["k"] == 2 and s.r.scalars["max"] == 1
    run(s, "la val sector")
    assert s.data.var("sector").vallab is None
    run(s, "la val sector female sect")
    assert s.data.var("female").vallab == "sect"


def test_define_add_modify_replace(s):
    run(s, 'la def yn 0 "no" 1 "yes"')
    with pytest.raises(StataError) as e:
        run(s, 'la def yn 2 "maybe"')
    assert (e.value.message, e.value.rc) == ("label yn already defined", 110)
    run(s, 'la def yn 2 "maybe", add')
    with pytest.raises(StataError) as e:
        run(s, 'la def yn 2 "perhaps", add')
    assert e.value.rc == 180
    assert s.data.value_labels["yn"][2.0] == "maybe"
    run(s, 'la def yn 2 "perhaps", modify')
    assert s.data.value_labels["yn"] == {0.0: "no", 1.0: "yes", 2.0: "perhaps"}
    run(s, 'la def yn 2 "", modify')
    assert 2.0 not in s.data.value_labels["yn"]
    run(s, 'la def yn 5 "five", replace')
    assert s.data.value_labels["yn"] == {5.0: "five"}


def test_define_extended_missing_and_bad_values(s):
    run(s, 'label define m 1 "one" .a "refused"')
    tab = s.data.value_labels["m"]
    assert any(np.isnan(k) for k in tab)
    with pytest.raises(StataError) as e:
        run(s, 'label define z 1.5 "x"')
    assert e.value.rc == 198
    assert "z" not in s.data.value_labels


def test_label_strings_refused(s):
    run(s, 'generate str5 name = "a"')
    run(s, 'la def yn 0 "no"')
    with pytest.raises(StataError) as e:
        run(s, "label values name yn")
    assert e.value.rc == 181


def test_label_drop_and_dir(s):
    run(s, 'la def a 1 "x"')
    run(s, 'la def b 1 "y"')
    assert run(s, "label dir") == "a\nb\n"
    run(s, "label drop a")
    assert list(s.data.value_labels) == ["b"]
    with pytest.raises(StataError) as e:
        run(s, "label drop a")
    assert e.value.rc == 111
    run(s, "label drop _all")
    assert s.data.value_labels == {}


def test_data_label(s):
    run(s, 'label data "my data"')
    assert s.data.label == "my data"
