# Reference numbers for tests/test_tobit.py: AER's tobit (survival::survreg, Gaussian) on
# AER's Affairs data (tests/data/censored/affairs.csv), left-censored at 0 and at 0 and 4,
# with the sandwich VCE (HC0 times n/(n-1), Stata's small-sample factor).
# Run: Rscript tests/data/censored/make_tobit_reference.R > tests/data/censored/tobit_reference.json
suppressMessages({library(AER); library(sandwich)})
d <- read.csv("tests/data/censored/affairs.csv")
f <- affairs ~ age + yearsmarried + religiousness + occupation + rating
out <- list()
for (case in list(list(name = "ll0", right = Inf), list(name = "ll0_ul4", right = 4))) {
  m <- tobit(f, left = 0, right = case$right, data = d)
  V <- vcov(m)
  k <- length(coef(m))
  n <- nrow(d)
  Vr <- sandwich(m) * n / (n - 1)
  out[[case$name]] <- list(coef = unname(coef(m)), se = unname(sqrt(diag(V))[1:k]),
                           robust_se = unname(sqrt(diag(Vr))[1:k]),
                           sigma = m$scale, ll = as.numeric(logLik(m)),
                           names = names(coef(m)))
}
cat(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE))
