# Reference numbers for tests/test_gsem.py (run from this folder: Rscript make_reference.R).
# hsbdemo (UCLA's teaching data, 200 students in 20 classrooms, cid) is written out as CSV;
# the references are independent fits of the models gsem fits:
#  - two gaussian equations with correlated class intercepts and a path write -> science:
#    nlme::lme on the stacked data (response indicators, pdSymm random effects, varIdent
#    residual variances), ML;
#  - one gaussian equation with a random slope (hsb: lme4::lmer, ML);
#  - a logit random intercept by Laplace (glmer nAGQ = 1) and by 25-point quadrature;
#  - clustered standard errors of the equations without latent variables (sandwich::vcovCL).
library(haven); library(nlme); library(lme4); library(sandwich); library(jsonlite)
d <- as.data.frame(read_dta("/tmp/dofile_corpus/data/hsbdemo.dta"))
d <- d[, c("id", "female", "ses", "schtyp", "write", "math", "science", "honors", "awards", "cid")]
for (v in names(d)) d[[v]] <- as.numeric(d[[v]])
write.csv(d, "hsbdemo.csv", row.names = FALSE)
out <- list()

L <- rbind(data.frame(cid = d$cid, resp = "write", y = d$write, w_math = d$math, w_cons = 1,
                      s_write = 0, s_math = 0, s_cons = 0),
           data.frame(cid = d$cid, resp = "science", y = d$science, w_math = 0, w_cons = 0,
                      s_write = d$write, s_math = d$math, s_cons = 1))
L$resp <- factor(L$resp, levels = c("write", "science"))
L$iw <- as.numeric(L$resp == "write"); L$is <- as.numeric(L$resp == "science")
ctl <- lmeControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10, msTol = 1e-12)
m <- lme(y ~ 0 + w_math + w_cons + s_write + s_math + s_cons,
         random = list(cid = pdSymm(~ 0 + iw + is)), weights = varIdent(form = ~ 1 | resp),
         data = L, method = "ML", control = ctl)
vc <- getVarCov(m)
r <- coef(m$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
out$two_gaussian <- list(ll = as.numeric(logLik(m)), beta = unname(fixef(m)),
                         var1 = vc[1, 1], var2 = vc[2, 2], cov12 = vc[1, 2],
                         s2 = unname(m$sigma^2 * r^2), se_beta_gls = unname(sqrt(diag(vcov(m)))))
m0 <- lme(y ~ 0 + w_math + w_cons + s_write + s_math + s_cons,
          random = list(cid = pdDiag(~ 0 + iw + is)), weights = varIdent(form = ~ 1 | resp),
          data = L, method = "ML", control = ctl)
out$two_gaussian_nocov <- list(ll = as.numeric(logLik(m0)), beta = unname(fixef(m0)))

h <- as.data.frame(read_dta("../../../hlmshell/sample_data/hsb.dta"))
ms <- lmer(mathach ~ ses + (1 + ses | id), data = h, REML = FALSE,
           control = lmerControl(optimizer = "bobyqa"))
vs <- as.data.frame(VarCorr(ms))
out$slope <- list(ll = as.numeric(logLik(ms)), beta = unname(fixef(ms)),
                  var_cons = vs$vcov[1], var_ses = vs$vcov[2], cov = vs$vcov[3],
                  var_e = vs$vcov[4])

for (a in c(1, 25)) {
  g <- glmer(honors ~ math + (1 | cid), data = d, family = binomial, nAGQ = a,
             control = glmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
  out[[paste0("logit_agq", a)]] <- list(ll = as.numeric(logLik(g)), beta = unname(fixef(g)),
                                         var = unname(getME(g, "theta")^2))
}

f1 <- lm(write ~ math, data = d); f2 <- lm(science ~ write + math, data = d)
out$cluster <- list(b_write = unname(coef(f1)), b_science = unname(coef(f2)),
  se_write = unname(sqrt(diag(vcovCL(f1, cluster = ~cid, type = "HC0", cadjust = TRUE)))),
  se_science = unname(sqrt(diag(vcovCL(f2, cluster = ~cid, type = "HC0", cadjust = TRUE)))))
write_json(out, "reference.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
