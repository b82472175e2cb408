"""factor, pca, alpha and icc (hlmshell/commands/factor.py, pca.py, alpha.py, icc.py). rotate,
screeplot/scree and factormat need results or a matrix the sweep's session does not have
(tests/test_factor.py covers their bad input); icc's line is two schools of 56 students each."""
BASE = {
    "factor": "factor mathach ses meanses pracad disclim, pcf",
    "pca": "pca mathach ses meanses pracad, components(2)",
    "alpha": "alpha mathach ses meanses, item",
    "icc": "icc mathach id in 4717/4828",
}
TAKES = {"factor": "if in weight", "pca": "if in weight", "alpha": "if in", "icc": "if in"}
RAW = {"rotate", "screeplot", "scree", "factormat"}
