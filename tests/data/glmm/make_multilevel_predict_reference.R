# Reference predictions for tests/test_me_multilevel_predict.py: lme4::glmer Laplace fits
# (nAGQ = 1) of nested and crossed GLMMs and an ordinal::clmm fit with two nested levels, and
# what predict gives after them conditional on the conditional modes of the random effects:
# fitted means, Pearson and deviance residuals (lme4's residuals(m, type)), Anscombe residuals
# (A(y) - A(mu) over V(mu)^(1/6), A the integral of V^(-1/3) done by integrate()) and the
# ordinal models' category probabilities F(cut_k - eta) - F(cut_{k-1} - eta) from clmm's
# coefficients and ranef() modes. Rows kept: every 7th (1-based rows 1, 8, 15, ...) plus the
# sum over all rows of each quantity's square (so every row counts).
# Run from this directory: Rscript make_multilevel_predict_reference.R
suppressMessages({library(lme4); library(ordinal); library(glmmTMB); library(jsonlite)})
ctrl <- glmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5), tolPwrss = 1e-13)
gi <- read.csv("guimmun.csv")
va <- read.csv("verbagg.csv")
od <- read.csv("ordinal.csv")

anscombe_binary <- function(y, mu) {
  A <- function(t) if (t <= 0) 0 else integrate(function(s) (s * (1 - s))^(-1/3), 0, t,
                                                  rel.tol = 1e-12, abs.tol = 0)$value
  sapply(seq_along(y), function(i) (A(y[i]) - A(mu[i])) / (mu[i] * (1 - mu[i]))^(1/6))
}
anscombe_poisson <- function(y, mu) {
  A <- function(t) if (t <= 0) 0 else integrate(function(s) s^(-1/3), 0, t, rel.tol = 1e-12)$value
  sapply(seq_along(y), function(i) (A(y[i]) - A(mu[i])) / mu[i]^(1/6))
}
keep <- seq(1, nrow(gi), by = 7)
rec <- function(m, y, ansc) {
  mu <- fitted(m); pe <- residuals(m, "pearson"); de <- residuals(m, "deviance")
  an <- ansc(y, mu)
  vc <- as.data.frame(VarCorr(m))
  list(logLik = as.numeric(logLik(m)), fixef = unname(fixef(m)), variances = vc$vcov,
       rows = keep, mu = unname(mu[keep]), pearson = unname(pe[keep]),
       deviance = unname(de[keep]), anscombe = an[keep],
       ss_mu = sum(mu^2), ss_pearson = sum(pe^2), ss_deviance = sum(de^2), ss_anscombe = sum(an^2))
}
out <- list()
m <- glmer(immun ~ kid2p + mom25p + rural + pcInd81 + (1 | cluster/mom), data = gi,
           family = binomial, control = ctrl)
out$gu_nested <- rec(m, gi$immun, anscombe_binary)
m <- glmer(immun ~ kid2p + rural + (1 + kid2p | cluster) + (1 | cluster:mom), data = gi,
           family = binomial, control = ctrl)
out$gu_slope <- rec(m, gi$immun, anscombe_binary)
m <- glmer(immun ~ kid2p + rural + (1 | cluster/mom), data = gi, family = poisson, control = ctrl)
out$gu_poisson <- rec(m, gi$immun, anscombe_poisson)
keep <- seq(1, nrow(va), by = 7)
m <- glmer(r2 ~ anger + male + do + other + (1 | id) + (1 | item), data = va, family = binomial,
           control = ctrl)
out$verbagg_crossed <- rec(m, va$r2, anscombe_binary)

# ordinal, two nested levels (district, urban within district), Laplace
keep <- seq(1, nrow(od), by = 7)
od$du <- interaction(od$district, od$urban, drop = TRUE)
m <- clmm(factor(y) ~ age + urban + (1 | district) + (1 | du), data = od, link = "logit",
          nAGQ = 1, control = clmm.control(gradTol = 1e-9))
re <- ranef(m)
u1 <- re$district[as.character(od$district), 1]
u2 <- re$du[as.character(od$du), 1]
eta <- m$beta["age"] * od$age + m$beta["urban"] * od$urban + u1 + u2
cuts <- c(-Inf, m$alpha, Inf)
P <- sapply(1:3, function(k) plogis(cuts[k + 1] - eta) - plogis(cuts[k] - eta))
out$ordinal_nested <- list(logLik = as.numeric(logLik(m)), beta = unname(m$beta),
                           cuts = unname(m$alpha),
                           variances = c(VarCorr(m)$district[1], VarCorr(m)$du[1]),
                           rows = keep, pr = unname(P[keep, ]), ss_pr = colSums(P^2))
# negative binomial, two nested levels, exposure: glmmTMB nbinom2 (Var = mu (1 + mu / theta),
# Stata's alpha = 1 / theta) and nbinom1 (Var = mu (1 + delta)); fitted() is conditional on the
# modes, Pearson residuals from residuals(m, "pearson"), NB2 deviance residuals written out
mm <- read.csv("mmmec.csv")
keep <- seq(1, nrow(mm), by = 7)
nb <- function(fam) {
  m <- glmmTMB(deaths ~ uvb + (1 | nation/region) + offset(log(expected)), family = fam, data = mm)
  mu <- fitted(m); pe <- residuals(m, "pearson"); y <- mm$deaths
  vc <- VarCorr(m)$cond
  r <- list(logLik = as.numeric(logLik(m)), fixef = unname(fixef(m)$cond),
            variances = c(vc$nation[1, 1], vc$`region:nation`[1, 1]), sigma = sigma(m),
            rows = keep, mu = unname(mu[keep]), pearson = unname(pe[keep]),
            ss_mu = sum(mu^2), ss_pearson = sum(pe^2))
  if (fam$family == "nbinom2") {
    th <- sigma(m)
    d2 <- 2 * (ifelse(y > 0, y * log(y / mu), 0) - (y + th) * log((y + th) / (mu + th)))
    de <- sign(y - mu) * sqrt(pmax(d2, 0))
    r$deviance <- unname(de[keep]); r$ss_deviance <- sum(de^2)
  }
  r
}
out$mmmec_nb2 <- nb(nbinom2())
out$mmmec_nb1 <- nb(nbinom1())
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "multilevel_predict_reference.json")
