# Reference numbers for tests/test_newey.py: Newey-West (Bartlett, no prewhitening, N/(N-k))
# standard errors from sandwich::NeweyWest for single series, and a plain within-panel loop
# for panel data. Run: Rscript newey_ref.R  (writes newey_ref.json)
suppressMessages({library(sandwich); library(jsonlite)})
g <- read.csv("../grunfeld.csv")
g <- g[order(g$firm, g$year), ]
nw <- function(fit, lag) NeweyWest(fit, lag = lag, prewhite = FALSE, adjust = TRUE)
wald <- function(fit, V) {
  b <- coef(fit); k <- names(b) != "(Intercept)"
  as.numeric(t(b[k]) %*% solve(V[k, k, drop = FALSE]) %*% b[k]) / sum(k)
}
out <- list()
f1 <- g[g$firm == 1, ]
m <- lm(inv ~ value + capital, data = f1); V <- nw(m, 3)
out$series_lag3 <- list(b = unname(coef(m)), se = unname(sqrt(diag(V))), F = wald(m, V), N = nobs(m))
m <- lm(inv ~ value + capital, data = f1); V <- nw(m, 0)
out$series_lag0 <- list(b = unname(coef(m)), se = unname(sqrt(diag(V))), F = wald(m, V))
m <- lm(inv ~ 0 + value + capital, data = f1); V <- nw(m, 2)
out$series_nocons <- list(b = unname(coef(m)), se = unname(sqrt(diag(V))), F = wald(m, V))
# aweights scaled to mean 1 (capital as the weight)
w <- f1$capital / mean(f1$capital)
m <- lm(inv ~ value, data = f1, weights = w); V <- nw(m, 2)
out$series_aweight <- list(b = unname(coef(m)), se = unname(sqrt(diag(V))), F = wald(m, V))
# a gap (1940 dropped): force takes neighbouring rows as one lag apart
f2 <- f1[f1$year != 1940, ]
m <- lm(inv ~ value + capital, data = f2); V <- nw(m, 2)
out$gap_force <- list(b = unname(coef(m)), se = unname(sqrt(diag(V))), N = nobs(m))
# panel: lags within firm only
m <- lm(inv ~ value + capital, data = g)
X <- model.matrix(m); e <- resid(m); n <- nrow(X); k <- ncol(X); L <- 3
S <- X * e
Om <- crossprod(S)
for (l in 1:L) {
  for (t in (l + 1):n) {
    if (g$firm[t] == g$firm[t - l]) {
      G <- S[t, ] %o% S[t - l, ]
      Om <- Om + (1 - l / (L + 1)) * (G + t(G))
    }
  }
}
B <- solve(crossprod(X))
V <- B %*% Om %*% B * n / (n - k)
out$panel_lag3 <- list(b = unname(coef(m)), se = unname(sqrt(diag(V))), F = wald(m, V), N = n)
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "newey_ref.json")
