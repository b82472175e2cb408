"""Fixtures shared by the describe tests: a session with hsb loaded (`s`) and hsb as a pandas
frame (`df`) for the independent computations. Import them by name into a test module."""
import os

import pandas as pd
import pytest
from session_run import ok

import hlmshell
from hlmshell.data.dta import read_dta
from hlmshell.output.writer import Capture
from hlmshell.session import Session

HSB = os.path.join(os.path.dirname(hlmshell.__file__), "sample_data", "hsb.dta")


@pytest.fixture
def s():
    ses = Session(Capture())
    ok(ses, f'use "{HSB}"')
    return ses


@pytest.fixture(scope="module")
def df():
    d = read_dta(HSB)
    return pd.DataFrame({n: d.vars[n].values for n in d.names})
