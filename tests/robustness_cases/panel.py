"""Panel post-estimation (hlmshell/commands/xttest0.py) and the panel GLMs (xtgee.py, xt_glmm.py)."""
# xttest0 takes no arguments and needs xtreg, re with a panel: its refusals (r(198) for any text,
# r(301) after other models, r(301) with no estimates) are tested in tests/test_xttest0.py
RAW = {"xttest0",
       "xttrans"}   # needs a time variable, which hsb has not: its refusals are in tests/test_xttrans.py
BASE = {"xtgee": "xtgee minority ses, i(id) family(binomial) link(logit) corr(exchangeable)",
        "xtlogit": "xtlogit minority ses, i(id) fe",
        "xtprobit": "xtprobit minority ses, i(id) pa",
        "xtpoisson": "xtpoisson minority ses, i(id)",
        "areg": "areg mathach ses, absorb(id)"}
TAKES = {k: "if in" for k in BASE}
TAKES["xtgee"] = "if in weight"
