# Reference numbers for tests/test_constraints.py: each constrained model refitted by hand
# with the constraints substituted into the model (so R never sees a constraint), on hlmshell's
# shipped hsb.dta. Run from the project root:
#   Rscript tests/data/constraints/constraints_reference.R
suppressMessages({library(haven); library(jsonlite); library(numDeriv); library(sandwich)})
d <- as.data.frame(read_dta("hlmshell/sample_data/hsb.dta"))
out <- list()

# A. cnsreg mathach ses meanses female minority with ses = meanses, ses + minority = -3:
#    b_meanses = b_ses, b_minority = -3 - b_ses
m <- lm(I(mathach + 3 * minority) ~ I(ses + meanses - minority) + female, data = d)
cf <- coef(m); se <- sqrt(diag(vcov(m)))
Vf <- vcov(m)[2:3, 2:3]
F <- as.numeric(t(cf[2:3]) %*% solve(Vf) %*% cf[2:3]) / 2
out$cnsreg <- list(b = c(cf[2], cf[2], cf[3], -3 - cf[2], cf[1]),
                   se = c(se[2], se[2], se[3], se[2], se[1]),
                   rmse = summary(m)$sigma, df_r = m$df.residual, F = F)

# A2. the same with ses = meanses, female = 0 and vce(cluster id): sandwich's CR1
#     (G/(G-1) (N-1)/(N-k) with k the free parameters), Stata's regress factors
m <- lm(mathach ~ I(ses + meanses) + minority, data = d)
cf <- coef(m); se <- sqrt(diag(vcovCL(m, cluster = ~id, type = "HC1")))
out$cnsreg_cluster <- list(b = c(cf[2], cf[2], 0, cf[3], cf[1]), se = c(se[2], se[2], 0, se[3], se[1]))

# A3. the same constraints with vce(robust) (HC1: N/(N-k)), and with [aweight = size]
cf <- coef(m); se <- sqrt(diag(vcovHC(m, type = "HC1")))
out$cnsreg_robust <- list(b = c(cf[2], cf[2], 0, cf[3], cf[1]), se = c(se[2], se[2], 0, se[3], se[1]))
m <- lm(mathach ~ I(ses + meanses) + minority, data = d, weights = size)
cf <- coef(m); se <- sqrt(diag(vcov(m)))
out$cnsreg_aweight <- list(b = c(cf[2], cf[2], 0, cf[3], cf[1]), se = c(se[2], se[2], 0, se[3], se[1]),
                           rmse = summary(m)$sigma * sqrt(nrow(d) / sum(d$size)))

# B. logit minority ses meanses female with ses = meanses, female = 0
m <- glm(minority ~ I(ses + meanses), family = binomial, data = d, control = glm.control(epsilon = 1e-14, maxit = 100))
cf <- coef(m); se <- sqrt(diag(vcov(m)))
out$logit <- list(b = c(cf[2], cf[2], 0, cf[1]), se = c(se[2], se[2], 0, se[1]),
                  ll = as.numeric(logLik(m)), wald = (cf[2] / se[2])^2)

# C. probit minority ses female with ses + female = 1: b_female = 1 - b_ses
m <- glm(minority ~ I(ses - female) + offset(female), family = binomial(link = "probit"), data = d,
         control = glm.control(epsilon = 1e-14, maxit = 100))
cf <- coef(m)
# Stata's probit uses the observed information (glm's vcov is the expected one)
pll <- function(p) { eta <- p[1] + p[2] * (d$ses - d$female) + d$female
  sum(d$minority * pnorm(eta, log.p = TRUE) + (1 - d$minority) * pnorm(-eta, log.p = TRUE)) }
se <- sqrt(diag(solve(-hessian(pll, cf))))
out$probit <- list(b = c(cf[2], 1 - cf[2], cf[1]), se = c(se[2], se[2], se[1]),
                   ll = as.numeric(logLik(m)))

# D. poisson cnt ses female minority, cnt = max(0, floor(mathach / 5)), female = minority
d$cnt <- pmax(0, floor(d$mathach / 5))
m <- glm(cnt ~ ses + I(female + minority), family = poisson, data = d, control = glm.control(epsilon = 1e-14, maxit = 100))
cf <- coef(m); se <- sqrt(diag(vcov(m)))
out$poisson <- list(b = c(cf[2], cf[3], cf[3], cf[1]), se = c(se[2], se[3], se[3], se[1]),
                    ll = as.numeric(logLik(m)))

# D2. ologit grp ses meanses female minority, grp = 1 + (mathach > 10) + (mathach > 17), with
#     ses = meanses, female = 0 (MASS::polr: logit P(y <= j) = zeta_j - eta, Stata's cuts);
#     and ologit grp ses female with /cut2 - /cut1 = 1.5, by hand (cut2 = cut1 + 1.5)
d$grp <- 1 + (d$mathach > 10) + (d$mathach > 17)
m <- MASS::polr(factor(grp) ~ I(ses + meanses) + minority, data = d, Hess = TRUE)
oll <- function(p) { eta <- p[1] * (d$ses + d$meanses) + p[2] * d$minority
  cut <- c(p[3], p[4]); lo <- c(-Inf, cut)[d$grp]; hi <- c(cut, Inf)[d$grp]
  sum(log(plogis(hi - eta) - plogis(lo - eta))) }
fit <- optim(c(coef(m), m$zeta), function(p) -oll(p), method = "BFGS", control = list(reltol = 1e-15))
se <- sqrt(diag(solve(-hessian(oll, fit$par))))
p <- fit$par
out$ologit <- list(b = c(p[1], p[1], 0, p[2], p[3], p[4]), se = c(se[1], se[1], 0, se[2], se[3], se[4]),
                   ll = -fit$value)
cll <- function(p) { eta <- p[1] * d$ses + p[2] * d$female
  cut <- c(p[3], p[3] + 1.5); lo <- c(-Inf, cut)[d$grp]; hi <- c(cut, Inf)[d$grp]
  sum(log(plogis(hi - eta) - plogis(lo - eta))) }
fit <- optim(c(0.8, -0.3, -0.8), function(p) -cll(p), method = "BFGS", control = list(reltol = 1e-15))
se <- sqrt(diag(solve(-hessian(cll, fit$par))))
p <- fit$par
out$ologit_cut <- list(b = c(p[1], p[2], p[3], p[3] + 1.5), se = c(se[1], se[2], se[3], se[3]),
                       ll = -fit$value)

# E. mlogit grp ses female on the first 600 students, base outcome 1, with
#    [2]ses = 0 and [3]female = [2]female: free (cons2, fem, cons3, ses3)
s <- d[1:600, ]
grp <- 1 + (s$mathach > 10) + (s$mathach > 17)
nll <- function(p) {
  e2 <- p[1] + p[2] * s$female
  e3 <- p[3] + p[4] * s$ses + p[2] * s$female
  den <- log(1 + exp(e2) + exp(e3))
  num <- ifelse(grp == 1, 0, ifelse(grp == 2, e2, e3))
  -sum(num - den)
}
fit <- optim(c(0, 0, 0, 0), nll, method = "BFGS", control = list(reltol = 1e-14, maxit = 1000))
fit <- optim(fit$par, nll, method = "Nelder-Mead", control = list(reltol = 1e-15, maxit = 5000))
fit <- optim(fit$par, nll, method = "BFGS", control = list(reltol = 1e-16, maxit = 1000))
H <- hessian(nll, fit$par)
se <- sqrt(diag(solve(H)))
p <- fit$par
# e(b) order of equations 2 and 3: ses female _cons
out$mlogit <- list(b2 = c(0, p[2], p[1]), b3 = c(p[4], p[2], p[3]),
                   se2 = c(0, se[2], se[1]), se3 = c(se[4], se[2], se[3]), ll = -fit$value)

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/data/constraints/constraints_reference.json")
