# Reference numbers for tests/test_fresh_sample_syntax.py (run: Rscript residual_structures.R
# from this folder). The panel was drawn with set.seed(3): 40 ids x 4 occasions, a random
# intercept and heteroskedastic errors by occasion.
suppressMessages(library(nlme))
d <- read.csv("hetero_panel.csv")
# residuals(banded 0, t(t)): independent errors, one variance per occasion (varIdent)
m0 <- lme(y ~ t, random = ~1 | id, weights = varIdent(form = ~1 | factor(t)), data = d, method = "REML")
# residuals(ar 1, t(t))
m1 <- lme(y ~ t, random = ~1 | id, correlation = corAR1(form = ~t | id), data = d, method = "REML")
out <- list(banded0 = list(ll = as.numeric(logLik(m0)), b = unname(fixef(m0))),
            ar1 = list(ll = as.numeric(logLik(m1)), b = unname(fixef(m1)),
                       rho = unname(coef(m1$modelStruct$corStruct, unconstrained = FALSE))))
cat(jsonlite::toJSON(out, digits = 12, auto_unbox = TRUE))
