"""Panel econometrics staples: reghdfe (hlmshell/commands/reghdfe.py) and the panel
diagnostics xtserial, xttest3, xttest2, xtcsd (xt_tests.py). xtserial needs a time variable,
which hsb has not; the other three read the active xtreg, fe and take no varlist: their
refusals are in tests/test_xt_tests.py."""
BASE = {"reghdfe": "reghdfe mathach ses, absorb(id)"}
TAKES = {"reghdfe": "if in"}
RAW = {"xtserial", "xttest3", "xttest2", "xtcsd", "xtoverid",
       "tssmooth",   # tssmooth needs a time variable too: its refusals are in tests/test_tssmooth.py
       "xtgls",      # needs xtset, which the sweep's hsb session has not: refusals in tests/test_xtgls.py
       "xtpcse"}     # needs xtset with a time variable: refusals in tests/test_xtpcse.py
