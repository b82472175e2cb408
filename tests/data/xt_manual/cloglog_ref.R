# Reference for tests/test_xt_manual_postest.py: the random-intercept complementary log-log
# model of union_like.csv by lme4::glmer with 12-point adaptive Gauss-Hermite quadrature.
suppressMessages(library(lme4))
d <- read.csv("union_like.csv")
m <- glmer(union ~ age + grade + south + (1 | idcode), data = d,
           family = binomial(link = "cloglog"), nAGQ = 12,
           control = glmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
v <- as.data.frame(VarCorr(m))$vcov[1]
cat(sprintf('{"b": [%s], "se": [%s], "ll": %.10f, "sigma2_u": %.10f}\n',
            paste(sprintf("%.10f", fixef(m)), collapse = ", "),
            paste(sprintf("%.10f", sqrt(diag(vcov(m)))), collapse = ", "), logLik(m), v))
