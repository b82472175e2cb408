# Reference numbers of tests/test_crossed_lme4.py: lme4's lmer fits (R 4.x, lme4 1.1-x), with
# tight optimiser tolerances so that the estimates are not limited by lme4's default stopping
# rule. Run from the project root:
#
#   python tests/test_crossed_lme4.py DIR      # writes DIR/crossed.csv and DIR/partial.csv
#   Rscript tests/data/crossed_lme4.R DIR      # prints ll, fixed effects, variance components
#
# penicillin.csv and sleepstudy.csv (tests/data) are lme4's own data sets `Penicillin`
# (Davies & Goldsmith 1972: diameter of growth-inhibition zones, 24 plates x 6 samples) and
# `sleepstudy` (Belenky et al. 2003: reaction times, 18 subjects x 10 days), written out by this
# script with factor levels as integer codes (plate a..x -> 1..24, sample A..F -> 1..6).
suppressMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args)) args[1] else "."
ctl <- lmerControl(optimizer = "nloptwrap", calc.derivs = FALSE,
                   optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-15, xtol_rel = 1e-14, maxeval = 100000))
show <- function(tag, m) {
  cat(sprintf("## %s\nll %.15g\n", tag, as.numeric(logLik(m))))
  cat("beta", sprintf("%.15g", fixef(m)), "\n")
  vc <- as.data.frame(VarCorr(m))
  for (i in seq_len(nrow(vc))) cat(sprintf("vc %s %s %s %.15g\n", vc$grp[i], vc$var1[i], vc$var2[i], vc$vcov[i]))
}
d <- read.csv(file.path(dir, "crossed.csv")); d$subj <- factor(d$subj); d$item <- factor(d$item)
show("crossed ML", lmer(y ~ x + (1|item) + (1|subj), d, REML = FALSE, control = ctl))
show("crossed REML", lmer(y ~ x + (1|item) + (1|subj), d, REML = TRUE, control = ctl))
show("crossed slope ML", lmer(y ~ x + (1|item) + (1 + x|subj), d, REML = FALSE, control = ctl))
p <- read.csv(file.path(dir, "partial.csv")); p$school <- factor(p$school); p$klass <- factor(p$klass); p$item <- factor(p$item)
show("partial ML", lmer(y ~ x + (1|item) + (1|school) + (1|klass), p, REML = FALSE, control = ctl))
show("partial REML", lmer(y ~ x + (1|item) + (1|school) + (1|klass), p, REML = TRUE, control = ctl))
data(Penicillin)
pen <- data.frame(diameter = Penicillin$diameter, plate = as.integer(Penicillin$plate), sample = as.integer(Penicillin$sample))
write.csv(pen, file.path(dir, "penicillin.csv"), row.names = FALSE)
show("penicillin ML", lmer(diameter ~ 1 + (1|plate) + (1|sample), pen, REML = FALSE, control = ctl))
show("penicillin REML", lmer(diameter ~ 1 + (1|plate) + (1|sample), pen, REML = TRUE, control = ctl))
data(sleepstudy)
sl <- data.frame(Reaction = sleepstudy$Reaction, Days = sleepstudy$Days, Subject = as.integer(as.character(sleepstudy$Subject)))
write.csv(sl, file.path(dir, "sleepstudy.csv"), row.names = FALSE)
show("sleepstudy ML", lmer(Reaction ~ Days + (Days|Subject), sl, REML = FALSE, control = ctl))
