# Reference for tests/test_mi_reference.py: Rubin's rules on five fixed imputations of y
# (columns y1..y5 of mi_fixed.csv), combined here from R's own fits -- lm() for regress
# (Barnard-Rubin df with the complete-data df n - 3, as mice::barnard.rubin) and lme4::lmer
# (ML) for mixed (Rubin's large-sample df). Run: Rscript mi_fixed.R > mi_fixed_expected.json
suppressMessages(library(lme4))
d <- read.csv("mi_fixed.csv")
M <- 5
pool <- function(est, vars, dfcom = NULL) {
  qbar <- colMeans(est); w <- colMeans(vars)
  b <- apply(est, 2, var); t <- w + (1 + 1/M) * b
  r <- (1 + 1/M) * b / w
  df <- (M - 1) * (1 + 1/r)^2
  if (!is.null(dfcom)) {
    g <- (1 + 1/M) * b / t
    obs <- (dfcom + 1) / (dfcom + 3) * dfcom * (1 - g)
    df <- 1 / (1/df + 1/obs)
  }
  fmi <- (r + 2/(df + 3)) / (r + 1)
  list(b = unname(qbar), se = unname(sqrt(t)), df = unname(df), rvi = unname(r), fmi = unname(fmi))
}
est <- NULL; vars <- NULL; estm <- NULL; varsm <- NULL
for (m in 1:M) {
  d$yy <- d[[paste0("y", m)]]
  f <- lm(yy ~ x + z, data = d)
  est <- rbind(est, coef(f)[c("x", "z", "(Intercept)")])
  vars <- rbind(vars, diag(vcov(f))[c("x", "z", "(Intercept)")])
  g <- lmer(yy ~ x + z + (1 | school), data = d, REML = FALSE)
  estm <- rbind(estm, fixef(g)[c("x", "z", "(Intercept)")])
  varsm <- rbind(varsm, diag(as.matrix(vcov(g)))[c("x", "z", "(Intercept)")])
}
reg <- pool(est, vars, dfcom = nrow(d) - 3)
mix <- pool(estm, varsm)
fmt <- function(v) paste0("[", paste(sprintf("%.15g", v), collapse = ", "), "]")
cat("{\n")
cat('  "regress": {"b": ', fmt(reg$b), ', "se": ', fmt(reg$se), ', "df": ', fmt(reg$df),
    ', "rvi": ', fmt(reg$rvi), ', "fmi": ', fmt(reg$fmi), '},\n', sep = "")
cat('  "mixed": {"b": ', fmt(mix$b), ', "se": ', fmt(mix$se), ', "df": ', fmt(mix$df), '}\n', sep = "")
cat("}\n")
