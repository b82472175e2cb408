"""mata: its text is Mata's to read (a bad statement fails with Mata's 3000-range codes,
which test_robustness accepts); the hand-written bad statements are in tests/test_mata.py."""
RAW = {"mata"}
