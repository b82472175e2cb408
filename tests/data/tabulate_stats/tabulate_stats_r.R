# Reference numbers for tests/test_tabulate_stats.py: chisq.test, fisher.test, and gamma /
# tau-b with their ASEs written out from Agresti (2002, sec. 2.4.5 / 3.4) -- independent of
# hlmshell's numpy code. Run: Rscript tests/data/tabulate_stats/tabulate_stats_r.R > tests/data/tabulate_stats/reference.json
tabs <- list(
  dose = matrix(c(20,10,2, 16,12,4, 10,16,6), 3, byrow = TRUE),
  two = matrix(c(20,10, 16,12), 2, byrow = TRUE),
  small = matrix(c(3,1, 1,3), 2, byrow = TRUE),
  wide = matrix(c(5,0,3,2,1, 1,4,2,0,3), 2, byrow = TRUE),
  sq = matrix(c(4,1,0, 2,3,1, 0,2,5, 1,0,3), 4, byrow = TRUE),
  mid = matrix(c(6,4,2,6, 3,3,5,2, 5,4,5,2, 5,1,2,5), 4, byrow = TRUE)
)
pairs <- function(t) {
  I <- nrow(t); J <- ncol(t); A <- D <- t * 0
  for (i in 1:I) for (j in 1:J) {
    A[i, j] <- sum(t[row(t) > i & col(t) > j]) + sum(t[row(t) < i & col(t) < j])
    D[i, j] <- sum(t[row(t) > i & col(t) < j]) + sum(t[row(t) < i & col(t) > j])
  }
  list(A = A, D = D)
}
out <- lapply(tabs, function(t) {
  n <- sum(t); pq <- pairs(t); P <- sum(t * pq$A); Q <- sum(t * pq$D)
  g <- (P - Q) / (P + Q)
  ase_g <- sqrt(16 / (P + Q)^4 * sum(t * (Q * pq$A - P * pq$D)^2))
  wr <- n^2 - sum(rowSums(t)^2); wc <- n^2 - sum(colSums(t)^2)
  tb <- (P - Q) / sqrt(wr * wc)
  v <- outer(rowSums(t) * wc, rep(1, ncol(t))) + outer(rep(1, nrow(t)), colSums(t) * wr)
  ase_tb <- sqrt(sum(t * (2 * sqrt(wr * wc) * (pq$A - pq$D) + tb * v)^2) - n^3 * tb^2 * (wr + wc)^2) / (wr * wc)
  x <- rep(row(t), t); y <- rep(col(t), t)
  ch <- suppressWarnings(chisq.test(t, correct = FALSE))
  E <- ch$expected
  G2 <- 2 * sum(ifelse(t > 0, t * log(t / E), 0))
  V <- if (all(dim(t) == 2)) (t[1,1]*t[2,2] - t[1,2]*t[2,1]) / sqrt(prod(rowSums(t)) * prod(colSums(t))) else
    sqrt(ch$statistic / n / (min(dim(t)) - 1))
  res <- list(table = lapply(seq_len(nrow(t)), function(i) t[i, ]),
              chi2 = unname(ch$statistic), p = ch$p.value, chi2_lr = G2,
              p_lr = pchisq(G2, ch$parameter, lower.tail = FALSE), CramersV = unname(V),
              gamma = g, ase_gam = ase_g, taub = tb, ase_taub = ase_tb,
              taub_cor = cor(x, y, method = "kendall"),
              p_exact = fisher.test(t)$p.value, expected = lapply(seq_len(nrow(t)), function(i) E[i, ]))
  if (all(dim(t) == 2)) {
    res$p1_exact <- min(fisher.test(t, alternative = "less")$p.value,
                        fisher.test(t, alternative = "greater")$p.value)
  }
  res
})
cat(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE))
