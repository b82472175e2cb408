"""clogit (clogit.py) on hsb's schools as groups; its numbers and own refusals are in
tests/test_clogit.py."""
BASE = {"clogit": "clogit minority ses, group(id) nolog"}
TAKES = {"clogit": "if in"}
