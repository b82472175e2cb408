"""Panel estimators real do-files use: xtrc (xtrc.py), xthtaylor (xthtaylor.py), xthybrid
(xthybrid.py). Their numbers and own refusals are in tests/test_xtrc.py, test_xthtaylor.py and
test_xthybrid.py."""
BASE = {"xtrc": "xtrc mathach ses, i(id)",
        "xthtaylor": "xthtaylor mathach ses sector, i(id) endog(ses)",
        "xthybrid": "xthybrid mathach ses, clusterid(id)"}
TAKES = {k: "if in" for k in BASE}
