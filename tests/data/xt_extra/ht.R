# plm's Hausman-Taylor (random.method = "ht") on Cornwell-Rupert wages (tests/data/wages_xt.csv):
# Baltagi's instruments (xthtaylor) and AmaCurdy-MaCurdy's (xthtaylor, amacurdy).
suppressMessages(library(plm)); suppressMessages(library(jsonlite))
d <- read.csv("../wages_xt.csv")
f <- lwage ~ bluecol + south + smsa + ind + wks + married + union + exp + exp2 + sex + black + ed |
  bluecol + south + smsa + ind + sex + black | wks + married + union + exp + exp2
one <- function(method) {
  m <- plm(f, data = d, index = c("id", "t"), model = "random", random.method = "ht", inst.method = method)
  o <- c(2:13, 1)     # the table's order: the regressors as listed, then _cons
  list(b = unname(coef(m)[o]), se = unname(sqrt(diag(vcov(m)))[o]),
       sigma_u = unname(sqrt(ercomp(m)$sigma2["id"])), sigma_e = unname(sqrt(ercomp(m)$sigma2["idios"])))
}
out <- list(baltagi = one("baltagi"), am = one("am"))
write(toJSON(out, digits = 15, auto_unbox = TRUE, pretty = TRUE), "ht.json")
