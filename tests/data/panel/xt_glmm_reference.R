# Reference numbers for tests/test_xt_glmm.py (run once from this directory; writes
# xt_glmm_reference.json): lme4's glmer with nAGQ = 12 (the normal random intercept of
# xtlogit/xtprobit/xtpoisson, re; glmer's nAGQ is mode-curvature adaptive, Stata's default
# mean-variance adaptive: the two rules agree as the points grow, so the binary models are
# compared at 25 points; glmer's Poisson log likelihood with nAGQ > 1 leaves out the
# constants, so only its estimates are used there), survival's clogit (exact conditional likelihood; xtlogit, fe)
# and the Poisson GLM with panel dummies (its slopes and their SEs are those of the
# conditional Poisson; xtpoisson, fe). Data: geepack's ohio and seizure (../gee/).
library(lme4); library(survival); library(sandwich); library(jsonlite)
o <- read.csv("../gee/ohio.csv"); s <- read.csv("../gee/seizure.csv")
s$v4 <- as.numeric(s$t == 4)
ctl <- glmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5))
re <- function(f, data, fam, q = 12) {
  m <- glmer(f, data = data, family = fam, nAGQ = q, control = ctl)
  list(coef = unname(fixef(m)), se = unname(sqrt(diag(vcov(m)))),
       sigma_u = unname(attr(VarCorr(m)[[1]], "stddev")), ll = as.numeric(logLik(m)))
}
cl <- clogit(resp ~ age + strata(id), data = o, method = "exact")
o$off <- o$age / 3
clo <- clogit(resp ~ age + offset(off) + strata(id), data = o, method = "exact")
pf <- glm(y ~ v4 + factor(id), family = poisson, data = s)
# the cluster-robust SE of the dummy-variable Poisson (panels with counts; x G/(G-1) as Stata)
s1 <- s[ave(s$y, s$id, FUN = sum) > 0, ]
pf1 <- glm(y ~ v4 + factor(id), family = poisson, data = s1)
G1 <- length(unique(s1$id))
se_cl <- sqrt(vcovCL(pf1, cluster = ~id, type = "HC0", cadjust = FALSE)[2, 2] * G1 / (G1 - 1))
out <- list(
  xtlogit_re = re(resp ~ age + smoke + (1 | id), o, binomial),
  xtprobit_re = re(resp ~ age + smoke + (1 | id), o, binomial(link = "probit")),
  xtlogit_re25 = re(resp ~ age + smoke + (1 | id), o, binomial, 25),
  xtprobit_re25 = re(resp ~ age + smoke + (1 | id), o, binomial(link = "probit"), 25),
  xtpoisson_normal = re(y ~ trt + lbase + v4 + (1 | id), s, poisson),
  pooled_logit_ll = as.numeric(logLik(glm(resp ~ age + smoke, family = binomial, data = o))),
  xtlogit_fe = list(coef = unname(coef(cl)), se = unname(sqrt(diag(vcov(cl)))),
                    ll = cl$loglik[2], ll0 = cl$loglik[1]),
  xtlogit_fe_offset = list(coef = unname(coef(clo)), ll = clo$loglik[2], ll0 = clo$loglik[1]),
  xtpoisson_fe = list(coef = unname(coef(pf)[2]), se = unname(sqrt(diag(vcov(pf)))[2]),
                      se_cluster = se_cl))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "xt_glmm_reference.json")
