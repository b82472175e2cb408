"""contrast and pwcompare (issue 14): they need a model with factor variables, which the
sweep's last model (mixed mathach ses female || id:) does not have; their bad input is
tested in tests/test_contrast.py and tests/test_pwcompare.py."""
RAW = set(globals().get("RAW", set())) | {"contrast", "pwcompare"}
