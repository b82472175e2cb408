# Reference numbers for tests/test_teffects.py (R's Matching package, Sekhon 2011):
# nearest-neighbour matching on z and x1 in the Mahalanobis metric (Matching standardizes X,
# so the inverse correlation matrix is that metric), ties within 1e-12, Abadie-Imbens
# robust variance with one within-group match (Var.calc = 1), optional bias adjustment.
# Run: Rscript tests/data/teffects/r_matching.R > tests/data/teffects/r_matching.json
suppressMessages(library(Matching))
d <- read.csv("tests/data/teffects/synth.csv")
X <- cbind(d$z, d$x1)
W <- solve(cor(X))
out <- c()
for (est in c("ATE", "ATT")) {
  for (case in c("m1", "m2", "bias")) {
    M <- if (case == "m2") 2 else 1
    if (case == "bias") {
      m <- Match(Y = d$y, Tr = d$t, X = X, estimand = est, M = M, Weight = 3, Weight.matrix = W,
                 Var.calc = 1, distance.tolerance = 1e-12, BiasAdjust = TRUE, Z = cbind(d$z, d$x2))
    } else {
      m <- Match(Y = d$y, Tr = d$t, X = X, estimand = est, M = M, Weight = 3, Weight.matrix = W,
                 Var.calc = 1, distance.tolerance = 1e-12)
    }
    out <- c(out, sprintf('"%s_%s": [%.12g, %.12g]', tolower(est), case, m$est, m$se))
  }
}
cat("{", paste(out, collapse = ",\n "), "}\n")
