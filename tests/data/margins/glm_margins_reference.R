# Reference numbers for margins after logit and melogit (tests/test_margins_glm.py), computed
# without hlmshell: predictions averaged over the data and the delta method.
#  logit:   glm(binomial); jacobians analytic; vcov(glm).
#  melogit, intmethod(laplace): glmmTMB (Laplace, the same objective); the default margin is
#           the mean over the random intercept u ~ N(0, tau2), integrated on a fine grid;
#           the jacobian (fixed effects and tau2) by numDeriv; V over (beta, tau2) from
#           sdreport's covariance of (beta, log sd) by the delta method (dtau2/dlogsd = 2 tau2).
# Run from the repository root:  Rscript tests/data/margins/glm_margins_reference.R
suppressMessages({library(glmmTMB); library(numDeriv); library(jsonlite)})
d <- read.csv("tests/data/glmm/contraception.csv")
X <- cbind(u1 = d$urban, age = d$age, cons = 1)
cf <- function(urban = NULL, age = NULL) { Z <- X; if (!is.null(urban)) Z[, "u1"] <- urban
  if (!is.null(age)) Z[, "age"] <- age; Z }
marg <- function(f, V, theta) {     # f(theta) -> vector of margins
  m <- f(theta); J <- jacobian(f, theta); list(margin = m, se = sqrt(diag(J %*% V %*% t(J))))
}
ref <- list()

# logit use i.urban age
g <- glm(use ~ urban + age, family = binomial, data = d)
o <- c("urban", "age", "(Intercept)")
b <- coef(g)[o]; V <- vcov(g)[o, o]
pr <- function(Z, b) plogis(drop(Z %*% b))
ref$logit_urban <- marg(function(b) c(mean(pr(cf(0), b)), mean(pr(cf(1), b))), V, b)
ref$logit_dydx <- marg(function(b) { p <- pr(X, b); c(mean(pr(cf(1), b) - pr(cf(0), b)),
                                                     mean(p * (1 - p)) * b[2]) }, V, b)
ref$logit_at <- marg(function(b) sapply(c(-10, 0, 10), function(a) mean(pr(cf(age = a), b))), V, b)

# vce(unconditional): phi_i = (f_i - p)/N + g' infl_i, infl_i = (-H)^-1 s_i with H the
# observed Hessian of the log likelihood (numDeriv::hessian) and s_i = d l_i / d b;
# V = U/(U-1) sum_u phi_u^2 over rows (or districts after vce(cluster district))
uncond <- function(family, link, outcome) {
  y <- outcome; inv <- family$linkinv
  ll <- function(b) { eta <- drop(X %*% b); mu <- inv(eta)
    if (link == "log") sum(dpois(y, mu, log = TRUE)) else sum(dbinom(y, 1, mu, log = TRUE)) }
  fit <- glm(y ~ 0 + X, family = family); b <- coef(fit)
  H <- hessian(ll, b); bread <- solve(-H)
  eta <- drop(X %*% b); mu <- inv(eta)
  dl <- if (link == "log" || link == "logit") y - mu else (y - mu) * family$mu.eta(eta) / (mu * (1 - mu))
  infl <- (X * dl) %*% bread
  one <- function(Z, units) { f <- inv(drop(Z %*% b)); p <- mean(f)
    g <- colMeans(Z * family$mu.eta(drop(Z %*% b)))
    phi <- (f - p) / nrow(X) + drop(infl %*% g); s <- rowsum(phi, units); U <- length(s)
    c(margin = p, se = sqrt(U / (U - 1) * sum(s^2))) }
  list(rows = rbind(one(cf(0), seq_len(nrow(X))), one(cf(1), seq_len(nrow(X)))),
       cluster = rbind(one(cf(0), d$district), one(cf(1), d$district)))
}
ref$uncond_logit <- uncond(binomial("logit"), "logit", d$use)
ref$uncond_probit <- uncond(binomial("probit"), "probit", d$use)

# melogit use i.urban age || district:, intmethod(laplace)
m <- glmmTMB(use ~ urban + age + (1 | district), family = binomial, data = d)
b <- fixef(m)$cond[o]; logsd <- m$fit$par[["theta"]]; tau2 <- exp(2 * logsd)
Vfull <- m$sdr$cov.fixed[c(2, 3, 1, 4), c(2, 3, 1, 4)]      # (beta in X's order, log sd)
D <- diag(c(1, 1, 1, 2 * tau2))
Vb <- D %*% Vfull %*% D
z <- seq(-9, 9, length.out = 1801); w <- dnorm(z) * (z[2] - z[1])
mmean <- function(Z, th) { eta <- drop(Z %*% th[1:3]); s <- sqrt(th[4])
  mean(plogis(outer(eta, s * z, "+")) %*% w) }
th <- c(b, tau2)
ref$me_urban <- marg(function(th) c(mmean(cf(0), th), mmean(cf(1), th)), Vb, th)
ref$me_at <- marg(function(th) sapply(c(-10, 10), function(a) mmean(cf(age = a), th)), Vb, th)
ref$me_fixedonly <- marg(function(th) c(mean(pr(cf(0), th[1:3])), mean(pr(cf(1), th[1:3]))), Vb, th)
ref$me_ll <- as.numeric(logLik(m))
ref$me_theta <- th
# melogit use i.urban age || district:, intpoints(30), margins urban, vce(unconditional):
# the likelihood integrated over the random intercept on a fine grid and maximized here;
# per-district scores (numDeriv::jacobian of the districts' log likelihoods) in (b, ln sd),
# V = solve(-hessian); each district's influence mapped to (b, tau2) (dtau2/dlnsd = 2 tau2);
# phi_g = sum over its rows of (f_i - p)/N + g' infl_g; V = G/(G-1) sum phi_g^2
zg <- seq(-9, 9, length.out = 1201); lw <- log(dnorm(zg) * (zg[2] - zg[1]))
grp <- as.integer(factor(d$district)); G <- max(grp)
ll_groups <- function(par) { b <- par[1:3]; s <- exp(par[4]); eta <- drop(X %*% b)
  sapply(seq_len(G), function(g) { i <- which(grp == g)
    lp <- outer(eta[i], s * zg, "+"); y <- d$use[i]
    l <- colSums(y * plogis(lp, log.p = TRUE) + (1 - y) * plogis(-lp, log.p = TRUE)) + lw
    m <- max(l); m + log(sum(exp(l - m))) }) }
start <- c(fixef(m)$cond[o], logsd)
opt <- optim(start, function(p) -sum(ll_groups(p)), method = "BFGS",
             control = list(reltol = 1e-14, maxit = 500))
par <- opt$par
Vs <- solve(-hessian(function(p) sum(ll_groups(p)), par))
S <- jacobian(ll_groups, par)
infl <- S %*% Vs
tau2 <- exp(2 * par[4]); infl[, 4] <- infl[, 4] * 2 * tau2
th <- c(par[1:3], tau2)
uncond_me <- function(fixedonly) {
  f_rows <- function(Z, th) { eta <- drop(Z %*% th[1:3])
    if (fixedonly) plogis(eta) else drop(plogis(outer(eta, sqrt(th[4]) * z, "+")) %*% w) }
  t(sapply(0:1, function(u) { Z <- cf(u); f <- f_rows(Z, th); p <- mean(f)
    g <- jacobian(function(t) mean(f_rows(Z, t)), th)
    phi <- rowsum((f - p) / nrow(X), grp) + drop(infl %*% t(g))
    c(margin = p, se = sqrt(G / (G - 1) * sum(phi^2))) }))
}
ref$me30_ll <- -opt$value
ref$uncond_me <- uncond_me(FALSE)
ref$uncond_me_fixedonly <- uncond_me(TRUE)
cat(toJSON(ref, digits = 15, auto_unbox = TRUE, pretty = TRUE),
    file = "tests/data/margins/glm_margins_reference.json")
