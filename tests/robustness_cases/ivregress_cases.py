"""ivregress (ivregress.py) on hsb: ses instrumented by the school mean; xtivreg (xtivreg.py)
needs xtset, which the sweep's hsb session is not, so it is only in the random walk. Their
numbers and own refusals are in tests/test_ivregress.py and tests/test_xtivreg.py."""
BASE = {"ivregress": "ivregress 2sls mathach female (ses = meanses)"}
TAKES = {"ivregress": "if in weight"}
RAW = {"ivregress", "xtivreg"}
