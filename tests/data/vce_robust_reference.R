# Reference numbers for tests/test_vce_robust.py, computed once; the tests carry them as literals.
#
#   Rscript tests/data/vce_robust_reference.R          # from the repository root
#
# regress: R's sandwich (vcovHC HC1/HC2/HC3; vcovCL type "HC1" is Stata's cluster VCE,
# G/(G-1) (n-1)/(n-k)).
# mixed, vce(robust): written here from the definition, independently of hlmshell: the ML fit
# maximised directly over Stata's e(b) metric (ln sd, atanh corr, lnsig_e) with beta profiled
# out (GLS), per-cluster log likelihoods from dense V_g = sum_k Z_gk Psi_k Z_gk' + sigma^2 I,
# per-cluster scores by numDeriv (Richardson) over the full (beta, variance) vector, the model
# VCE blockdiag((X'V^-1X)^-1, -H^-1) with H the numerical Hessian of the profiled log
# likelihood in Stata's metric, and V = bread (sum_c S_c S_c') bread G/(G-1).
# clubSandwich's vcovCR (CR0) on nlme's ML fit gives the fixed-effects block once more
# (times G/(G-1)), and lme4 the log likelihood.
suppressMessages({library(sandwich); library(nlme); library(lme4); library(numDeriv)
                  library(clubSandwich); library(haven)})
options(digits = 15)
show <- function(label, x) cat(label, "=", paste(format(x, digits = 12), collapse = ", "), "\n")

hsb <- as.data.frame(lapply(read_dta("hlmshell/sample_data/hsb.dta"), as.numeric))

# ---------------------------------------------------------------- regress
cat("\n===== regress mathach ses sector female =====\n")
m <- lm(mathach ~ ses + sector + female, data = hsb)
show("b", coef(m))
for (type in c("HC1", "HC2", "HC3")) show(paste("se", type), sqrt(diag(vcovHC(m, type = type))))
show("se cluster id", sqrt(diag(vcovCL(m, cluster = ~id, type = "HC1"))))
Vc <- vcovCL(m, cluster = ~id, type = "HC1")
b <- coef(m)[-1]
show("F cluster id (3, 159)", drop(t(b) %*% solve(Vc[-1, -1], b)) / 3)
V1 <- vcovHC(m, type = "HC1")
show("F HC1 (3, 7181)", drop(t(b) %*% solve(V1[-1, -1], b)) / 3)

# ---------------------------------------------------------------- mixed: the definition
psi_of <- function(kind, s, q) {
  if (kind == "identity") return(diag(exp(2 * s[1]), q))
  if (kind == "independent") return(diag(exp(2 * s), q))
  if (kind == "exchangeable") {
    v <- exp(2 * s[1]); return(v * (diag(q) + tanh(s[2]) * (1 - diag(q))))
  }
  sd <- exp(s[1:q]); R <- diag(q); k <- q
  for (i in 1:(q - 1)) for (j in (i + 1):q) { k <- k + 1; R[i, j] <- R[j, i] <- tanh(s[k]) }
  R * outer(sd, sd)
}
npar <- function(kind, q) switch(kind, identity = 1, independent = q, exchangeable = 2,
                                 unstructured = q + q * (q - 1) / 2)

# model: y, X, top (cluster code per obs), blocks = list(list(kind, Z, group))
prepare <- function(y, X, top, blocks) {
  cl <- lapply(split(seq_along(y), top), function(rows) {
    Zs <- lapply(blocks, function(b) {
      g <- factor(b$group[rows]); q <- ncol(b$Z)
      E <- matrix(0, length(rows), nlevels(g) * q)
      for (h in seq_len(nlevels(g))) {
        r <- which(as.integer(g) == h)
        E[r, (h - 1) * q + 1:q] <- b$Z[rows[r], , drop = FALSE]
      }
      list(E = E, m = nlevels(g))
    })
    list(y = y[rows], X = X[rows, , drop = FALSE], Z = Zs)
  })
  list(cl = cl, blocks = blocks, p = ncol(X),
       kv = sum(sapply(blocks, function(b) npar(b$kind, ncol(b$Z)))) + 1)
}
Vg <- function(M, c, s) {
  V <- diag(exp(2 * s[length(s)]), length(c$y)); pos <- 0
  for (k in seq_along(M$blocks)) {
    b <- M$blocks[[k]]; q <- ncol(b$Z); np <- npar(b$kind, q)
    P <- psi_of(b$kind, s[pos + 1:np], q); pos <- pos + np
    E <- c$Z[[k]]$E
    V <- V + E %*% kronecker(diag(c$Z[[k]]$m), P) %*% t(E)
  }
  V
}
ll_each <- function(M, theta) {
  beta <- theta[1:M$p]; s <- theta[-(1:M$p)]
  sapply(M$cl, function(c) {
    V <- Vg(M, c, s); L <- chol(V); r <- c$y - c$X %*% beta
    w <- backsolve(L, r, transpose = TRUE)
    -0.5 * (length(r) * log(2 * pi) + 2 * sum(log(diag(L))) + sum(w^2))
  })
}
gls <- function(M, s) {
  A <- 0; u <- 0
  for (c in M$cl) { Vi <- solve(Vg(M, c, s)); A <- A + t(c$X) %*% Vi %*% c$X
                    u <- u + t(c$X) %*% Vi %*% c$y }
  list(beta = drop(solve(A, u)), V = solve(A))
}
ll_prof <- function(M, s) sum(ll_each(M, c(gls(M, s)$beta, s)))

robust <- function(tag, M, s0, user = NULL) {
  cat("\n=====", tag, "=====\n")
  f <- function(s) tryCatch(-ll_prof(M, s), error = function(e) 1e300)
  s <- nlminb(s0, f, control = list(rel.tol = 1e-14, x.tol = 1e-12))$par
  for (it in 1:3) {                        # Newton polish on the numerical derivatives
    g <- grad(function(t) ll_prof(M, t), s); H <- hessian(function(t) ll_prof(M, t), s)
    s <- s - solve(H, g)
  }
  G <- gls(M, s); theta <- c(G$beta, s)
  H <- hessian(function(t) ll_prof(M, t), s)
  bread <- matrix(0, length(theta), length(theta))
  bread[1:M$p, 1:M$p] <- G$V
  bread[-(1:M$p), -(1:M$p)] <- solve(-H)
  S <- jacobian(function(t) ll_each(M, t), theta)
  if (!is.null(user)) S <- rowsum(S, user)
  nc <- nrow(S)
  V <- bread %*% crossprod(S) %*% bread * nc / (nc - 1)
  show("ll", sum(ll_each(M, theta)))
  show("b", theta)
  show("se model", sqrt(diag(bread)))
  show("se robust", sqrt(diag(V)))
  show("score sums (should be ~0)", colSums(S))
  k <- M$p - 1                              # the Wald test: every fixed coefficient but _cons
  show("robust Wald chi2", drop(t(G$beta[1:k]) %*% solve(V[1:k, 1:k], G$beta[1:k])))
  invisible(list(theta = theta, V = V, nc = nc))
}

# hsb: mathach ses sector || id: ses, covariance(unstructured)   (ML)
X <- cbind(hsb$ses, hsb$sector, 1)
M1 <- prepare(hsb$mathach, X, hsb$id,
              list(list(kind = "unstructured", Z = cbind(hsb$ses, 1), group = hsb$id)))
r1 <- robust("mixed mathach ses sector || id: ses, cov(un) vce(robust)", M1, c(-1, 0.5, 0, 1.8))
show("lme4 ll", logLik(lmer(mathach ~ ses + sector + (ses | id), hsb, REML = FALSE)))
f1 <- lme(mathach ~ ses + sector, random = ~ ses | id, data = hsb, method = "ML")
show("clubSandwich CR0 * G/(G-1), se", sqrt(diag(as.matrix(vcovCR(f1, cluster = hsb$id, type = "CR0"))) * 160 / 159))

# hsb: mathach ses || id:   (identity), clustered on district = 40 groups of 4 schools
sid <- as.integer(factor(hsb$id)); district <- (sid - 1) %/% 4
M2 <- prepare(hsb$mathach, cbind(hsb$ses, 1), hsb$id,
              list(list(kind = "identity", Z = matrix(1, nrow(hsb), 1), group = hsb$id)))
top_district <- tapply(district, hsb$id, function(v) v[1])
r2 <- robust("mixed mathach ses || id:, vce(cluster district)", M2, c(1, 1.8), user = top_district)
f2 <- lme(mathach ~ ses, random = ~ 1 | id, data = hsb, method = "ML")
show("clubSandwich CR0 * G/(G-1), se", sqrt(diag(as.matrix(vcovCR(f2, cluster = district, type = "CR0"))) * 40 / 39))
r2b <- robust("mixed mathach ses || id:, vce(robust)", M2, c(1, 1.8))

# three levels (tests/data/vce_three_level.csv): y x || school: x || class:   (independent)
d3 <- read.csv("tests/data/vce_three_level.csv")
M3 <- prepare(d3$y, cbind(d3$x, 1), d3$school,
              list(list(kind = "independent", Z = cbind(d3$x, 1), group = d3$school),
                   list(kind = "identity", Z = matrix(1, nrow(d3), 1), group = d3$class)))
r3 <- robust("mixed y x || school: x || class:, vce(robust)", M3, c(-0.5, 0.5, 0.3, 1))
show("lme4 ll", logLik(lmer(y ~ x + (1 + x || school) + (1 | class), d3, REML = FALSE)))
top_region <- tapply(d3$region, d3$school, function(v) v[1])
r3b <- robust("mixed y x || school: x || class:, vce(cluster region)", M3, c(-0.5, 0.5, 0.3, 1),
              user = top_region)

# exchangeable, two random slopes and the intercept: y x || school: x, cov(exchangeable)
M4 <- prepare(d3$y, cbind(d3$x, 1), d3$school,
              list(list(kind = "exchangeable", Z = cbind(d3$x, 1), group = d3$school)))
r4 <- robust("mixed y x || school: x, cov(exchangeable) vce(robust)", M4, c(0.5, 0.1, 1.2))
