# Reference fits for tests/test_glmm_multilevel.py: lme4::glmer (Laplace, nAGQ = 1) of nested
# and crossed GLMMs, with a tight PIRLS tolerance. Writes guimmun.csv (mlmRev's guImmun:
# 2,159 children in 1,595 mothers in 161 communities), verbagg.csv (lme4's VerbAgg, items
# crossed with subjects) and multilevel_reference.json.
# Run from this directory: Rscript make_multilevel_reference.R
suppressMessages({library(lme4); library(mlmRev); library(jsonlite)})
ctrl <- glmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5), tolPwrss = 1e-13)
g <- guImmun
yn <- function(f) as.integer(f == "Y")
gi <- data.frame(immun = yn(g$immun), kid2p = yn(g$kid2p), mom25p = yn(g$mom25p),
                 order23 = as.integer(g$ord == "23"), order46 = as.integer(g$ord == "46"),
                 order7p = as.integer(g$ord == "7p"), indNoSpa = as.integer(g$ethn == "N"),
                 indSpa = as.integer(g$ethn == "S"), momEdPri = as.integer(g$momEd == "P"),
                 momEdSec = as.integer(g$momEd == "S"), husEdPri = as.integer(g$husEd == "P"),
                 husEdSec = as.integer(g$husEd == "S"), husEdDK = as.integer(g$husEd == "U"),
                 momWork = yn(g$momWork), rural = yn(g$rural), pcInd81 = g$pcInd81,
                 mom = as.integer(as.character(g$mom)), cluster = as.integer(as.character(g$comm)))
write.csv(gi, "guimmun.csv", row.names = FALSE)
v <- VerbAgg
va <- data.frame(r2 = as.integer(v$r2 == "Y"), anger = v$Anger, male = as.integer(v$Gender == "M"),
                 do = as.integer(v$mode == "do"), other = as.integer(v$situ == "other"),
                 id = as.integer(v$id), item = as.integer(v$item))
write.csv(va, "verbagg.csv", row.names = FALSE)
rec <- function(m) {
  vc <- as.data.frame(VarCorr(m))
  list(logLik = as.numeric(logLik(m)), fixef = unname(fixef(m)), names = names(fixef(m)),
       vcov_names = paste(vc$grp, vc$var1, vc$var2), variances = vc$vcov,
       se = unname(sqrt(diag(as.matrix(vcov(m))))))
}
out <- list()
out$gu_nested_laplace <- rec(glmer(immun ~ kid2p + mom25p + rural + pcInd81 + (1 | cluster/mom),
                                   data = gi, family = binomial, control = ctrl))
out$gu_full_laplace <- rec(glmer(immun ~ kid2p + mom25p + order23 + order46 + order7p + indNoSpa +
                                 indSpa + momEdPri + momEdSec + husEdPri + husEdSec + husEdDK +
                                 momWork + rural + pcInd81 + (1 | cluster/mom),
                                 data = gi, family = binomial, control = ctrl))
out$gu_slope_laplace <- rec(glmer(immun ~ kid2p + rural + (1 + kid2p | cluster) + (1 | cluster:mom),
                                  data = gi, family = binomial, control = ctrl))
out$verbagg_crossed_laplace <- rec(glmer(r2 ~ anger + male + do + other + (1 | id) + (1 | item),
                                         data = va, family = binomial, control = ctrl))
out$gu_poisson_laplace <- rec(glmer(immun ~ kid2p + rural + (1 | cluster/mom),
                                    data = gi, family = poisson, control = ctrl))
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "multilevel_reference.json")
