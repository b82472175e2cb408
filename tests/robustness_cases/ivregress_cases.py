"""ivregress (ivregress.py) on hsb: ses instrumented by the school mean; its numbers and own
refusals are in tests/test_ivregress.py."""
BASE = {"ivregress": "ivregress 2sls mathach female (ses = meanses)"}
TAKES = {"ivregress": "if in"}
RAW = {"ivregress"}
