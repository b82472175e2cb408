# Reference numbers for tests/test_mlogit.py from R's nnet::multinom (BFGS, tight tolerance).
# Data: hsb's first 600 observations exported by hlmshell (use hsb / keep in 1/600 / export
# delimited id mathach ses female minority sector using hsb600.csv);
# grp = 1 + (mathach > 10) + (mathach > 17). Run: Rscript mlogit_reference.R hsb600.csv
library(nnet)
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
d$grp <- factor(1 + (d$mathach > 10) + (d$mathach > 17))
out <- list()
for (base in c("1", "3")) {
  d$g <- relevel(d$grp, ref = base)
  f <- multinom(g ~ ses + female, data = d, reltol = 1e-15, maxit = 2000, trace = FALSE, Hess = TRUE)
  cf <- coef(f); se <- sqrt(diag(solve(f$Hessian)))
  f0 <- multinom(g ~ 1, data = d, reltol = 1e-15, maxit = 2000, trace = FALSE)
  out[[base]] <- list(outcomes = rownames(cf), b = unname(cf), se = unname(matrix(se, nrow = nrow(cf), byrow = TRUE)),
                      ll = as.numeric(logLik(f)), ll_0 = as.numeric(logLik(f0)))
}
cat(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE))
