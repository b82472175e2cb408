# Reference numbers for tests/test_svy_tabulate.py: R's survey package on hsb with the
# variables the test builds (svytab.csv: id minority female ses mathach sector w sesq hi mq,
# written by hlmshell's `export delimited` after the test's SETUP lines).
suppressMessages({library(survey); library(jsonlite)})
d <- read.csv("svytab.csv")
d$fpcn <- ifelse(d$sector == 1, 150, 200)
A <- svydesign(ids = ~id, strata = ~sector, weights = ~w, data = d)
B <- svydesign(ids = ~id, strata = ~sector, weights = ~w, fpc = ~fpcn, data = d)
C <- svydesign(ids = ~1, strata = ~sector, weights = ~w, data = d)
out <- list()
est <- function(e) list(b = unname(as.numeric(coef(e))), V = unname(as.matrix(vcov(e))))
cells <- function(r, c, dat) {          # row-major cell factor: p11 p12 ... as Stata's e(b)
  lv <- as.vector(t(outer(sort(unique(dat[[r]])), sort(unique(dat[[c]])), paste)))
  factor(paste(dat[[r]], dat[[c]]), levels = lv)
}
chisq <- function(f, des, n) {
  Fs <- svychisq(f, des, statistic = "F")
  X2 <- suppressWarnings(chisq.test(svytable(f, des, Ntotal = n), correct = FALSE))$statistic
  W <- svychisq(f, des, statistic = "Wald"); AW <- svychisq(f, des, statistic = "adjWald")
  list(F = unname(as.numeric(Fs$statistic)), df1 = unname(Fs$parameter[1]), df2 = unname(Fs$parameter[2]),
       p = unname(Fs$p.value), X2 = unname(as.numeric(X2)),
       wald_F = unname(as.numeric(W$statistic)), wald_df = unname(W$parameter), wald_p = unname(W$p.value),
       adjwald_F = unname(as.numeric(AW$statistic)), adjwald_df = unname(AW$parameter), adjwald_p = unname(AW$p.value))
}
for (nm in c("A", "B", "C")) {
  des <- get(nm)
  des <- update(des, cell_sm = cells("sesq", "minority", des$variables),
                cell_ms = cells("mq", "sesq", des$variables))
  one <- svymean(~factor(sesq), des, deff = TRUE)
  out[[paste0("one_", nm)]] <- c(est(one), list(deff = unname(as.numeric(deff(one)))))
  tot <- svytotal(~factor(sesq), des)
  out[[paste0("count_", nm)]] <- est(tot)
  two <- svymean(~cell_sm, des, deff = TRUE)
  out[[paste0("two_", nm)]] <- c(est(two), list(deff = unname(as.numeric(deff(two)))))
  out[[paste0("chi_", nm)]] <- chisq(~sesq + minority, des, nrow(d))
  out[[paste0("two43_", nm)]] <- est(svymean(~cell_ms, des))
  out[[paste0("chi43_", nm)]] <- chisq(~mq + sesq, des, nrow(d))
  rowp <- svyby(~factor(minority), ~sesq, des, svymean)
  out[[paste0("row_", nm)]] <- list(b = unname(as.numeric(coef(rowp))), se = unname(unlist(SE(rowp))))
  colp <- svyby(~factor(sesq), ~minority, des, svymean)
  out[[paste0("col_", nm)]] <- list(b = unname(as.numeric(coef(colp))), se = unname(unlist(SE(colp))))
}
A2 <- update(A, cell_sm = cells("sesq", "minority", A$variables))
sub <- subset(A2, female == 1)
out$two_sub_A <- est(svymean(~cell_sm, sub))
out$chi_sub_A <- chisq(~sesq + minority, sub, sum(d$female == 1))
out$one_sub_A <- est(svymean(~factor(sesq), sub))
ci <- svyciprop(~I(sesq == 2), A, method = "logit")
out$ciprop_A <- list(p = unname(as.numeric(ci)), ci = unname(as.numeric(attr(ci, "ci"))))
# svy: ologit: svyolr (coefficients then the cutpoints 1|2 2|3 3|4, as Stata's e(b)), converged tightly
for (nm in c("A", "B")) {
  des <- get(nm)
  out[[paste0("ologit_", nm)]] <- est(svyolr(factor(mq) ~ ses + minority + female, des, control = list(reltol = 1e-15, maxit = 5000)))
}
out$ologit_sub_A <- est(svyolr(factor(mq) ~ ses + minority, subset(A, female == 1), control = list(reltol = 1e-15, maxit = 5000)))
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "svy_tab_reference.json")
