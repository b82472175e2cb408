# Reference numbers for margins after ologit/oprobit (tests/test_margins_ordinal.py): the
# outcome probabilities F(cut_k - xb) - F(cut_{k-1} - xb) averaged over hsb, the delta method
# with numDeriv jacobians and vcov() of ordinal::clm (same parametrization as Stata's:
# logit P(y <= k) = cut_k - xb). m3 = 0/1/2 for mathach < 8, < 16, >= 16.
# Run from the repository root:  Rscript tests/data/margins/ordinal_margins_reference.R
suppressMessages({library(haven); library(ordinal); library(numDeriv); library(jsonlite)})
hsb <- as.data.frame(read_dta("hlmshell/sample_data/hsb.dta"))
hsb$m3 <- factor(ifelse(hsb$mathach < 8, 0, ifelse(hsb$mathach < 16, 1, 2)))
X <- cbind(ses = as.numeric(hsb$ses), s1 = as.numeric(hsb$sector == 1))
ref <- list()
for (lk in c("logit", "probit")) {
  m <- clm(m3 ~ ses + I(as.numeric(sector == 1)), data = hsb, link = lk)
  F <- if (lk == "logit") plogis else pnorm
  par <- c(coef(m)[3:4], coef(m)[1:2]); V <- vcov(m)[c(3, 4, 1, 2), c(3, 4, 1, 2)]
  pr <- function(par, Z, k) { eta <- drop(Z %*% par[1:2]); cuts <- c(-Inf, par[3:4], Inf)
    mean(F(cuts[k + 1] - eta) - F(cuts[k] - eta)) }
  cf <- function(s) { Z <- X; Z[, "s1"] <- s; Z }
  out <- list()
  f_all <- function(p) sapply(1:3, function(k) pr(p, X, k))
  f_sector <- function(p) c(sapply(1:3, function(k) c(pr(p, cf(0), k), pr(p, cf(1), k))))
  f_dydx <- function(p) { h <- 1e-6; Zp <- X; Zm <- X; Zp[, 1] <- Zp[, 1] + h; Zm[, 1] <- Zm[, 1] - h
    (pr(p, Zp, 1) - pr(p, Zm, 1)) / (2 * h) }
  for (nm in c("all", "sector", "dydx")) {
    f <- get(paste0("f_", nm)); J <- jacobian(f, par)
    out[[nm]] <- list(margin = f(par), se = sqrt(diag(J %*% V %*% t(J))))
  }
  ref[[lk]] <- out
}
# margins sector, vce(unconditional) after ologit (rows; and clusters = schools for
# margins, vce(unconditional)): phi_i = (f_i - p)/N + g' infl_i, infl_i = (-H)^-1 s_i with
# s_i the gradient of row i's log likelihood (numDeriv::jacobian) and H the Hessian of the sum
m <- clm(m3 ~ ses + I(as.numeric(sector == 1)), data = hsb, link = "logit")
par <- c(coef(m)[3:4], coef(m)[1:2]); yk <- as.integer(hsb$m3)
llr <- function(p) { eta <- drop(X %*% p[1:2]); cuts <- c(-Inf, p[3:4], Inf)
  log(plogis(cuts[yk + 1] - eta) - plogis(cuts[yk] - eta)) }
S <- jacobian(llr, par); H <- hessian(function(p) sum(llr(p)), par)
infl <- S %*% solve(-H)
pr_rows <- function(p, Z, k) { eta <- drop(Z %*% p[1:2]); cuts <- c(-Inf, p[3:4], Inf)
  plogis(cuts[k + 1] - eta) - plogis(cuts[k] - eta) }
cf <- function(s) { Z <- X; Z[, "s1"] <- s; Z }
unc <- function(Z, k, units) { f <- pr_rows(par, Z, k); p <- mean(f)
  g <- jacobian(function(q) mean(pr_rows(q, Z, k)), par)
  phi <- rowsum((f - p) / nrow(X) + drop(infl %*% t(g)), units); U <- length(phi)
  c(p, sqrt(U / (U - 1) * sum(phi^2))) }
n <- nrow(X)
ref$uncond_sector <- do.call(rbind, lapply(1:3, function(k) rbind(unc(cf(0), k, seq_len(n)), unc(cf(1), k, seq_len(n)))))
ref$uncond_cluster <- do.call(rbind, lapply(1:3, function(k) unc(X, k, hsb$id)))
cat(toJSON(ref, digits = 15, auto_unbox = TRUE, pretty = TRUE),
    file = "tests/data/margins/ordinal_margins_reference.json")
