# lincom's exponentiated combinations after logit and poisson, computed by R's glm and vcov:
# exp(c'b), exp(c'b) sqrt(c'Vc), z = c'b / sqrt(c'Vc), exp(c'b -+ 1.959964 sqrt(c'Vc)).
library(jsonlite)
d <- read.csv("tests/data/glmm/contraception.csv")
one <- function(fit, cvec) {
  est <- sum(cvec * coef(fit)); se <- sqrt(drop(t(cvec) %*% vcov(fit) %*% cvec))
  q <- qnorm(0.975)
  list(estimate = exp(est), se = exp(est) * se, z = est / se, p = 2 * pnorm(-abs(est / se)),
       lb = exp(est - q * se), ub = exp(est + q * se))
}
lg <- glm(use ~ age + urban, family = binomial, data = d)
g <- read.csv("tests/data/glmm/grouseticks.csv")
ps <- glm(ticks ~ year96 + year97 + height, family = poisson, data = g)
out <- list(logit_urban_plus_age = one(lg, c(0, 1, 1)),
            poisson_height = one(ps, c(0, 0, 0, 1)))
write_json(out, "tests/data/lincom/lincom_eform_reference.json", digits = 15, auto_unbox = TRUE,
           pretty = TRUE)
