"""epitab (epitab.py): cs, cc, ir on hsb's 0/1 variables and the immediate forms; their numbers
and own refusals are in tests/test_epitab.py."""
BASE = {
    "cs": "cs minority female, by(sector) or",
    "cc": "cc minority female, by(sector) bd",
    "ir": "ir minority female size, by(sector)",
    "csi": "csi 7 12 9 2, or",
    "cci": "cci 12 16 55 125, woolf",
    "iri": "iri 41 15 28010 19017",
}
TAKES = {"cs": "if in weight", "cc": "if in weight", "ir": "if in weight"}
