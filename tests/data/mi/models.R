# Reference for tests/test_mi_models.py: the imputation models' fits (before the posterior
# draw) on models.csv -- ordinal::clm (ordered logit: coefficients, cut points, their
# covariance) and glm(binomial) (logit). Run: Rscript models.R > models_expected.json
suppressMessages(library(ordinal))
d <- read.csv("models.csv")
o <- clm(factor(c) ~ x1 + x2, data = d, link = "logit")
l <- glm(b ~ x1 + x2, data = d, family = binomial)
fmt <- function(v) paste0("[", paste(sprintf("%.15g", v), collapse = ", "), "]")
vo <- vcov(o)[c("x1", "x2", "1|2", "2|3", "3|4"), c("x1", "x2", "1|2", "2|3", "3|4")]
cat("{\n")
cat('  "ologit": {"beta": ', fmt(coef(o)[c("x1", "x2")]), ', "cuts": ', fmt(coef(o)[c("1|2", "2|3", "3|4")]),
    ', "se": ', fmt(sqrt(diag(vo))), '},\n', sep = "")
cat('  "logit": {"b": ', fmt(coef(l)), ', "se": ', fmt(sqrt(diag(vcov(l)))), '}\n', sep = "")
cat("}\n")
