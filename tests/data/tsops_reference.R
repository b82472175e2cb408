# Reference numbers for tests/test_tsops.py (time-series operators), computed once with R's
# plm (its lag() matches observations by the time index, so gaps in a panel give NA, as
# Stata's L. does); the test carries them as literals.
#
#   Rscript tests/data/tsops_reference.R            # from the repository root
#
# Data: tests/data/grunfeld.csv (plm's Grunfeld: firm year inv value capital, 10 firms x 20
# years; Stata's webuse grunfeld as company year invest mvalue kstock).
#   balanced:  regress inv L.value L(0/1).capital        (OLS on the pooled panel)
#              xtreg inv L.value capital, fe             (plm within)
#   gaps:      the same with the rows (firm + year) %% 7 == 0 dropped (gaps inside panels)
suppressMessages(library(plm))
options(digits = 15)

G <- read.csv("tests/data/grunfeld.csv")
show <- function(label, x) cat(label, "=", paste(format(x, digits = 15), collapse = ", "), "\n")

run <- function(tag, d) {
  cat("\n=====", tag, "=====\n")
  pd <- pdata.frame(d, index = c("firm", "year"))
  # lag() dispatches on a pseries: build the lagged columns first (lm would drop the class)
  d2 <- data.frame(inv = as.numeric(pd$inv), lvalue = as.numeric(lag(pd$value)),
                   capital = as.numeric(pd$capital), lcapital = as.numeric(lag(pd$capital)))
  ols <- lm(inv ~ lvalue + capital + lcapital, data = d2)
  s <- summary(ols)
  show("ols N", nobs(ols))
  show("ols b (L.value capital L.capital _cons)", coef(ols)[c(2, 3, 4, 1)])
  show("ols se", sqrt(diag(vcov(ols)))[c(2, 3, 4, 1)])
  show("ols r2", s$r.squared)
  show("ols rmse", s$sigma)
  fe <- plm(inv ~ lag(value) + capital, data = pd, model = "within")
  show("fe N", nobs(fe))
  show("fe b (L.value capital)", coef(fe))
  show("fe se", sqrt(diag(vcov(fe))))
  show("fe r2 within", summary(fe)$r.squared[["rsq"]])
}

run("balanced", G)
run("gaps", subset(G, (firm + year) %% 7 != 0))
