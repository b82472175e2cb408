# Reference numbers for tests/test_contrast.py and tests/test_pwcompare.py: Stata's contrast
# and pwcompare work on marginal linear predictions with balanced factor margins and
# continuous covariates at their means ("asbalanced"), which is emmeans' default reference
# grid (equal weights, covariates at their means). Contrasts, their SEs, joint Wald tests
# (joint_tests / test(joint = TRUE)) and pairwise comparisons (pairs) with the adjustments.
# Run from the repository root:  Rscript tests/data/margins/contrast_reference.R
suppressMessages({library(haven); library(emmeans); library(lme4); library(jsonlite)})
emm_options(opt.digits = FALSE)
ctl <- lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5, rhobeg = 1e-3, rhoend = 1e-12))

hsb <- as.data.frame(read_dta("hlmshell/sample_data/hsb.dta"))
hsb$sector <- factor(hsb$sector); hsb$female <- factor(hsb$female)
bw <- read.csv("tests/data/resid/bodyweight.csv"); bw$diet <- factor(bw$diet)

tab <- function(x, adjust = "none") {
  s <- as.data.frame(summary(x, infer = c(TRUE, TRUE), adjust = adjust))
  list(estimate = s$estimate, se = s$SE, p = s$p.value, lo = s[[grep("(lower[.]CL|LCL)$", names(s))]], hi = s[[grep("(upper[.]CL|UCL)$", names(s))]],
       label = as.character(s$contrast))
}
emm <- function(x) { s <- as.data.frame(summary(x))
  list(emmean = s$emmean, se = s$SE, V = unname(vcov(x))) }
# joint Wald tests from the contrasts' estimates and vcov (test(joint = TRUE) and joint_tests
# round F to 3 decimals): chi2 = c' V^-1 c, F = chi2 / df
joint <- function(con, df2 = Inf) { s <- as.data.frame(summary(con)); c <- s$estimate
  V <- vcov(con); r <- qr(V)$rank; chi2 <- drop(t(c) %*% solve(V, c))
  list(df1 = r, chi2 = chi2, F = chi2 / r,
       p = if (is.finite(df2)) pf(chi2 / r, r, df2, lower.tail = FALSE) else pchisq(chi2, r, lower.tail = FALSE)) }
helmert <- function(k) { m <- list(); for (i in 1:(k - 1)) { v <- rep(0, k); v[i] <- 1
  v[(i + 1):k] <- -1 / (k - i); m[[paste0("(", i, " vs >)")]] <- v }; m }
rhelmert <- function(k) { m <- list(); for (i in 2:k) { v <- rep(0, k); v[i] <- 1
  v[1:(i - 1)] <- -1 / (i - 1); m[[paste0("(", i, " vs <)")]] <- v }; m }
orthonormal <- function(k) { P <- contr.poly(k); m <- list()
  for (d in 1:(k - 1)) m[[c("linear", "quadratic", "cubic", "quartic")[d]]] <- P[, d]; m }

hsb_two <- function(fit, df, df2 = Inf) {
  e1 <- emmeans(fit, ~ sector, lmer.df = df); e2 <- emmeans(fit, ~ sector * female, lmer.df = df)
  ef <- emmeans(fit, ~ sector | female, lmer.df = df)
  simple <- contrast(ef, "trt.vs.ctrl")
  list(
    emm_sector = emm(e1), emm_cells = emm(e2),
    joint_sector = joint(contrast(e1, "trt.vs.ctrl"), df2),
    joint_female = joint(contrast(emmeans(fit, ~ female, lmer.df = df), "trt.vs.ctrl"), df2),
    joint_inter = joint(contrast(e2, interaction = "trt.vs.ctrl"), df2),
    r_sector = tab(contrast(e1, "trt.vs.ctrl")),
    inter = tab(contrast(e2, interaction = "trt.vs.ctrl")),
    simple = tab(simple), simple_tests = lapply(split(seq_len(2), 1:2), function(i) joint(simple[i], df2)),
    simple_joint = joint(update(simple, by = NULL), df2),
    pw_cells = tab(pairs(e2, reverse = TRUE)),
    pw_cells_bonf = tab(pairs(e2, reverse = TRUE), "bonferroni"),
    pw_cells_sidak = tab(pairs(e2, reverse = TRUE), "sidak"),
    pw_cells_scheffe = tab(pairs(e2, reverse = TRUE), "scheffe"))
}
out <- list()
m1 <- lm(mathach ~ sector * female + ses, data = hsb)
out$hsb_regress <- c(hsb_two(m1, "asymptotic", df.residual(m1)), list(df_r = df.residual(m1)))
m2 <- lmer(mathach ~ sector * female + ses + (1 | id), data = hsb, REML = FALSE, control = ctl)
out$hsb_mixed <- hsb_two(m2, "asymptotic")

body <- function(fit, df, df2 = Inf) {
  e <- emmeans(fit, ~ diet, lmer.df = df)
  list(emm = emm(e),
    r = tab(contrast(e, "trt.vs.ctrl")), rb3 = tab(contrast(e, "trt.vs.ctrl", ref = 3)),
    ar = tab(contrast(e, "consec")), a = tab(contrast(e, "consec", reverse = TRUE)),
    g = tab(contrast(e, "eff")), h = tab(contrast(e, helmert(3))), j = tab(contrast(e, rhelmert(3))),
    p = tab(contrast(e, orthonormal(3))), joint = joint(contrast(e, "trt.vs.ctrl"), df2),
    r_bonf = tab(contrast(e, "trt.vs.ctrl"), "bonferroni"), r_sidak = tab(contrast(e, "trt.vs.ctrl"), "sidak"),
    r_scheffe = tab(contrast(e, "trt.vs.ctrl"), "scheffe"),
    pw = tab(pairs(e, reverse = TRUE)), pw_bonf = tab(pairs(e, reverse = TRUE), "bonferroni"),
    pw_sidak = tab(pairs(e, reverse = TRUE), "sidak"), pw_scheffe = tab(pairs(e, reverse = TRUE), "scheffe"),
    pw_tukey = tab(pairs(e, reverse = TRUE), "tukey"))
}
m3 <- lm(weight ~ time * diet, data = bw)
out$body_regress <- c(body(m3, "asymptotic", df.residual(m3)), list(df_r = df.residual(m3)))
m4 <- lmer(weight ~ time * diet + (1 | rat), data = bw, REML = FALSE, control = ctl)
out$body_mixed <- body(m4, "asymptotic")
out$versions <- list(R = R.version.string, emmeans = as.character(packageVersion("emmeans")),
                     lme4 = as.character(packageVersion("lme4")))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/data/margins/contrast_reference.json")
