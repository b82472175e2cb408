"""Two-way tabulate's statistics and cell contents (hlmshell/commands/tabulate_stats.py):
tabulate and tab2 are swept with the other commands (test_robustness.py, describe.py); BAD holds
their bad input -- line on the session of tests/test_tabulate_stats.py (variables r c n w, with
n integer counts and w a non-integer weight) and Stata's return code -- that
tests/test_tabulate_stats.py runs, each checking that the session is left as it was."""

BAD = [
    ("tabulate r, chi2", 198),                      # statistics need a two-way table
    ("tabulate r, exact", 198),
    ("tabulate r, V", 198),
    ("tabulate r, all", 198),
    ("tabulate r, expected", 198),
    ("tabulate r, cchi2", 198),
    ("tabulate r, rowsort", 198),
    ("tabulate r c, v", 198),                       # V is upper case only
    ("tabulate r c, cc", 198),                      # cchi2's minimum abbreviation is cchi
    ("tabulate r c, c", 198),
    ("tabulate r c, exact(x)", 198),
    ("tabulate r c, exact(0)", 198),
    ("tabulate r c, exact(1.5)", 198),
    ("tabulate r c, gamma(2)", 198),
    ("tabulate r c [fw=n], nosuchopt all", 198),
    ("tabulate r c [aw=w], exact", 401),           # Fisher's test needs integer counts
    ("tabulate r c [fw=n] if r > 9, all", 2000),
    ("tabulate r nosuch, all", 111),
    ("tab2 r c n [fw=n], firstonly(2)", 198),
    ("tab2 r c [fw=n], V gamma nosuch", 198),
    ("tab2 r, all", 102),
]
