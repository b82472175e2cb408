"""Multiple imputation (issue: mi): `mi` reads its own text (subcommands, `: command` parts);
tests/test_mi_setup.py checks its bad input case by case, each leaving the session unchanged."""
RAW = {"mi"}
