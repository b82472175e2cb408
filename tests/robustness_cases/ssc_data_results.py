"""Community data and results commands (SSC, built in): Newson's parmest/parmby and sencode, Lian's winsor2 --
session (a fitted mixed); their own bad input is in tests/test_parmest_sencode.py."""
BASE = {"parmest": "parmest, list(parm estimate p)",
        "parmby": 'parmby "regress mathach ses", by(sector) list(sector parm estimate)',
        "sencode": "sencode name, generate(x)"}
TAKES = {"sencode": "if in"}
# winsor2 (SSC, Lian): its own bad input is in tests/test_winsor2.py
BASE["winsor2"] = "winsor2 ses, cuts(5 95) suffix(_x)"
TAKES["winsor2"] = "if in"
BASE["sdecode"] = "sdecode female, generate(sfemale)"
TAKES["sdecode"] = "if in"
