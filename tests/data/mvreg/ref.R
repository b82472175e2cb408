# R reference for tests/test_mvreg.py: lm(cbind(mathach, ses, size) ~ minority + female + sector)
# on hsb (exported from hlmshell's shipped hsb.dta as hsb_mv.csv): coefficients, the
# cross-equation covariance vcov(mlm) and each equation's R-squared and F.
library(jsonlite)
d <- read.csv("hsb_mv.csv")
f <- lm(cbind(mathach, ses, size) ~ minority + female + sector, data = d)
s <- summary(f)
E <- resid(f)
C <- cor(E)
cat(toJSON(list(coef = unname(as.vector(coef(f))), V = unname(vcov(f)),
  r2 = unname(sapply(s, function(x) x$r.squared)),
  F = unname(sapply(s, function(x) x$fstatistic[1])),
  bp = nrow(d) * sum(C[upper.tri(C)]^2)), digits = 15))
