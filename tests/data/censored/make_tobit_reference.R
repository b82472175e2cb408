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
# weights: iweights are survreg's case weights; frequency weights with vce(robust) equal the
# expanded data's sandwich with N/(N-1), N = sum of the weights
n <- nrow(d)
d$fw <- 1 + (1:n %% 3)
d$iw <- 0.5 + (1:n %% 7) / 3
fw3 <- affairs ~ age + yearsmarried + rating
m <- tobit(fw3, left = 0, weights = iw, data = d)
out$iweight <- list(coef = unname(coef(m)), se = unname(sqrt(diag(vcov(m)))[1:4]),
                    ll = as.numeric(logLik(m)))
N <- sum(d$fw)
m <- tobit(fw3, left = 0, data = d[rep(1:n, d$fw), ], robust = TRUE)
out$fweight_robust <- list(se = unname(sqrt(diag(vcov(m)))[1:4] * sqrt(N / (N - 1))))
cat(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE))
