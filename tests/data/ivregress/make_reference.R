# Reference numbers for tests/test_ivregress.py from AER::ivreg and sandwich (independent of
# hlmshell). Run: Rscript tests/data/ivregress/make_reference.R
library(AER); library(jsonlite)
d <- read.csv("tests/data/ivregress/cigarettes.csv"); d5 <- subset(d, yr == 1995)
f <- lpackpc ~ lravgprs + lperinc | lperinc + rtaxso + rtax
m <- ivreg(f, data = d5); s <- summary(m, diagnostics = TRUE)
N <- nrow(d5); k <- 3
m1 <- ivreg(lpackpc ~ lravgprs | rtaxso, data = d5)
mc <- ivreg(f, data = d)
out <- list(
  tsls = list(b = unname(coef(m)), se_small = unname(sqrt(diag(vcov(m)))),
              se = unname(sqrt(diag(vcov(m)) * (N - k) / N)), r2 = s$r.squared,
              weak_F = s$diagnostics["Weak instruments", "statistic"],
              wu = s$diagnostics["Wu-Hausman", "statistic"],
              sargan = s$diagnostics["Sargan", "statistic"]),
  robust1 = list(b = unname(coef(m1)), se = unname(sqrt(diag(sandwich::vcovHC(m1, type = "HC0"))))),
  cluster = list(b = unname(coef(mc)),
                 se = unname(sqrt(diag(sandwich::vcovCL(mc, cluster = ~state, type = "HC0", cadjust = TRUE))))))
# weights: pop = 1 + (row number mod 5); aweights = ivreg's weights, pweights its HC0 sandwich,
# fweights the fit on the data with each row repeated pop times (Stata's N = sum of pop)
d$pop <- 1 + (seq_len(nrow(d)) %% 5)
mw <- ivreg(f, data = d, weights = pop)
dd <- d[rep(seq_len(nrow(d)), d$pop), ]; mf <- ivreg(f, data = dd); nf <- nrow(dd)
out$weights <- list(b = unname(coef(mw)), se_aw_small = unname(sqrt(diag(vcov(mw)))),
                    se_pw = unname(sqrt(diag(sandwich::vcovHC(mw, type = "HC0")))),
                    r2 = summary(mw)$r.squared,
                    se_fw = unname(sqrt(diag(vcov(mf)) * (nf - 3) / nf)), N_fw = nf)
write_json(out, "tests/data/ivregress/reference.json", digits = 12, auto_unbox = TRUE, pretty = TRUE)
