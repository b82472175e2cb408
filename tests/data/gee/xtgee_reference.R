# Reference numbers for tests/test_xtgee.py from R's geepack (run once from this directory;
# writes xtgee_reference.json). geepack's san.se is the plain sandwich: Stata's robust VCE is
# it times G/(G-1). Correlation structures where geepack's moment estimators coincide with
# Stata's (independence, exchangeable, and unstructured on balanced panels) only. (Wages
# under unstructured has a working correlation above 1, which Stata refuses: "estimates
# diverging (absolute correlation > 1)"; the tests expect that refusal there.)
library(geepack); library(jsonlite)
w <- read.csv("../wages_xt.csv"); o <- read.csv("ohio.csv"); s <- read.csv("seizure.csv")
o2 <- o[!(o$id %% 7 == 0 & o$t == 2), ]          # unbalanced: every 7th child misses age 8
ctl <- geese.control(epsilon = 1e-12, maxit = 200)
one <- function(f, data, fam, cs) {
  m <- geeglm(f, id = id, data = data, family = fam, corstr = cs, control = ctl)
  s <- summary(m)
  list(coef = unname(coef(m)), names = names(coef(m)), san_se = unname(s$coefficients[, 2]),
       alpha = if (cs == "independence") numeric(0) else unname(s$corr[, 1]),
       phi = unname(s$dispersion[1, 1]), G = length(unique(data$id)), N = nrow(data))
}
out <- list(
  wages_ind = one(lwage ~ exp + exp2 + wks + ed, w, gaussian, "independence"),
  wages_exc = one(lwage ~ exp + exp2 + wks + ed, w, gaussian, "exchangeable"),
  wages_uns = one(lwage ~ exp + exp2 + wks + ed, w, gaussian, "unstructured"),
  ohio_ind = one(resp ~ age * smoke, o, binomial, "independence"),
  ohio_exc = one(resp ~ age * smoke, o, binomial, "exchangeable"),
  ohio_uns = one(resp ~ age * smoke, o, binomial, "unstructured"),
  ohio_unb_exc = one(resp ~ age * smoke, o2, binomial, "exchangeable"),
  seiz_exc = one(y ~ trt + lbase + lage, s, poisson, "exchangeable"),
  seiz_ind = one(y ~ trt + lbase + lage, s, poisson, "independence"))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "xtgee_reference.json")
