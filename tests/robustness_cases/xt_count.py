"""Panel count and censored models: xtnbreg.py, xtpqml.py, tobit.py, xttobit.py (their
numbers and own refusals are in tests/test_xtnbreg.py and tests/test_tobit.py)."""
BASE = {"xtnbreg": "xtnbreg minority ses, i(id) fe iterate(20) nolog",
        "xtpqml": "xtpqml minority ses, i(id) nolog",
        "tobit": "tobit mathach ses, ll(0) nolog",
        "xttobit": "xttobit mathach ses, i(id) ll(0) intpoints(4) nolog"}
TAKES = {k: "if in" for k in BASE}
TAKES["tobit"] = "if in weight"
