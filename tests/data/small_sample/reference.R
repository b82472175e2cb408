## Reference numbers for tests/test_small_sample.py (engine/small_sample.py).
## Run from this folder: Rscript reference.R  (lme4, lmerTest, pbkrtest; hsb.csv is written by
## the test helper from hlmshell/sample_data/hsb.dta, or pass its path as the first argument).
suppressMessages({library(lme4); library(lmerTest); library(pbkrtest)})
options(digits = 15)
args <- commandArgs(trailingOnly = TRUE)
## bobyqa with rhoend 1e-13: lme4's default tolerances stop ~1e-5 short of the REML optimum
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-13, maxfun = 1e6),
                    check.conv.singular = "ignore")
if (!file.exists("sleepstudy.csv")) write.csv(lme4::sleepstudy, "sleepstudy.csv", row.names = FALSE)
ss <- read.csv("sleepstudy.csv")
ss$Subject <- factor(ss$Subject)
ss$i <- as.integer(ss$Subject)
## the unbalanced subset: subject i keeps Days <= 9 - 2*(i %% 4), minus rows with (Days+i) %% 7 == 0
ub <- ss[ss$Days <= 9 - 2 * (ss$i %% 4) & (ss$Days + ss$i) %% 7 != 0, ]
## Days cut into 3 levels (0-2, 3-5, 6-9) for a 2-df F test
for (nm in c("ss", "ub")) { d <- get(nm); d$dcat <- cut(d$Days, c(-Inf, 2, 5, Inf)); assign(nm, d) }

show <- function(tag, m, Ls = list()) {
  cat("##", tag, "\n")
  vc <- as.data.frame(VarCorr(m))
  cat("varcorr:", format(vc$vcov, digits = 17), "\n")
  cat("beta:", format(fixef(m), digits = 17), "\n")
  s <- summary(m, ddf = "Satterthwaite")$coefficients
  cat("satt_df:", format(s[, "df"], digits = 17), "\n")
  va <- vcovAdj(m)
  k <- summary(m, ddf = "Kenward-Roger")$coefficients
  cat("kr_df:", format(k[, "df"], digits = 17), "\n")
  cat("kr_se:", format(sqrt(diag(as.matrix(va))), digits = 17), "\n")
  cat("phiA:", format(as.vector(as.matrix(va)), digits = 17), "\n")
  for (nmL in names(Ls)) {
    L <- Ls[[nmL]]
    ct <- contestMD(m, L, ddf = "Satterthwaite")
    cat("satF", nmL, ":", format(c(ct$`F value`, ct$NumDF, ct$DenDF), digits = 17), "\n")
    kr <- KRmodcomp(m, L)
    st <- kr$stats
    cat("krF", nmL, ":", format(c(st$Fstat, st$ndf, st$ddf, st$F.scaling), digits = 17), "\n")
  }
}
m1 <- lmer(Reaction ~ Days + (Days | Subject), ss, REML = TRUE, control = ctrl)
show("sleep", m1)
m2 <- lmer(Reaction ~ Days + (Days | Subject), ub, REML = TRUE, control = ctrl)
show("sleep_unbal", m2)
Lf <- list(dcat = rbind(c(0, 0, 1, 0), c(0, 0, 0, 1)), all = cbind(0, diag(3)))
m3 <- lmer(Reaction ~ Days + dcat + (Days | Subject), ss, REML = TRUE, control = ctrl)
show("sleep_factor", m3, Lf)
m4 <- lmer(Reaction ~ Days + dcat + (Days | Subject), ub, REML = TRUE, control = ctrl)
show("sleep_factor_unbal", m4, Lf)
hsbf <- if (length(args)) args[1] else "hsb.csv"
if (file.exists(hsbf)) {
  h <- read.csv(hsbf)
  h$id <- factor(h$id)
  m5 <- lmer(mathach ~ ses + sector + (1 | id), h, REML = TRUE, control = ctrl)
  show("hsb_ri", m5, list(both = rbind(c(0, 1, 0), c(0, 0, 1))))
  m6 <- lmer(mathach ~ ses + sector + (ses | id), h, REML = TRUE, control = ctrl)
  show("hsb_rs", m6, list(both = rbind(c(0, 1, 0), c(0, 0, 1))))
}
