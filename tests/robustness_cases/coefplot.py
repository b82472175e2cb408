"""coefplot (SSC coefplot, built in) and lowess: hlmshell/commands/coefplot*.py, lowess.py."""
BASE = {
    "lowess": "lowess mathach ses, nograph bwidth(.1)",
    "coefplot": "coefplot m1 m2, drop(_cons) xline(0)",
}
TAKES = {"lowess": "if in"}
