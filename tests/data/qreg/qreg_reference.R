# Reference numbers for tests/test_qreg.py from R's quantreg (Barrodale-Roberts simplex fits).
# Data: hsb's first 600 observations (hlmshell: use hsb / keep in 1/600 / export delimited
# id mathach ses female minority sector using hsb600.csv). Run: Rscript qreg_reference.R hsb600.csv
# Sparsity as Stata's default vce(iid, fitted hsheather): xbar'(b(tau+h) - b(tau-h)) / 2h;
# vce(robust, fitted hsheather) is quantreg's se = "nid" (Hendricks-Koenker).
library(quantreg)
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
out <- list()
for (tau in c(0.5, 0.25, 0.8)) {
  f <- rq(mathach ~ ses + female, tau = tau, data = d, method = "br")
  X <- model.matrix(~ ses + female, d); y <- d$mathach; n <- nrow(X)
  h <- bandwidth.rq(tau, n, hs = TRUE)
  bhi <- coef(rq.fit(X, y, tau = tau + h, method = "br"))
  blo <- coef(rq.fit(X, y, tau = tau - h, method = "br"))
  s <- sum(colMeans(X) * (bhi - blo)) / (2 * h)
  V <- tau * (1 - tau) * s^2 * solve(crossprod(X))
  rho <- function(r) sum(r * (tau - (r < 0)))
  nid <- summary(f, se = "nid", hs = TRUE)$coefficients[, 2]
  out[[as.character(tau)]] <- list(b = unname(coef(f)), se_iid = unname(sqrt(diag(V))),
      se_robust = unname(nid), sparsity = s, bwidth = h, sum_adev = rho(resid(f)),
      q_v = unname(sort(y)[ceiling(n * tau)]))
}
cat(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE))
