"""Commands added by the [XT] manual sweep: xtcloglog (xt_glmm.py) and xtintreg (xtintreg.py);
their numbers and own refusals are in tests/test_xt_manual_postest.py."""
BASE = {"xtcloglog": "xtcloglog minority ses, i(id) pa",
        "xtintreg": "xtintreg mathach mathach ses, i(id) intpoints(4) nolog"}
TAKES = {"xtcloglog": "if in", "xtintreg": "if in"}
