# menbreg ..., dispersion(constant) with two nested levels against glmmTMB's nbinom1 (Laplace):
# Var = mu (1 + delta); glmmTMB's sigma is delta.
library(glmmTMB); library(jsonlite)
d <- read.csv("tests/data/glmm/mmmec.csv")
m <- glmmTMB(deaths ~ uvb + (1 | nation/region) + offset(log(expected)), family = nbinom1,
             data = d)
vc <- VarCorr(m)$cond
out <- list(logLik = as.numeric(logLik(m)), fixef = unname(fixef(m)$cond),
            var_nation = unname(vc$nation[1, 1]), var_region = unname(vc$`region:nation`[1, 1]),
            lndelta = log(sigma(m)))
write_json(out, "tests/data/glmm/nb1_multilevel_reference.json", digits = 15, auto_unbox = TRUE,
           pretty = TRUE)
