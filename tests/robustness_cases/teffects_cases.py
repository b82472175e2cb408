"""teffects (teffects.py, teffects_match.py) and tebalance (tebalance.py): the models are read
from parenthesised groups, so both read their own text. The numbers and refusals are in
tests/test_teffects.py."""
BASE = {"teffects": "teffects ra (mathach ses female) (sector)"}
TAKES = {"teffects": "if in weight"}
RAW = {"teffects", "tebalance"}
