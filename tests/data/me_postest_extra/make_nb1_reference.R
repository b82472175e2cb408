# NB1 (constant dispersion) references for tests/test_me_postest_extra.py: glmmTMB's nbinom1
# (var = mu(1 + phi), phi = Stata's delta) on mlmRev's Mmmec (the shipped melanoma data), one
# level and with a random intercept per region (glmmTMB integrates by Laplace).
suppressMessages({library(glmmTMB); library(jsonlite)})
mel <- read.csv("/tmp/melanoma.csv")
f1 <- glmmTMB(deaths ~ uvb + offset(log(expected)), family = nbinom1, data = mel)
f2 <- glmmTMB(deaths ~ uvb + offset(log(expected)) + (1 | region), family = nbinom1, data = mel)
pick <- function(f) {
  list(b = unname(fixef(f)$cond), se = unname(sqrt(diag(vcov(f)$cond))),
       lndelta = log(sigma(f)), ll = as.numeric(logLik(f)),
       var = if (length(VarCorr(f)$cond)) unname(VarCorr(f)$cond$region[1, 1]) else NULL)
}
writeLines(toJSON(list(one_level = pick(f1), region = pick(f2)), digits = NA, auto_unbox = TRUE,
                  pretty = TRUE), "nb1_reference.json")
