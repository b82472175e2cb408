"""svy: tabulate (hlmshell/commands/svy_tabulate.py) runs inside the svy prefix, which is RAW
(svy_cases.py); BAD holds its bad input -- line on hsb after `svyset id [pw=w], strata(sector)`
with the variables of tests/test_svy_tabulate.py, and Stata's return code -- that
tests/test_svy_tabulate.py runs, each checking that the session is left as it was."""

BAD = [
    ("svy: tabulate", 100),                         # varlist required
    ("svy: tab nosuch", 111),
    ("svy: tab sesq minority female", 103),         # too many variables specified
    ("svy: tab sesq [pw=w]", 198),                  # weights can only be supplied to svyset
    ("svy: tab sesq, row", 198),                    # row/column need a two-way table
    ("svy: tab sesq, column", 198),
    ("svy: tab sesq, wald", 198),
    ("svy: tab sesq minority, row column se", 198),  # se for one kind only
    ("svy: tab sesq minority, count cell ci", 198),
    ("svy: tab sesq, percent proportion", 198),
    ("svy: tab sesq, format(abc)", 198),
    ("svy: tab sesq, level(5)", 198),
    ("svy: tab sesq, nosuchopt", 198),
    ("svy: tab sesq minority, null", 198),          # not available in hlmshell
    ("svy: tab sesq, lr", 198),                     # tests need a two-way table
    ("svy: tab sesq if nosuch > 1", 111),
    ("svy: tab sesq if sesq > 9", 2000),
    ("svy, subpop(if female == 9): tab sesq", 461),
    ("svy, subpop(nosuch): tab sesq", 111),
    ("svy: tab sesq, row se", 198),
]

# svy: ologit and svy: mlogit (hlmshell/commands/svy_categorical.py), same session
BAD_MODELS = [
    ("svy: ologit mq ses [pw=w]", 198),             # weights can only be supplied to svyset
    ("svy: ologit mq ses, vce(robust)", 198),
    ("svy: mlogit sesq mathach, cluster(id)", 198),
    ("svy: ologit", 100),
    ("svy: ologit mq nosuch", 111),
    ("svy: mlogit nosuch ses", 111),
    ("svy: mlogit sesq mathach, baseoutcome(9)", 111),
    ("svy: mlogit sesq mathach, nosuchopt", 198),
    ("svy: ologit one ses", 2000),                  # outcome does not vary
    ("svy: ologit mq ses if mq > 9", 2000),
]
