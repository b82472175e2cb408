# Reference numbers for tests/test_xtivreg.py from plm (independent of hlmshell).
# Run: Rscript tests/data/ivregress/make_xt_reference.R
suppressMessages({library(plm); library(jsonlite)})
d <- read.csv("tests/data/ivregress/cigarettes.csv")
p <- pdata.frame(d, index = c("state", "yr"))
f <- lpackpc ~ lravgprs + lperinc | lperinc + rtaxso + rtax
one <- function(r) list(b = unname(coef(r)), se = unname(sqrt(diag(vcov(r)))), names = names(coef(r)))
out <- list(fe = one(plm(f, data = p, model = "within")),
            be = one(plm(f, data = p, model = "between")),
            fd = one(plm(f, data = p, model = "fd")),
            g2sls = one(plm(f, data = p, model = "random", inst.method = "bvk")),
            ec2sls = one(plm(f, data = p, model = "random", inst.method = "baltagi")))
r <- plm(f, data = p, model = "random", inst.method = "bvk"); e <- ercomp(r)
out$g2sls$sigma2 <- unname(e$sigma2)
write_json(out, "tests/data/ivregress/xt_reference.json", digits = 12, auto_unbox = TRUE, pretty = TRUE)
