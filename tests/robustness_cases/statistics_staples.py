"""Everyday statistics and data-management staples of course do-files (issue 13): one-way and
factorial ANOVA, means and proportions, normality and rank tests, splines and reshaping helpers.
Each command appears with a valid line on the sweep's hsb session and the qualifiers it takes."""
BASE = {
    "loneway": "loneway mathach id",
    "oneway": "oneway mathach sector, tabulate",
    "anova": "anova mathach sector##minority",
}
TAKES = {"loneway": "if in", "oneway": "if in", "anova": "if in weight"}
RAW: set = set()
BASE.update({"mean": "mean mathach ses, over(sector)", "proportion": "proportion minority"})
TAKES.update({"mean": "if in", "proportion": "if in"})
BASE.update({
    "swilk": "swilk mathach ses", "sfrancia": "sfrancia ses", "sktest": "sktest mathach",
    "ranksum": "ranksum mathach, by(sector)", "signrank": "signrank mathach = 12",
    "kwallis": "kwallis mathach, by(sector)", "spearman": "spearman mathach ses",
    "ktau": "ktau mathach ses", "sdtest": "sdtest mathach, by(sector)",
    "prtest": "prtest minority, by(sector)",
})
TAKES.update({k: "if in" for k in ("swilk", "sfrancia", "sktest", "ranksum", "signrank", "kwallis",
                                   "spearman", "ktau", "sdtest", "prtest")})
BASE.update({
    "mkspline": "mkspline sp1 0 sp2 = ses", "contract": "contract sector minority",
    "sample": "sample 50", "joinby": "joinby id using schools", "split": "split name",
    "separate": "separate mathach, by(sector)", "outsheet": "outsheet id ses using out.tsv, replace",
})
TAKES.update({"mkspline": "if in", "contract": "if in weight", "sample": "if in", "split": "if in",
              "separate": "if in", "outsheet": "if in"})
# cross needs a using file with no variable in common with hsb, and xpose turns hsb's 7,185
# observations into as many variables: tests/test_splines_datamgmt.py covers both
RAW |= {"cross", "xpose"}
BASE.update({"tabi": r"tabi 30 18 \ 13 7, chi2", "cii": "cii means 166 19509 4379"})
BASE["centile"] = "centile mathach ses, centile(25 50 75)"
TAKES["centile"] = "if in"
