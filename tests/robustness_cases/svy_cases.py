"""The svy prefix (hlmshell/commands/svy_estimation.py): its text is its own to read (vcetype,
options, the command after the colon), so it is RAW in the sweep (frames_putexcel_svy.py lists
it too). BAD holds its bad input -- line (after the setup noted) and Stata's return code --
that tests/test_svy.py runs, each checking that the session is left as it was."""
RAW = {"svy"}

# on hsb with no design declared
NO_DESIGN = [
    ("svy: mean mathach", 119),             # data not set up for svy, use svyset
    ("svy, subpop(female): regress mathach ses", 119),
]

# on hsb after `svyset id [pw=w], strata(sector)`
BAD = [
    ("svy: summarize mathach", 322),        # not an estimation command svy runs
    ("svy: xtreg mathach ses", 322),
    ("svy: nosuchcmd mathach", 322),
    ("svy mean mathach", 198),              # no colon, not a replay
    ("svy bootstrap: mean mathach", 198),   # replication methods are not there
    ("svy jackknife: mean mathach", 198),
    ("svy blah: mean mathach", 198),
    ("svy, nosuchopt: mean mathach", 198),
    ("svy, level(200): mean mathach", 198),
    ("svy, subpop(nosuch): mean mathach", 111),
    ("svy, subpop(female ses): mean mathach", 198),
    ("svy, subpop(if female == 9): mean mathach", 461),  # no observations in the subpopulation
    ("svy, subpop(name): mean mathach", 109),
    ("svy: mean", 100),
    ("svy: mean nosuch", 111),
    ("svy: mean name", 109),
    ("svy: mean mathach [pw=w]", 198),      # weights can only be supplied to svyset
    ("svy: regress mathach ses [pw=w]", 198),
    ("svy: regress mathach ses, vce(robust)", 198),
    ("svy: regress mathach ses, cluster(id)", 198),
    ("svy: regress", 100),
    ("svy: regress mathach nosuch", 111),
    ("svy: logit mathach ses, nosuchopt", 198),
    ("svy: ratio mathach", 198),
    ("svy: ratio mathach/", 198),
    ("svy: mean mathach if nosuch", 111),
    ("svy: mean mathach, over(nosuch)", 111),
    ("svy: poisson ses female", 459),        # negative counts
]
