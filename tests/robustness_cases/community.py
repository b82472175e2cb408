"""Community (SSC) output and data-description commands built in: outreg2, estadd, estpost,
log2html, fre, mdesc, distinct, bcuse. Each appears with a valid line on the sweep's hsb session
(with `mixed` fitted and m1, m2 stored); their text is theirs to read."""
BASE = {"outreg2": "outreg2 using sweep_out, replace"}
RAW = {"outreg2"}
TAKES: dict = {}
