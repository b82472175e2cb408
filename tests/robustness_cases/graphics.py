"""Graph commands (issue 14): hlmshell/commands/graph_*.py."""
BASE = {
    "twoway": "twoway (scatter mathach ses) (lfit mathach ses), title(x)",
    "scatter": "scatter mathach ses, msymbol(Oh)",
    "line": "line mathach ses, sort",
    "graph": "graph twoway scatter mathach ses",
    "histogram": "histogram mathach, normal",
    "kdensity": "kdensity mathach",
    "qnorm": "qnorm ses",
    "pnorm": "pnorm ses",
    "spagplot": "spagplot mathach ses, id(id)",
}
TAKES = {
    "twoway": "if in weight", "scatter": "if in weight", "line": "if in weight",
    "graph": "if in weight", "histogram": "if in weight", "kdensity": "if in",
    "qnorm": "if in", "pnorm": "if in", "spagplot": "if in",
}
# rvfplot needs regress results (the sweep's e() is mixed); xtline a time variable (hsb has
# none): tests/test_graph_stat.py covers both
RAW = {"rvfplot", "xtline", "tsline"}   # tsline: tests/test_graph_tsline.py
BASE["serrbar"] = "serrbar mathach ses size, scale(1.96)"
TAKES["serrbar"] = "if in"
