"""Community (SSC) output and data-description commands built in: outreg2, estadd, estpost,
log2html, fre, mdesc, distinct, bcuse. Each appears with a valid line on the sweep's hsb session
(with `mixed` fitted and m1, m2 stored); their text is theirs to read."""
BASE = {"outreg2": "outreg2 using sweep_out, replace", "mdesc": "mdesc mathach ses",
        "distinct": "distinct id sector", "fre": "fre sector"}
# bcuse needs the web (tests/test_webuse.py serves it locally); log2html needs a log file: tests/test_community_misc.py
RAW = {"outreg2", "bcuse", "log2html"}
TAKES = {"mdesc": "if in", "distinct": "if in", "fre": "if in weight"}
BASE.update({"estpost": "estpost summarize mathach ses"})
TAKES["estpost"] = "if in weight"
# estadd's text is its own (subcommand, `: namelist`); tests/test_estadd_estpost.py covers it
RAW |= {"estadd"}
