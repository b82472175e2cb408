"""Roger Newson's parmest/parmby and sencode (SSC, built in): valid lines on the sweep's hsb
session (a fitted mixed); their own bad input is in tests/test_parmest_sencode.py."""
BASE = {"parmest": "parmest, list(parm estimate p)",
        "parmby": 'parmby "regress mathach ses", by(sector) list(sector parm estimate)',
        "sencode": "sencode name, generate(x)"}
TAKES = {"sencode": "if in"}
