# Reference numbers for tests/test_gllamm.py: High School and Beyond (mlmRev's Hsb82, the
# same 7,185 students in 160 schools as hlmshell's hsb), fitted by lme4.
#   Rscript gllamm_ref.R > gllamm_ref.json
suppressMessages({library(lme4); library(mlmRev); library(jsonlite)})
d <- Hsb82
d$hi <- as.numeric(d$mAch > 13)
d$cons <- 1
# logit random intercept, adaptive quadrature with 8 points (gllamm ..., adapt nip(8))
m1 <- glmer(hi ~ ses + (1 | school), data = d, family = binomial, nAGQ = 8,
            control = glmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
# Gaussian random intercept and slope, ML (gllamm ..., nrf(2) eqs(int slope) adapt)
m2 <- lmer(mAch ~ ses + (1 + ses | school), data = d, REML = FALSE,
           control = lmerControl(optimizer = "bobyqa"))
# Poisson and ordinal logit random intercepts, adaptive quadrature with 8 points
d$cnt <- pmax(floor(d$mAch / 4), 0)
m3 <- glmer(cnt ~ ses + (1 | school), data = d, family = poisson, nAGQ = 8,
            control = glmerControl(optimizer = "bobyqa"))
suppressMessages(library(ordinal))
d$ord <- factor(1 + (d$mAch > 8) + (d$mAch > 16))
d4 <- subset(d, as.numeric(as.character(school)) < 3000)   # 39 schools: a quick test
m4 <- clmm(ord ~ ses + (1 | school), data = d4, nAGQ = 8)
vc <- as.data.frame(VarCorr(m2))
re <- ranef(m2, condVar = TRUE)
pv <- attr(re$school, "postVar")
ids <- as.character(rownames(re$school))
out <- list(
  logit = list(b = unname(fixef(m1)), var = unname(VarCorr(m1)$school[1, 1]),
               ll = as.numeric(logLik(m1))),
  poisson = list(b = unname(fixef(m3)), var = unname(VarCorr(m3)$school[1, 1]),
                 ll = as.numeric(logLik(m3))),
  ologit = list(b = unname(coef(m4)["ses"]), cut = unname(m4$alpha),
                var = unname(VarCorr(m4)$school[1, 1]), ll = as.numeric(logLik(m4)),
                n = nrow(d4)),
  gauss = list(b = unname(fixef(m2)), var1 = vc$vcov[1], var2 = vc$vcov[2], cov = vc$vcov[3],
               resid = vc$vcov[4], ll = as.numeric(logLik(m2)),
               school = ids, eb1 = unname(re$school[, 1]), eb2 = unname(re$school[, 2]),
               sd1 = sqrt(pv[1, 1, ]), sd2 = sqrt(pv[2, 2, ])))
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
