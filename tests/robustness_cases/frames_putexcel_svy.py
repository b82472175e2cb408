"""Frames, putexcel and the survey design (issue 13's h12 items): their text is theirs to read
(subcommands, frame names, cell assignments), so they are RAW here; tests/test_frames.py,
tests/test_putexcel.py and tests/test_svyset.py hold their bad-input cases."""
RAW = {"frame", "cwf", "mkf", "pwf", "putexcel"}
# svydescribe needs a design (svyset) the sweep's session does not have
RAW |= {"svyset", "svy", "svydescribe"}
RAW |= {"frlink", "frget"}     # tests/test_frlink.py
