# Reference numbers for tests/test_sem.py from R's lavaan (0.6), independent of hlmshell.
# ML on the N-divisor moments with a mean structure; fixed.x = FALSE so that the likelihood is
# the joint one of all observed variables (as Stata's sem reports it); observed information
# (Hessian) for the OIM standard errors; robust: Huber-White sandwich on the observed
# information. Run from this directory: Rscript make_lavaan_reference.R
suppressMessages({library(lavaan); library(jsonlite)})
sim <- read.csv("sem_sim.csv")
hsb <- read.csv("hsbdemo_sem.csv")
fit1 <- function(model, data, se = "standard", std = FALSE) {
  f <- sem(model, data = data, meanstructure = TRUE, fixed.x = FALSE, likelihood = "normal",
           information = "observed", observed.information = "hessian", se = se)
  pe <- parameterEstimates(f)
  fm <- fitMeasures(f, c("chisq", "df", "baseline.chisq", "baseline.df", "rmsea",
                          "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "cfi", "tli",
                          "srmr_bentler_nomean"))
  out <- list(ll = as.numeric(logLik(f)), N = nobs(f),
              params = pe[, c("lhs", "op", "rhs", "est", "se")], fit = as.list(fm))
  if (std) {
    ss <- standardizedSolution(f, type = "std.all")
    out$std <- ss[, c("lhs", "op", "rhs", "est.std", "se")]
  }
  out
}
ref <- list()
ref$ucla <- fit1("Acad =~ math + science + socst
                  Acad ~ read
                  read ~ female", hsb)
ref$lgcm <- fit1("i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
                  s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4
                  t1 ~ 0*1
                  t2 ~ 0*1
                  t3 ~ 0*1
                  t4 ~ 0*1
                  i ~ 1
                  s ~ 1", sim)
ref$lgcm_eqv <- fit1("i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
                  s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4
                  t1 ~ 0*1
                  t2 ~ 0*1
                  t3 ~ 0*1
                  t4 ~ 0*1
                  t1 ~~ v*t1
                  t2 ~~ v*t2
                  t3 ~~ v*t3
                  t4 ~~ v*t4
                  i ~ 1
                  s ~ 1", sim)
ref$lgcm_cov <- fit1("i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
                  s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4
                  t1 ~ 0*1 + b*c1
                  t2 ~ 0*1 + b*c2
                  t3 ~ 0*1 + b*c3
                  t4 ~ 0*1 + b*c4
                  i ~ 1 + x1 + x2
                  s ~ 1 + x1 + x2
                  i ~~ s", sim)
ref$cfa <- fit1("F =~ y1 + y2 + y3
                 F ~ z", sim, std = TRUE)
ref$path <- fit1("y1 ~ x1 + x2
                  y2 ~ y1 + x2
                  y1 ~~ y2", transform(sim, y1 = t1, y2 = t2), std = TRUE)
ref$robust <- fit1("F =~ y1 + y2 + y3
                    F ~ z", sim, se = "robust.huber.white")
# method(mlmv): the same CFA with holes (rows 1-40 miss y2, every 7th row y3, every 11th z),
# full-information ML (missing = "ml"), saturated and baseline models fitted the same way
mis <- sim
mis$y2[1:40] <- NA
mis$y3[seq_len(nrow(mis)) %% 7 == 0] <- NA
mis$z[seq_len(nrow(mis)) %% 11 == 0] <- NA
fm <- sem("F =~ y1 + y2 + y3
           F ~ z", data = mis, meanstructure = TRUE, fixed.x = FALSE, missing = "ml",
          information = "observed", observed.information = "hessian")
ref$mlmv <- list(ll = as.numeric(logLik(fm)), N = nobs(fm),
                 params = parameterEstimates(fm)[, c("lhs", "op", "rhs", "est", "se")],
                 fit = as.list(fitMeasures(fm, c("chisq", "df", "baseline.chisq", "baseline.df"))))
# estat mindices: a one-factor model that omits the covariance of t1 and t2
fmi <- sem("F =~ y1 + y2 + y3 + t1 + t2
            F ~ z", data = sim, meanstructure = TRUE, fixed.x = FALSE,
           information = "observed", observed.information = "hessian")
ref$mindices <- modindices(fmi)[, c("lhs", "op", "rhs", "mi", "epc", "sepc.all")]
# group(x2): measurement coefficients and intercepts equal across the groups (Stata's default
# ginvariant(mcoef mcons)); groups in sorted order, as Stata takes them; lavaan then frees the
# latent mean in the second group as Stata does
fg <- sem("F =~ y1 + y2 + y3", data = sim, group = "x2", group.label = c("0", "1"), group.equal = c("loadings", "intercepts"),
          meanstructure = TRUE, information = "observed", observed.information = "hessian")
pg <- parameterEstimates(fg)
pg$level <- lavInspect(fg, "group.label")[pg$group]
ref$group <- list(ll = as.numeric(logLik(fg)), N = sum(lavInspect(fg, "nobs")),
                  params = pg[, c("lhs", "op", "rhs", "est", "se", "level")],
                  fit = as.list(fitMeasures(fg, c("chisq", "df", "baseline.chisq", "baseline.df"))))
writeLines(toJSON(ref, digits = NA, auto_unbox = TRUE, dataframe = "rows", pretty = FALSE),
           "lavaan_reference.json")
