# Reference numbers for tests/test_factor*.py and tests/test_alpha_icc.py, computed in base R
# (factanal, prcomp, varimax, a Stata-style promax written out below, anova mean squares).
# Run from this directory: Rscript reference.R  (writes reference.json)
library(jsonlite)
d <- read.csv("attitude.csv")
X <- as.matrix(d)
R <- cor(X)
p <- ncol(X)
n <- nrow(X)
# Stata's sign convention: each column of eigenvectors/loadings sums to a positive number
signfix <- function(M) { s <- sign(colSums(M)); s[s == 0] <- 1; sweep(M, 2, s, "*") }
# Stata's ordering of rotated factors: by variance, largest first, then signs
ordfix <- function(M) signfix(M[, order(-colSums(M^2)), drop = FALSE])

out <- list()
# --- pcf: eigen of R, eigenvalues >= 1
e <- eigen(R, symmetric = TRUE)
k <- sum(e$values >= 1)
Lpcf <- signfix(e$vectors[, 1:k] %*% diag(sqrt(e$values[1:k])))
out$pcf <- list(ev = e$values, L = Lpcf, psi = 1 - rowSums(Lpcf^2), f = k)
# --- pf: SMC on the diagonal
smc <- 1 - 1 / diag(solve(R))
Rr <- R; diag(Rr) <- smc
e2 <- eigen(Rr, symmetric = TRUE)
k2 <- sum(e2$values > 5e-6)
Lpf <- signfix(e2$vectors[, 1:k2] %*% diag(sqrt(e2$values[1:k2])))
out$pf <- list(ev = e2$values, L = Lpf, psi = 1 - rowSums(Lpf^2), f = k2, smc = smc)
# --- ipf with 2 factors: iterate communalities from SMC until they settle
h2 <- smc
for (it in 1:5000) {
  Rr <- R; diag(Rr) <- h2
  ee <- eigen(Rr, symmetric = TRUE)
  L <- ee$vectors[, 1:2] %*% diag(sqrt(ee$values[1:2]))
  new <- rowSums(L^2)
  if (max(abs(new - h2)) < 1e-9) { h2 <- new; break }
  h2 <- new
}
Rr <- R; diag(Rr) <- h2
ee <- eigen(Rr, symmetric = TRUE)
Lipf <- signfix(ee$vectors[, 1:2] %*% diag(sqrt(ee$values[1:2])))
out$ipf <- list(ev = ee$values, L = Lipf, psi = 1 - rowSums(Lipf^2))
# --- ml with 2 factors (factanal), its LR statistic and criterion
fa <- factanal(X, 2, rotation = "none", scores = "regression", control = list(opt = list(maxit = 10000, factr = 1e3)))
fb <- factanal(X, 2, rotation = "none", scores = "Bartlett", control = list(opt = list(maxit = 10000, factr = 1e3)))
sg <- sign(colSums(unclass(fa$loadings)))     # the scores follow their loadings' signs
out$ml <- list(psi = unname(fa$uniquenesses), L = signfix(unclass(fa$loadings)),
               chi2 = unname(fa$STATISTIC), df = unname(fa$dof), objective = unname(fa$criteria["objective"]),
               scores_reg = sweep(fa$scores, 2, sg, "*"), scores_bart = sweep(fb$scores, 2, sg, "*"))
# --- chi2 independent vs saturated (Bartlett)
out$chi2_i <- -(n - 1 - (2 * p + 5) / 6) * log(det(R))
# --- varimax of the pcf loadings, without and with Kaiser normalization
out$varimax <- ordfix(unclass(varimax(Lpcf, normalize = FALSE, eps = 1e-14)$loadings))
out$varimax_kaiser <- ordfix(unclass(varimax(Lpcf, normalize = TRUE, eps = 1e-14)$loadings))
# --- promax(3) as Stata describes it: varimax (no normalization), target V|V|^(m-1),
#     least-squares transformation rescaled to unit-variance factors
promax_stata <- function(x, m = 3) {
  v <- varimax(x, normalize = FALSE, eps = 1e-14)$loadings
  V <- unclass(v)
  Q <- V * abs(V)^(m - 1)
  U <- lm.fit(V, Q)$coefficients
  dd <- diag(solve(t(U) %*% U))
  U <- U %*% diag(sqrt(dd))
  V %*% U
}
Lp <- promax_stata(Lpcf)
out$promax <- ordfix(Lp)
h <- sqrt(rowSums(Lpcf^2))
out$promax_kaiser <- ordfix(promax_stata(Lpcf / h) * h)
# --- regression scores of the varimax-rotated pcf solution: Z R^-1 L
Z <- scale(X)
out$scores_varimax <- Z %*% solve(R, out$varimax)
# --- KMO
Ri <- solve(R)
Q <- -Ri / sqrt(outer(diag(Ri), diag(Ri)))
diag(Q) <- 0
R0 <- R; diag(R0) <- 0
out$kmo <- list(per = colSums(R0^2) / (colSums(R0^2) + colSums(Q^2)),
                overall = sum(R0^2) / (sum(R0^2) + sum(Q^2)))
# --- pca: prcomp of standardized data; 2 components' scores; covariance PCA eigenvalues
pc <- prcomp(X, scale. = TRUE)
sp <- sign(colSums(pc$rotation)); sp[sp == 0] <- 1
out$pca <- list(ev = pc$sdev^2, V = signfix(pc$rotation), scores = sweep(pc$x[, 1:2], 2, sp[1:2], "*"))
pcc <- prcomp(X, scale. = FALSE)
out$pca_cov <- list(ev = pcc$sdev^2, V = signfix(pcc$rotation))
# unexplained variance with 2 components
V2 <- out$pca$V[, 1:2]
out$pca$unexplained2 <- 1 - rowSums(V2^2 %*% diag(pc$sdev[1:2]^2))

# --- alpha (complete data): classic formula and item statistics
alpha_of <- function(M) { k <- ncol(M); k / (k - 1) * (1 - sum(apply(M, 2, var)) / var(rowSums(M))) }
out$alpha <- list(alpha = alpha_of(X), cov = mean(cov(X)[upper.tri(cov(X))]),
                  itc = sapply(1:p, function(i) cor(X[, i], rowSums(X))),
                  irc = sapply(1:p, function(i) cor(X[, i], rowSums(X[, -i]))),
                  alpha_wo = sapply(1:p, function(i) alpha_of(X[, -i])),
                  std_alpha = { rb <- mean(R[upper.tri(R)]); p * rb / (1 + (p - 1) * rb) })
# alpha with pairwise-complete covariances on data with holes (rows 3, 7 of col 2; row 10 of col 5)
Xm <- X; Xm[c(3, 7), 2] <- NA; Xm[10, 5] <- NA
Cm <- cov(Xm, use = "pairwise.complete.obs")
cb <- mean(Cm[upper.tri(Cm)]); vb <- mean(diag(Cm))
out$alpha_missing <- list(alpha = p * cb / (vb + (p - 1) * cb), cov = cb,
                          alpha_casewise = alpha_of(na.omit(Xm)))

# --- ICC on Shrout & Fleiss's judges (6 targets x 4 judges), from anova mean squares
j <- read.csv("judges.csv")
j$target <- factor(j$target); j$judge <- factor(j$judge)
a2 <- anova(lm(rating ~ target + judge, data = j))
a1 <- anova(lm(rating ~ target, data = j))
MSR <- a2["target", "Mean Sq"]; MSC <- a2["judge", "Mean Sq"]; MSE <- a2["Residuals", "Mean Sq"]
MSW <- a1["Residuals", "Mean Sq"]
nn <- 6; kk <- 4; al <- 0.05
F1 <- MSR / MSW; FL <- F1 / qf(1 - al / 2, nn - 1, nn * (kk - 1)); FU <- F1 * qf(1 - al / 2, nn * (kk - 1), nn - 1)
one <- list(i = c((MSR - MSW) / (MSR + (kk - 1) * MSW), (FL - 1) / (FL + kk - 1), (FU - 1) / (FU + kk - 1)),
            avg = c((MSR - MSW) / MSR, 1 - 1 / FL, 1 - 1 / FU), F = F1, p = pf(F1, nn - 1, nn * (kk - 1), lower.tail = FALSE))
F3 <- MSR / MSE; FL3 <- F3 / qf(1 - al / 2, nn - 1, (nn - 1) * (kk - 1)); FU3 <- F3 * qf(1 - al / 2, (nn - 1) * (kk - 1), nn - 1)
cons <- list(i = c((MSR - MSE) / (MSR + (kk - 1) * MSE), (FL3 - 1) / (FL3 + kk - 1), (FU3 - 1) / (FU3 + kk - 1)),
             avg = c((MSR - MSE) / MSR, 1 - 1 / FL3, 1 - 1 / FU3), F = F3)
# absolute agreement, McGraw & Wong (1996) case 2A with Satterthwaite df
r1 <- (MSR - MSE) / (MSR + (kk - 1) * MSE + kk * (MSC - MSE) / nn)
a <- kk * r1 / (nn * (1 - r1)); b <- 1 + kk * r1 * (nn - 1) / (nn * (1 - r1))
v <- (a * MSC + b * MSE)^2 / ((a * MSC)^2 / (kk - 1) + (b * MSE)^2 / ((nn - 1) * (kk - 1)))
Fs <- qf(1 - al / 2, nn - 1, v); Fs2 <- qf(1 - al / 2, v, nn - 1)
lb <- nn * (MSR - Fs * MSE) / (Fs * (kk * MSC + (kk * nn - kk - nn) * MSE) + nn * MSR)
ub <- nn * (Fs2 * MSR - MSE) / (kk * MSC + (kk * nn - kk - nn) * MSE + nn * Fs2 * MSR)
lbk <- nn * (MSR - Fs * MSE) / (Fs * (MSC - MSE) + nn * MSR)
ubk <- nn * (Fs2 * MSR - MSE) / (MSC - MSE + nn * Fs2 * MSR)
abs_ <- list(i = c(r1, lb, ub), avg = c((MSR - MSE) / (MSR + (MSC - MSE) / nn), lbk, ubk), F = F3)
# test of ICC(A,1) = 0.2
r0 <- 0.2
a0 <- kk * r0 / (nn * (1 - r0)); b0 <- 1 + kk * r0 * (nn - 1) / (nn * (1 - r0))
v0 <- (a0 * MSC + b0 * MSE)^2 / ((a0 * MSC)^2 / (kk - 1) + (b0 * MSE)^2 / ((nn - 1) * (kk - 1)))
abs_$F_r02 <- MSR / (a0 * MSC + b0 * MSE); abs_$df2_r02 <- v0
out$icc <- list(oneway = one, consistency = cons, absolute = abs_)

writeLines(toJSON(out, digits = NA, matrix = "rowmajor", auto_unbox = TRUE), "reference.json")
