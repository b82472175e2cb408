# Reference numbers for tests/test_xtreg*.py and tests/test_hausman*.py, computed once with
# R's plm (2.6) and nlme; the tests carry them as literals.
#
#   Rscript tests/data/xtreg_reference.R            # from the repository root
#
# Data written here (the tests read them):
#   tests/data/grunfeld_xt.csv  plm's Grunfeld (10 firms x 20 years, 1935-1954): firm year inv
#                               value capital -- the same numbers as Stata's `webuse grunfeld`
#                               (company year invest mvalue kstock).
#   tests/data/wages_xt.csv     plm's Wages (Cornwell and Rupert 1988; 595 people x 7 years),
#                               with id, t and exp2 = exp^2 added: the data of Cameron and
#                               Trivedi's mus08psidextract.dta, used for published Stata 17 output.
# The unbalanced panel is Grunfeld with firm f's years before 1934 + f dropped
# (T_i = 20, 19, ..., 11; 155 observations): subset(Grunfeld, year >= 1934 + firm).
suppressMessages({library(plm); library(nlme)})
options(digits = 15)
here <- "tests/data"

data(Grunfeld, package = "plm")
write.csv(Grunfeld, file.path(here, "grunfeld_xt.csv"), row.names = FALSE)
data(Wages, package = "plm")
W <- data.frame(id = rep(1:595, each = 7), t = rep(1:7, 595), Wages)
W$exp2 <- W$exp^2
W$bluecol <- as.integer(W$bluecol == "yes"); W$south <- as.integer(W$south == "yes")
W$smsa <- as.integer(W$smsa == "yes"); W$married <- as.integer(W$married == "yes")
W$sex <- as.integer(W$sex == "female"); W$union <- as.integer(W$union == "yes")
W$black <- as.integer(W$black == "yes")
write.csv(W, file.path(here, "wages_xt.csv"), row.names = FALSE)

show <- function(label, x) cat(label, "=", format(x, digits = 15), "\n")
se <- function(V) sqrt(diag(V))

run <- function(tag, d) {
  cat("\n=====", tag, "=====\n")
  pd <- pdata.frame(d, index = c("firm", "year"))
  fe <- plm(inv ~ value + capital, data = pd, model = "within")
  re <- plm(inv ~ value + capital, data = pd, model = "random", random.method = "swar")
  be <- plm(inv ~ value + capital, data = pd, model = "between")
  show("fe b", coef(fe)); show("fe se", se(vcov(fe)))
  # plm's within model has no intercept, so its K is the number of slopes k and "sss" scales
  # by G/(G-1)(N-1)/(N-k); Stata's xtreg, fe counts the constant of its demeaned regression,
  # G/(G-1)(N-1)/(N-k-1): Stata's SEs are sss's times sqrt((N-k)/(N-k-1)).
  show("fe sss se", se(vcovHC(fe, type = "sss", cluster = "group")))
  show("fe HC1 se", se(vcovHC(fe, type = "HC1", cluster = "group")))
  N <- nrow(d); k <- 2
  show("fe Stata cluster se", se(vcovHC(fe, type = "sss", cluster = "group")) * sqrt((N - k) / (N - k - 1)))
  show("fixef", fixef(fe))
  show("re b", coef(re)); show("re se", se(vcov(re)))
  # plm's random model has its intercept: K = k + 1 and sss is Stata's xtreg, re vce(robust)
  show("re sss se", se(vcovHC(re, type = "sss", cluster = "group")))
  show("re sigma2", unlist(ercomp(re)$sigma2)); show("re theta", ercomp(re)$theta)
  show("be b", coef(be)); show("be se", se(vcov(be)))
  ph <- phtest(fe, re)
  show("phtest chi2", ph$statistic); show("phtest df", ph$parameter); show("phtest p", ph$p.value)
  # ML random intercept (xtreg, mle) with nlme: log likelihood, fixed effects, sigmas
  ml <- lme(inv ~ value + capital, random = ~ 1 | firm, data = d, method = "ML")
  show("ml ll", logLik(ml)); show("ml b", fixef(ml))
  show("ml sigma_u", as.numeric(VarCorr(ml)[1, 2])); show("ml sigma_e", ml$sigma)
  # Stata's xtreg, mle VCE: the inverse observed information in (beta, sigma_u, sigma_e),
  # by optimHess on the closed-form random-intercept likelihood at nlme's estimates
  X <- cbind(d$value, d$capital, 1); y <- d$inv; g <- d$firm
  ll <- function(p) {
    b <- p[1:3]; su <- p[4]; s <- p[5]^2; a <- su^2; r <- y - X %*% b
    tot <- 0
    for (i in unique(g)) {
      ri <- r[g == i]; Ti <- length(ri); ci <- s + Ti * a
      tot <- tot - 0.5 * (Ti * log(2 * pi) + (Ti - 1) * log(s) + log(ci) + sum(ri^2) / s - a * sum(ri)^2 / (s * ci))
    }
    tot
  }
  p0 <- c(fixef(ml)[c(2, 3, 1)], as.numeric(VarCorr(ml)[1, 2]), ml$sigma)
  opt <- optim(p0, function(p) -ll(p), method = "BFGS", control = list(reltol = 1e-15, maxit = 1000))
  show("ml optim ll", -opt$value); show("ml optim par", opt$par)
  # numDeriv's Richardson-extrapolated Hessian (optimHess's fixed 1e-3 steps are too coarse)
  H <- numDeriv::hessian(function(p) -ll(p), opt$par)
  show("ml se (b, sigma_u, sigma_e)", sqrt(diag(solve(H))))
  show("ml V (b, sigma_u, sigma_e)", solve(H))
  # vce(robust) (vce(cluster firm)): Stata's _robust2 on the panels' score vectors, scaled by
  # G/(G-1); the scores by numDeriv::grad of each panel's contribution
  llg <- function(p, i) {
    b <- p[1:3]; su <- p[4]; s <- p[5]^2; a <- su^2; ri <- (y - X %*% b)[g == i]
    Ti <- length(ri); ci <- s + Ti * a
    -0.5 * (Ti * log(2 * pi) + (Ti - 1) * log(s) + log(ci) + sum(ri^2) / s - a * sum(ri)^2 / (s * ci))
  }
  Sg <- t(sapply(unique(g), function(i) numDeriv::grad(function(p) llg(p, i), opt$par)))
  Vi <- solve(H); G <- nrow(Sg)
  show("ml robust se", sqrt(diag(Vi %*% crossprod(Sg) %*% Vi * G / (G - 1))))
  ols <- lm(inv ~ value + capital, data = d)
  show("ols ll (ll_c)", logLik(ols))
  ml0 <- lme(inv ~ 1, random = ~ 1 | firm, data = d, method = "ML")
  show("ml constant-only ll", logLik(ml0))
}

run("Grunfeld (balanced)", Grunfeld)
U <- subset(Grunfeld, year >= 1934 + firm)
run("Grunfeld unbalanced (year >= 1934 + firm)", U)
pdU <- pdata.frame(U, index = c("firm", "year"))
# plm's "swar" on an unbalanced panel is Baltagi and Chang's estimator with the T_i-weighted
# between regression ("Between"); with random.models = c("within", "between") it uses the
# unweighted between regression as Stata's `sa` option does (its SSR*_b = sum T_i rbar_i^2 of
# the unweighted between residuals, and the same trace correction)
reU <- plm(inv ~ value + capital, data = pdU, model = "random", random.method = "swar")
show("unbalanced swar (weighted Between) sigma2", unlist(ercomp(reU)$sigma2))
saU <- plm(inv ~ value + capital, data = pdU, model = "random", random.models = c("within", "between"))
show("unbalanced Stata sa b", coef(saU)); show("unbalanced Stata sa se", se(vcov(saU)))
show("unbalanced Stata sa sigma2", unlist(ercomp(saU)$sigma2))
show("unbalanced Stata sa sss se", se(vcovHC(saU, type = "sss", cluster = "group")))
feU <- plm(inv ~ value + capital, data = pdU, model = "within")
ph <- phtest(feU, saU); show("unbalanced phtest (fe vs sa) chi2", ph$statistic); show("p", ph$p.value)

cat("\n===== Wages (Cornwell-Rupert) =====\n")
pw <- pdata.frame(W, index = c("id", "t"))
fw <- plm(lwage ~ exp + exp2 + wks + ed, data = pw, model = "within")
rw <- plm(lwage ~ exp + exp2 + wks + ed, data = pw, model = "random", random.method = "swar")
show("wages fe b", coef(fw)); show("wages fe se", se(vcov(fw)))
show("wages re b", coef(rw)); show("wages re se", se(vcov(rw)))
show("wages re sss se", se(vcovHC(rw, type = "sss", cluster = "group")))
show("wages fe sss se", se(vcovHC(fw, type = "sss", cluster = "group")))
show("wages re sigma2", unlist(ercomp(rw)$sigma2))
ph <- phtest(fw, rw); show("wages phtest chi2", ph$statistic)

# Stata's default variance components on an unbalanced panel (harmonic mean of T_i), which
# plm refuses for unbalanced panels (its dfcor must be 3 there): computed by hand from plm's
# within and between fits, then the GLS regression on the theta-transformed data with lm.
cat("\n===== unbalanced Grunfeld, Stata's default sigma_u (Tbar) =====\n")
fe <- plm(inv ~ value + capital, data = pdU, model = "within")
be <- plm(inv ~ value + capital, data = pdU, model = "between")
N <- nrow(U); n <- length(unique(U$firm)); k <- 2
s2e <- sum(resid(fe)^2) / (N - n - k)
Ti <- as.numeric(table(U$firm)); Tbar <- n / sum(1 / Ti)
s2u <- max(0, sum(resid(be)^2) / (n - k - 1) - s2e / Tbar)
th <- 1 - sqrt(s2e / (Ti * s2u + s2e))[match(U$firm, sort(unique(U$firm)))]
mn <- function(v) ave(v, U$firm)
ys <- U$inv - th * mn(U$inv)
Xs <- cbind(cons = 1 - th, value = U$value - th * mn(U$value), capital = U$capital - th * mn(U$capital))
g <- lm(ys ~ 0 + Xs)
show("default sigma2 (e, u)", c(s2e, s2u)); show("default Tbar", Tbar)
show("default re b", coef(g)); show("default re se", sqrt(diag(vcov(g))))
show("default theta by firm", unique(th))
# the theta percentiles xtreg, re, theta shows (summarize, detail: one value per panel)
show("default theta min p5 p50 p95 max", quantile(unique(th), c(0, .05, .5, .95, 1), type = 2))
