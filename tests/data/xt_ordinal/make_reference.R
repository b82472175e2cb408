# Reference numbers for tests/test_xt_ordinal.py (run from this directory; writes wine.csv and
# xt_ordinal_reference.json): ordinal::clmm on the wine data (Randall 1989; 72 ratings, 9
# judges, 8 bottles each) -- the random-intercept ordered logit/probit of xtologit/xtoprobit.
# clmm's nAGQ > 1 is mode-curvature adaptive Gauss-Hermite, Stata's default mean-variance
# adaptive: the rules agree as the points grow, so the estimates are compared tightly at 25
# points and loosely at Stata's 12. clm gives the one-level (ologit) comparison model.
suppressMessages({library(ordinal); library(jsonlite)})
data(wine, package = "ordinal")
d <- data.frame(judge = as.integer(wine$judge), bottle = as.integer(wine$bottle),
                rating = as.integer(wine$rating), warm = as.integer(wine$temp == "warm"),
                contact = as.integer(wine$contact == "yes"), response = wine$response)
d <- d[order(d$judge, d$bottle), ]
write.csv(d, "wine.csv", row.names = FALSE)
ctl <- clmm.control(gradTol = 1e-9)
fit <- function(f, data, link, q) {
  m <- clmm(f, data = data, link = link, nAGQ = q, control = ctl)
  list(beta = unname(m$beta), cuts = unname(m$alpha), se = unname(sqrt(diag(vcov(m)))),
       names = names(coef(m)), sigma2_u = unname(VarCorr(m)$judge[1]),
       ll = as.numeric(logLik(m)))
}
f <- factor(rating) ~ warm + contact + (1 | judge)
# the lead of the rating within judge (bottle order): xtologit F1.rating warm contact
d$lead <- ave(d$rating, d$judge, FUN = function(v) c(v[-1], NA))
dl <- d[!is.na(d$lead), ]
out <- list(
  logit12 = fit(f, d, "logit", 12), logit25 = fit(f, d, "logit", 25),
  probit12 = fit(f, d, "probit", 12), probit25 = fit(f, d, "probit", 25),
  interaction12 = fit(factor(rating) ~ warm * contact + (1 | judge), d, "logit", 12),
  lead_logit25 = fit(factor(lead) ~ warm + contact + (1 | judge), dl, "logit", 25),
  clm_logit_ll = as.numeric(logLik(clm(factor(rating) ~ warm + contact, data = d))),
  clm_probit_ll = as.numeric(logLik(clm(factor(rating) ~ warm + contact, data = d,
                                        link = "probit"))))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "xt_ordinal_reference.json")
