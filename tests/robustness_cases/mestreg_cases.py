"""mestreg (hlmshell/commands/mestreg*.py). It needs stset data, which the sweep's hsb session
has not (every line stops at r(119) data not st), so the sweep only throws random text at it;
tests/test_mestreg.py checks its bad input on stset data, each case leaving the session
unchanged."""
RAW = {"mestreg"}
