"""Survival analysis (hlmshell/commands/st_*.py). stset runs on the sweep's hsb session; the
other st commands need stset data first (on hsb they stop at r(119) data not st), so the
sweep only throws random text at them and tests/test_st_survival.py checks their bad input
on stset data, each case leaving the session unchanged."""
BASE = {"stset": "stset mathach, failure(minority)"}
TAKES = {"stset": "if"}
RAW = {"stcox", "streg", "sts", "stdescribe", "stsum", "stvary"}
