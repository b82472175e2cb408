"""The course notes' data step, end to end through the interpreter: recode size into sized,
then the two tabulate tables the notes print (steps 1, 21 and 22 of the notes)."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

HSB = Path(__file__).resolve().parents[1] / "hlmshell" / "sample_data" / "hsb.dta"

RECODE = "recode size (min/499=1) (500/1199=2) (1200/max=3), generate(sized)"
RECODE_OUT = """\
(7,185 differences between size and sized)
"""

TAB_SIZED = "tabulate sized, generate(sized_)"
TAB_SIZED_OUT = """\
  RECODE of |
       size |      Freq.     Percent        Cum.
------------+-----------------------------------
          1 |      1,524       21.21       21.21
          2 |      2,984       41.53       62.74
          3 |      2,677       37.26      100.00
------------+-----------------------------------
      Total |      7,185      100.00
"""

TAB_SIZED_1 = "tabulate sized_1"
TAB_SIZED_1_OUT = """\
    sized== |
     1.0000 |      Freq.     Percent        Cum.
------------+-----------------------------------
          0 |      5,661       78.79       78.79
          1 |      1,524       21.21      100.00
------------+-----------------------------------
      Total |      7,185      100.00
"""

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("hlmshell.interpreter") is None
    or importlib.util.find_spec("hlmshell.commands.tabulate") is None,
    reason="interpreter / tabulate not there yet")


def _trimmed(text: str) -> list[str]:
    """Lines without the blank lines Stata puts around a command's output."""
    lines = text.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


@pytest.fixture(scope="module")
def run():
    from hlmshell.interpreter import Interpreter
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session

    session = Session(out=Capture())
    interp = Interpreter(session)

    def _run(line):
        start = len(session.out.getvalue())
        rc = interp.run_text(line, echo=False)
        return rc, session.out.getvalue()[start:], session

    rc, _, _ = _run(f'use "{HSB}", clear')
    assert rc == 0
    return _run


def test_recode_sized(run):
    rc, out, session = run(RECODE)
    assert rc == 0
    assert _trimmed(out) == _trimmed(RECODE_OUT)
    v = session.data.var("sized")
    assert v.label == "RECODE of size"
    u, c = np.unique(v.values, return_counts=True)
    assert list(u) == [1, 2, 3] and list(c) == [1524, 2984, 2677]


def test_tabulate_sized_generate(run):
    rc, out, session = run(TAB_SIZED)
    assert rc == 0
    assert _trimmed(out) == _trimmed(TAB_SIZED_OUT)
    assert [session.data.var(f"sized_{k}").label for k in (1, 2, 3)] == \
        ["sized==1.0000", "sized==2.0000", "sized==3.0000"]


def test_tabulate_sized_1(run):
    rc, out, _ = run(TAB_SIZED_1)
    assert rc == 0
    assert _trimmed(out) == _trimmed(TAB_SIZED_1_OUT)
