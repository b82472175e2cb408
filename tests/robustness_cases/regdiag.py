"""Regression staples (hlmshell/commands/reg_diagnostics.py, reg_diag_plots.py): the
postestimation commands need regress (or logit) results and the sweep's e() is mixed's, so they
are RAW here; tests/test_reg_diagnostics.py covers their bad input."""
BASE: dict = {}
TAKES: dict = {}
RAW = {"linktest", "dfbeta", "avplot", "avplots", "cprplot", "acprplot", "rvpplot", "lvr2plot",
       "lroc", "lsens", "lstat", "lfit", "hettest", "ovtest"}     # after logit: tests/test_logit_postest.py
BASE["qreg"] = "qreg mathach ses, quantile(.25) nolog"
TAKES["qreg"] = "if in"
BASE["mlogit"] = "mlogit sector ses female, baseoutcome(0) nolog"
TAKES["mlogit"] = "if in"
