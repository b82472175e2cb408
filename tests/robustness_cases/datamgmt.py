"""Data-management commands of issue 13: expand, fillin, recast, snapshot (swept); format,
dir/ls and statsby read their own text (RAW; tests/test_datamgmt_*.py cover them)."""
BASE = {
    "expand": "expand 2, generate(dup)",
    "fillin": "fillin id female",
    "recast": "recast double ses",
    "snapshot": "snapshot save",
}
TAKES = {"expand": "if in"}
RAW = {"format", "dir", "statsby"}
NO_OPTIONS = {"fillin"}
