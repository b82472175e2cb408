# Reference numbers for tests/test_glm_family_cmd.py: R's glm (EIM standard errors, deviance,
# Pearson X2, log likelihood), MASS's negative.binomial family, sandwich's HC0 / cluster
# sandwiches, and numerical observed information (optimHess) for the non-canonical links.
# Run: Rscript make_reference.R  (writes reference.json)
suppressMessages({library(MASS); library(sandwich); library(jsonlite)})
mel <- read.csv("/tmp/melanoma.csv"); con <- read.csv("/tmp/contraception.csv")
syn <- read.csv("synth.csv")
out <- list()
ctl <- glm.control(epsilon = 1e-13, maxit = 100)
summ <- function(f, disp = NULL) {
  s <- summary(f, dispersion = disp)
  list(b = unname(coef(f)), se = unname(s$coefficients[, 2]), deviance = deviance(f),
       pearson = sum(residuals(f, type = "pearson")^2), n = nobs(f))
}
oim_se <- function(f, ll, phi = 1) {
  H <- optimHess(coef(f), ll, control = list(ndeps = rep(1e-5, length(coef(f)))))
  sqrt(diag(solve(-H)) * phi)
}
# A. Poisson with exposure (melanoma)
f <- glm(deaths ~ uvb + offset(log(expected)), family = poisson, data = mel, control = ctl)
r <- summ(f); r$ll <- as.numeric(logLik(f))
n <- nrow(mel)
r$se_robust <- unname(sqrt(diag(vcovHC(f, type = "HC0")) * n / (n - 1)))
r$se_cluster <- unname(sqrt(diag(vcovCL(f, cluster = ~region, type = "HC0", cadjust = TRUE))))
r$n_clust <- length(unique(mel$region))
out$poisson <- r
# B. Bernoulli with the cloglog link (contraception): OIM by numerical Hessian
f <- glm(use ~ age + urban, family = binomial(link = "cloglog"), data = con, control = ctl)
X <- model.matrix(f); y <- con$use
ll <- function(b) { p <- 1 - exp(-exp(drop(X %*% b))); sum(y * log(p) + (1 - y) * log(1 - p)) }
r <- summ(f); r$ll <- as.numeric(logLik(f)); r$se_oim <- unname(oim_se(f, ll))
r$ll0 <- as.numeric(logLik(glm(use ~ 1, family = binomial(link = "cloglog"), data = con, control = ctl)))
out$cloglog <- r
# C. Gaussian identity = lm
f <- glm(ynorm ~ x1 + x2, family = gaussian, data = syn, control = ctl)
r <- summ(f); r$ll <- as.numeric(logLik(f)); out$gaussian <- r
# D. Gamma with the log link: EIM (irls) and OIM (ml) standard errors, scale = Pearson/df
f <- glm(ygam ~ x1 + x2, family = Gamma(link = "log"), data = syn, control = ctl)
phi <- sum(residuals(f, type = "pearson")^2) / df.residual(f)
X <- model.matrix(f); y <- syn$ygam
qll <- function(b) { mu <- exp(drop(X %*% b)); sum(-y / mu - log(mu)) }
r <- summ(f, phi); r$phi <- phi; r$se_oim <- unname(oim_se(f, qll, phi))
r$res_pearson <- unname(residuals(f, type = "pearson")); r$res_deviance <- unname(residuals(f, type = "deviance"))
r$res_response <- unname(residuals(f, type = "response")); r$mu <- unname(fitted(f)); out$gamma_log <- r
# E. inverse Gaussian with the log link (EIM: irls)
f <- glm(yig ~ x1 + x2, family = inverse.gaussian(link = "log"), data = syn, control = ctl)
phi <- sum(residuals(f, type = "pearson")^2) / df.residual(f)
r <- summ(f, phi); r$phi <- phi; out$igaussian <- r
# F. binomial with m trials, logit
f <- glm(cbind(yb, m - yb) ~ x1 + x2, family = binomial, data = syn, control = ctl)
r <- summ(f); r$ll <- as.numeric(logLik(f)); r$mu <- unname(fitted(f)) * syn$m
r$res_pearson <- unname(residuals(f, type = "pearson")); r$res_deviance <- unname(residuals(f, type = "deviance")); out$binomial_m <- r
# G. negative binomial with alpha = 0.5 (theta = 2), log link
f <- glm(ycount ~ x1 + x2, family = negative.binomial(theta = 2), data = syn, control = ctl)
r <- summ(f, 1)
mu <- fitted(f); r$ll <- sum(dnbinom(syn$ycount, size = 2, mu = mu, log = TRUE)); out$nbinomial <- r
# H. probit on contraception, EIM = R's
f <- glm(use ~ age + urban, family = binomial(link = "probit"), data = con, control = ctl)
r <- summ(f); r$ll <- as.numeric(logLik(f)); out$probit <- r
# I. gamma with its canonical link (Stata's default power -1), Poisson with the square-root link
f <- glm(ygam ~ x1 + x2, family = Gamma(), data = syn, control = ctl)
phi <- sum(residuals(f, type = "pearson")^2) / df.residual(f)
r <- summ(f, phi); r$phi <- phi; out$gamma_inverse <- r
f <- glm(ycount ~ x1 + x2, family = poisson(link = "sqrt"), data = syn, control = ctl)
r <- summ(f); r$ll <- as.numeric(logLik(f)); out$poisson_sqrt <- r
# J. negative binomial with alpha by ML (glm.nb), melanoma with exposure
f <- glm.nb(deaths ~ uvb + offset(log(expected)), data = mel, control = glm.control(epsilon = 1e-13, maxit = 100))
r <- summ(f, 1); r$ll <- as.numeric(logLik(f)); r$alpha <- 1 / f$theta; out$nb_ml <- r
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "reference.json")
