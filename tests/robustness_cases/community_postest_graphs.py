"""Community commands old do-files call, built in: xtmixed_corr (StataCorp's SSC command
before estat wcorrelation; tests/test_xtmixed_corr.py) and Nick Cox's tabplot
(tests/test_tabplot.py). Valid lines on the sweep's hsb session with `mixed` fitted."""
BASE = {"xtmixed_corr": "xtmixed_corr, at(id=1224)", "tabplot": "tabplot sector himinty, nodraw"}
# tabplot reads its own text (graph options, weights)
RAW = {"tabplot"}
TAKES = {"tabplot": "if in weight"}
