"""predictnl (and suest, xtregar when present): valid lines on the sweep's hsb session (a fitted
mixed); their own bad input is in tests/test_predictnl.py, test_suest.py, test_xtregar.py."""
BASE = {"predictnl": "predictnl pnl = xb(), se(pnl_se)"}
TAKES = {"predictnl": "if in"}
# suest needs stored regress/logit/probit/poisson/mlogit results (the sweep has only mixed fits):
# its lines are covered by tests/test_suest.py
RAW = {"suest"}
# xtregar needs a time variable set by xtset (the sweep's hsb has none): tests/test_xtregar.py
RAW |= {"xtregar"}
