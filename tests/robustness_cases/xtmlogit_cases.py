"""xtmlogit (xtmlogit.py; its numbers and own refusals are in tests/test_xtmlogit.py). sector is
a two-category outcome on hsb; i(id) names the panels."""
BASE = {"xtmlogit": "xtmlogit sector ses in 1/300, i(id) intpoints(3) nolog"}
TAKES = {k: "if in" for k in BASE}
