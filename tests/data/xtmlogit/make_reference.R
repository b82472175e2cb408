# J = 2 checks of xtmlogit (tests/test_xtmlogit.py): outcome 2 against outcome 1 in panel3.csv
# (outcome 3 dropped). RE: a random-intercept logit, lme4::glmer with nAGQ = 25 (adaptive
# Gauss-Hermite); FE: the conditional logit, survival::clogit. Writes reference_r.json.
suppressMessages({library(lme4); library(survival); library(jsonlite)})
d <- read.csv("panel3.csv"); d <- d[d$y != 3, ]; d$yb <- as.integer(d$y == 2)
m <- glmer(yb ~ x + z + (1 | id), data = d, family = binomial, nAGQ = 25,
           control = glmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
re <- list(ll = as.numeric(logLik(m)), b = unname(fixef(m)),
           se = unname(sqrt(diag(as.matrix(vcov(m))))), var = VarCorr(m)$id[1])
cl <- clogit(yb ~ x + z + strata(id), data = d, method = "exact")
fe <- list(ll = as.numeric(cl$loglik[2]), b = unname(coef(cl)), se = unname(sqrt(diag(vcov(cl)))))
write_json(list(re = re, fe = fe), "reference_r.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
