"""coefplot (SSC coefplot, built in) and lowess: hlmshell/commands/coefplot*.py, lowess.py."""
BASE = {
    "lowess": "lowess mathach ses, nograph bwidth(.1)",
}
TAKES = {"lowess": "if in"}
