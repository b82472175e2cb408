"""Tables for papers: etable (Stata 17) and estout's esttab / eststo / estout (tests/test_etable.py,
tests/test_esttab.py). eststo runs the estimation command after its colon, whose qualifiers
and options are that command's: its text is its own (RAW)."""

BASE = {
    "etable": "etable, estimates(m1 m2) mstat(N) mstat(aic)",
    "esttab": "esttab m1 m2, se",
    "estout": "estout m1 m2, cells(b se(par)) stats(N ll)",
}
RAW = {"eststo"}
