"""Panel econometrics staples: reghdfe (hlmshell/commands/reghdfe.py)."""
BASE = {"reghdfe": "reghdfe mathach ses, absorb(id)"}
TAKES = {"reghdfe": "if in"}
