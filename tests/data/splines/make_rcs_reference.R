# Restricted cubic spline reference for tests/test_splines.py: Hmisc::rcspline.eval with
# norm = 2 (terms divided by (t_k - t_1)^2, as Stata's mkspline, cubic) on hsb's ses at the knots
# -1.318 -0.478 0.002 0.532 1.212 (Harrell's 5-knot percentiles of ses), first 50 observations.
#   Rscript tests/data/splines/make_rcs_reference.R
library(haven)
d <- read_dta("hlmshell/sample_data/hsb.dta")
x <- as.numeric(d$ses)[1:50]
k <- c(-1.318, -0.478, 0.002, 0.532, 1.212)
b <- Hmisc::rcspline.eval(x, knots = k, inclx = TRUE, norm = 2)
writeLines(jsonlite::toJSON(list(knots = k, x = x, basis = unname(b)), digits = 15),
           "tests/data/splines/rcs_reference.json")
