"""newey (newey.py) on hsb: lag(0) needs no time variable (hsb is not tsset). Its numbers,
spacing checks and own refusals are in tests/test_newey.py."""
BASE = {"newey": "newey mathach ses female, lag(0)"}
TAKES = {"newey": "if in weight"}
