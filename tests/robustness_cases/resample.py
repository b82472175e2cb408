"""Replication prefixes (issue 13): simulate, bootstrap, jackknife, permute read their own text
(`exp_list, options: command`); tests/test_simulate.py and tests/test_bootstrap*.py cover
their bad input, each checked to leave the data as it was."""
RAW = {"simulate", "bootstrap", "jackknife", "permute"}
BASE = {"bsample": "bsample 100"}
TAKES = {"bsample": "if in"}
