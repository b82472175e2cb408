# Reference numbers for tests/test_me_onelevel.py (run from this directory; writes
# me_onelevel_reference.json): the one-level models melogit/meprobit/mecloglog/mepoisson/
# meologit fit without a random-effects equation, by R's glm and ordinal::clm on
# ../glmm/ordinal.csv (Contraception's covariates, a simulated 3-category outcome); the
# sandwich package's HC0 and cluster (district) variances with Stata's C/(C-1) factor.
suppressMessages({library(ordinal); library(sandwich); library(jsonlite)})
d <- read.csv("../glmm/ordinal.csv")
ctl <- glm.control(epsilon = 1e-14, maxit = 100)   # converged fully (the default stops early)
g <- function(fam) {
  m <- glm(use ~ age + urban, data = d, family = fam, control = ctl)
  list(coef = unname(coef(m)), se = unname(sqrt(diag(vcov(m)))), ll = as.numeric(logLik(m)))
}
lg <- glm(use ~ age + urban, data = d, family = binomial, control = ctl)
n <- nrow(d)
rob <- sqrt(diag(vcovCL(lg, cluster = seq_len(n), type = "HC0", cadjust = TRUE)))
clu <- sqrt(diag(vcovCL(lg, cluster = ~district, type = "HC0", cadjust = TRUE)))
pm <- glm(y ~ age + urban, data = d, family = poisson, control = ctl)
om <- clm(factor(y) ~ age + urban, data = d)
out <- list(logit = g(binomial), probit = g(binomial(link = "probit")),
            cloglog = g(binomial(link = "cloglog")),
            poisson = list(coef = unname(coef(pm)), se = unname(sqrt(diag(vcov(pm)))),
                           ll = as.numeric(logLik(pm))),
            ologit = list(beta = unname(om$beta), cuts = unname(om$alpha),
                          se = unname(sqrt(diag(vcov(om)))), ll = as.numeric(logLik(om))),
            logit_robust_se = unname(rob), logit_cluster_se = unname(clu))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "me_onelevel_reference.json")
