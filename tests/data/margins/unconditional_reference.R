# Reference numbers for margins, vce(unconditional) (tests/test_margins_unconditional.py).
# The linearized variance of a predictive margin p = mean_i f_i(b) over sampled rows:
#   phi_i = (f_i - p)/N + g' infl_i,  g = d p / d b,  infl_i = influence of unit i on b,
#   V = U/(U-1) sum_u phi_u phi_u'   (u: rows, or clusters / top-level groups)
# computed here from lm (sandwich::estfun, bread) and lmer (per-school dense
# X_g' V_g^-1 r_g with V_g = sigma^2 I + tau^2 11', times vcov(fit)); independent of hlmshell.
# Run from the repository root:  Rscript tests/data/margins/unconditional_reference.R
suppressMessages({library(haven); library(lme4); library(sandwich); library(jsonlite)})
hsb <- as.data.frame(read_dta("hlmshell/sample_data/hsb.dta"))
hsb$sector <- as.numeric(hsb$sector); hsb$ses <- as.numeric(hsb$ses)
N <- nrow(hsb)
design <- function(d) cbind(ses = d$ses, s1 = as.numeric(d$sector == 1),
                            s1ses = as.numeric(d$sector == 1) * d$ses, cons = 1)
cf <- function(d, sector = NULL, ses = NULL) { if (!is.null(sector)) d$sector <- sector;
  if (!is.null(ses)) d$ses <- ses; design(d) }
X <- design(hsb); y <- hsb$mathach
scenarios <- list(sector0 = cf(hsb, sector = 0), sector1 = cf(hsb, sector = 1),
                  at_m1_s0 = cf(hsb, 0, -1), at_m1_s1 = cf(hsb, 1, -1),
                  at_p1_s0 = cf(hsb, 0, 1), at_p1_s1 = cf(hsb, 1, 1))
# dy/dx(ses) averaged: d xb / d ses = b_ses + b_s1ses * s1
dydx_rows <- cbind(ses = 1, s1 = 0, s1ses = as.numeric(hsb$sector == 1), cons = 0)

uncond <- function(b, infl, units) {
  out <- list()
  for (nm in names(scenarios)) {
    Xc <- scenarios[[nm]]; f <- drop(Xc %*% b); p <- mean(f); g <- colMeans(Xc)
    out[[nm]] <- list(Xc = Xc, f = f, p = p, g = g)
  }
  out$dydx <- list(f = drop(dydx_rows %*% b), p = mean(dydx_rows %*% b), g = colMeans(dydx_rows))
  res <- list()
  for (nm in names(out)) {
    o <- out[[nm]]
    phi <- (o$f - o$p) / N + drop(infl %*% o$g)
    s <- rowsum(phi, units); U <- length(s)
    res[[nm]] <- c(margin = o$p, se = sqrt(U / (U - 1) * sum(s^2)))
  }
  res
}

# regress (rows; and clusters = schools)
m <- lm(mathach ~ 0 + X, data = hsb); b <- coef(m)
infl <- estfun(m) %*% bread(m) / N          # (X'X)^-1 x_i e_i
ref <- list(regress = uncond(b, infl, seq_len(N)), regress_cluster = uncond(b, infl, hsb$id))

# mixed, ML: influence of school g on b = vcov(b) X_g' V_g^-1 r_g
fit <- lmer(mathach ~ 0 + X + (1 | id), data = hsb, REML = FALSE,
            control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
b <- fixef(fit); Vb <- as.matrix(vcov(fit))
tau2 <- as.numeric(VarCorr(fit)$id); s2 <- sigma(fit)^2
infl <- matrix(0, N, 4)
for (g in unique(hsb$id)) {
  i <- which(hsb$id == g); n <- length(i)
  Vg <- s2 * diag(n) + tau2 * matrix(1, n, n)
  sc <- t(X[i, , drop = FALSE]) %*% solve(Vg, y[i] - X[i, , drop = FALSE] %*% b)
  infl[i[1], ] <- Vb %*% sc
}
ref$mixed_ml <- uncond(b, infl, hsb$id)
cat(toJSON(ref, digits = 15, auto_unbox = TRUE, pretty = TRUE), file = "tests/data/margins/unconditional_reference.json")
