"""Robustness-sweep entries for the describing-data commands (codebook, tabstat, duplicates,
misstable, ds, lookfor, notes)."""

BASE = {
    "codebook": "codebook ses female",
    "tabstat": "tabstat ses mathach, statistics(mean sd p50) by(sector)",
    "duplicates": "duplicates report id",
    "misstable": "misstable summarize ses mathach",
    "ds": "ds ses mathach",
    "lookfor": "lookfor school",
    "tab2": "tab2 sector female minority",
}
TAKES = {
    "codebook": "if in", "tabstat": "if in weight", "duplicates": "if in", "misstable": "if in",
    "tab2": "if in weight",
}
# notes reads its own text (`notes ses: ...`): tests/test_describe_notes.py
RAW = {"notes"}
