"""xtmrho (SSC): after the sweep's mixed fit; its bad input is in tests/test_xtmrho.py."""
BASE = {"xtmrho": "xtmrho"}
