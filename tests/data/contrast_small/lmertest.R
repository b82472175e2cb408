# Reference numbers for tests/test_contrast_small.py: lmerTest contest/contestMD (Kenward-Roger,
# Satterthwaite) on the REML fit of y ~ agent * trial + (1 | pid) + (0 + trial | pid) (mixed's
# `|| pid: trial`, independent). Rows of L: the agent margins at the mean of trial, as contrast
# and pwcompare take them (asbalanced); inter and slope_pairs: agent#c.trial's slopes. Run: Rscript lmertest.R > lmertest.json
# (agents.csv: 24 participants x 3 agents x trials 2..10, 20% of cells dropped at random).
suppressMessages({library(lmerTest); library(jsonlite)})
d <- read.csv("agents.csv")
d$agent <- factor(d$agent)
m <- lmer(y ~ agent * trial + (1 | pid) + (0 + trial | pid), data = d, REML = TRUE)
Tb <- mean(d$trial)
L_joint <- rbind(c(0, 1, 0, 0, Tb, 0), c(0, 0, 1, 0, 0, Tb))
L_pairs <- rbind(c(0, 1, 0, 0, Tb, 0), c(0, 0, 1, 0, 0, Tb), c(0, -1, 1, 0, -Tb, Tb))
L_marg <- rbind(c(1, 0, 0, Tb, 0, 0), c(1, 1, 0, Tb, Tb, 0), c(1, 0, 1, Tb, 0, Tb))
L_inter <- rbind(c(0, 0, 0, 0, 1, 0), c(0, 0, 0, 0, 0, 1))
L_slopes <- rbind(c(0, 0, 0, 0, 1, 0), c(0, 0, 0, 0, 0, 1), c(0, 0, 0, 0, -1, 1))
out <- list(fixef = unname(fixef(m)), trial_mean = Tb)
for (ddf in c("Kenward-Roger", "Satterthwaite")) {
  key <- if (ddf == "Kenward-Roger") "kroger" else "satterthwaite"
  j <- contestMD(m, L_joint, ddf = ddf)
  ji <- contestMD(m, L_inter, ddf = ddf)
  one <- function(L) {
    r <- do.call(rbind, lapply(seq_len(nrow(L)), function(i) contest1D(m, L[i, ], ddf = ddf)))
    list(estimate = r$Estimate, se = r[["Std. Error"]], df = r$df, t = r[["t value"]],
         p = r[["Pr(>|t|)"]])
  }
  out[[key]] <- list(joint = list(F = j[["F value"]], df1 = j$NumDF, ddf = j$DenDF, p = j[["Pr(>F)"]]),
                     inter = list(F = ji[["F value"]], df1 = ji$NumDF, ddf = ji$DenDF, p = ji[["Pr(>F)"]]),
                     pairs = one(L_pairs), margins = one(L_marg),
                     slope_pairs = one(L_slopes))
}
cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE))
