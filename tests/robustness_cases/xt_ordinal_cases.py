"""Random-effects ordered models: xt_ordinal.py (xtologit, xtoprobit; their numbers and own
refusals are in tests/test_xt_ordinal.py). female is a two-category ordinal outcome on hsb."""
BASE = {"xtologit": "xtologit female ses in 1/400, i(id) intpoints(4) nolog",
        "xtoprobit": "xtoprobit female ses in 1/400, i(id) intpoints(4) nolog"}
TAKES = {k: "if in" for k in BASE}
# quadchk re-runs the last random-effects fit (after the sweep's `mixed` it refuses, r(301));
# its own cases are in tests/test_quadchk.py
RAW = {"quadchk"}
