# plm::pvcm(model = "random"): Swamy's random-coefficients GLS on Grunfeld (xtrc).
suppressMessages(library(plm)); suppressMessages(library(jsonlite))
d <- read.csv("../grunfeld_xt.csv")
m <- pvcm(inv ~ value + capital, data = d, model = "random", index = c("firm", "year"))
o <- c(2, 3, 1)
out <- list(pvcm_random = list(b = unname(coef(m)[o]), se = unname(sqrt(diag(vcov(m)))[o]),
                               Delta = unname(m$Delta[o, o]),
                               chi2 = unname(m$chisq.test$statistic), df = unname(m$chisq.test$parameter)))
print(out)
write(toJSON(out, digits = 15, auto_unbox = TRUE, pretty = TRUE), "pvcm.json")
