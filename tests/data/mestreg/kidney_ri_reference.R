# Independent marginal likelihood of a random-intercept parametric survival model:
# per patient integrate exp(sum_i l_i(xb_i + u)) N(u; 0, s2) du by R's integrate(); maximise by optim (BFGS) then nlm polish.
library(survival)
k <- read.csv("/work/main/tests/data/mestreg/kidney.csv")
X <- cbind(k$age/50, k$female, 1)   # age scaled while maximising (a flat direction otherwise); scaled back below
ids <- split(seq_len(nrow(k)), k$id)
recll <- function(dist, aft, eta, anc, t, d) {
  if (dist %in% c("exponential","weibull")) {
    p <- if (dist=="exponential") 1 else exp(anc)
    le <- if (aft) -p*eta else eta
    return(d*(le + log(p) + (p-1)*log(t)) - exp(le)*t^p)
  }
  s <- exp(anc)
  w <- (log(t)-eta)/s
  if (dist=="lognormal") {
    return(ifelse(d>0, dnorm(w, log=TRUE) - log(s) - log(t), pnorm(w, lower.tail=FALSE, log.p=TRUE)))
  }
  sp <- log1p(exp(w))
  return(ifelse(d>0, w - log(s) - log(t) - 2*sp, -sp))
}
# Gauss-Hermite rule (Golub-Welsch) for the standard normal: 80 nodes
gh <- function(n) { i <- 1:(n-1); J <- matrix(0, n, n); J[cbind(i, i+1)] <- sqrt(i); J[cbind(i+1, i)] <- sqrt(i)
  e <- eigen(J, symmetric=TRUE); list(x=e$values, w=e$vectors[1,]^2) }
G <- gh(80)
gid <- match(k$id, unique(k$id))
negll <- function(par, dist, aft) {
  b <- par[1:3]; anc <- if (dist=="exponential") 0 else par[4]; sd <- exp(par[length(par)])
  xb <- drop(X %*% b)
  # records x nodes
  L <- sapply(G$x, function(z) recll(dist, aft, xb + sd*z, anc, k$time, k$status))
  S <- rowsum(L, gid)                    # groups x nodes
  m <- apply(S, 1, max)
  -sum(m + log(drop(exp(S - m) %*% G$w)))
}
out <- list()
for (cfg in list(list("weibull", FALSE, c(0, -1, -4, 0, log(0.7))),
                 list("exponential", FALSE, c(0, -1, -4, log(0.7))),
                 list("lognormal", TRUE, c(0, 1, 4, 0, log(0.7))),
                 list("loglogistic", TRUE, c(0, 1, 4, -0.5, log(0.7))),
                 list("weibull", TRUE, c(0, 1, 4, 0, log(0.7))))) {
  dist <- cfg[[1]]; aft <- cfg[[2]]
  o <- optim(cfg[[3]], negll, dist=dist, aft=aft, method="BFGS", control=list(reltol=1e-14, maxit=500))
  o2 <- nlm(negll, o$par, dist=dist, aft=aft, gradtol=1e-10, steptol=1e-12, hessian=TRUE)
  o3 <- nlminb(o2$estimate, negll, dist=dist, aft=aft, control=list(rel.tol=1e-15, x.tol=1e-12, iter.max=1000, eval.max=2000))
  if (o3$objective < o2$minimum) { o2$estimate <- o3$par; o2$minimum <- o3$objective;
    o2$hessian <- optimHess(o3$par, negll, dist=dist, aft=aft) }
  sc <- c(50, 1, 1, rep(1, length(o2$estimate) - 3))
  o2$estimate <- o2$estimate / sc
  V <- solve(o2$hessian) / outer(sc, sc)
  key <- paste0(dist, if (aft) "_aft" else "_ph")
  out[[key]] <- list(ll=-o2$minimum, b=o2$estimate[1:3], anc=if (dist=="exponential") NULL else o2$estimate[4],
                     var=exp(2*o2$estimate[length(o2$estimate)]), se_b=sqrt(diag(V))[1:3])
  cat(key, -o2$minimum, o2$estimate, exp(2*o2$estimate[length(o2$estimate)]), "\n")
}
library(jsonlite)
writeLines(toJSON(out, digits=12, auto_unbox=TRUE, pretty=TRUE), "/work/main/tests/data/mestreg/kidney_ri_reference.json")
