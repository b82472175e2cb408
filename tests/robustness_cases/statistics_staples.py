"""Everyday statistics and data-management staples of course do-files (issue 13): one-way and
factorial ANOVA, means and proportions, normality and rank tests, splines and reshaping helpers.
Each command appears with a valid line on the sweep's hsb session and the qualifiers it takes."""
BASE = {
    "loneway": "loneway mathach id",
    "oneway": "oneway mathach sector, tabulate",
    "anova": "anova mathach sector##minority",
}
TAKES = {"loneway": "if in", "oneway": "if in", "anova": "if in"}
RAW: set = set()
BASE.update({"mean": "mean mathach ses, over(sector)", "proportion": "proportion minority"})
TAKES.update({"mean": "if in", "proportion": "if in"})
