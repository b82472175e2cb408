"""range, unique (community), cscript: valid lines for the sweep; their bad input is in
tests/test_range_unique_cscript.py."""
BASE = {"range": "range rr 0 1", "unique": "unique id"}
TAKES = {"unique": "if in"}
RAW = {"cscript"}
