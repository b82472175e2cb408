# plm::pggls(model = "pooling") on Grunfeld 1935-1939: GLS with a free T x T covariance of
# each firm's disturbances, estimated from OLS residuals. With years as "panels" and firms as
# "times" that is xtgls, panels(correlated) (Sigma between panels from common periods).
suppressMessages(library(plm)); suppressMessages(library(jsonlite))
d <- read.csv("../grunfeld_xt.csv")
m <- pggls(inv ~ value + capital, data = subset(d, year <= 1939), model = "pooling", index = c("firm", "year"))
out <- list(pggls_pooling_1935_1939 = list(b = unname(coef(m)[c(2, 3, 1)]),
                                           se = unname(sqrt(diag(vcov(m)))[c(2, 3, 1)])))
write(toJSON(out, digits = 15, auto_unbox = TRUE, pretty = TRUE), "pggls.json")
