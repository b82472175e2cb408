"""clogit (clogit.py) on hsb's schools as groups and mvreg (mvreg.py); their numbers and own
refusals are in tests/test_clogit.py and tests/test_mvreg.py."""
BASE = {"clogit": "clogit minority ses, group(id) nolog",
        "mvreg": "mvreg mathach ses = minority female, corr"}
TAKES = {"clogit": "if in", "mvreg": "if in weight"}
