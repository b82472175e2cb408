# Reference numbers for tests/test_margins.py: emmeans/emtrends where their definitions
# coincide with Stata's margins for linear predictions (predictive margins of a linear
# model = predictions at the covariates' means, factors weighted by their proportions:
# emmeans(weights = "proportional"); dy/dx = emtrends).
# Run from the repository root:  Rscript tests/data/margins/margins_reference.R
suppressMessages({library(haven); library(emmeans); library(lme4)})
emm_options(opt.digits = FALSE)
hsb <- as.data.frame(read_dta("hlmshell/sample_data/hsb.dta"))
hsb$sector <- factor(hsb$sector); hsb$female <- factor(hsb$female)
show <- function(tag, x) { s <- as.data.frame(summary(x, infer = c(TRUE, TRUE)));
  cat(tag, "\n"); print(format(s, digits = 15)) }

# 1. regress mathach c.ses##i.sector i.female
m1 <- lm(mathach ~ ses * sector + female, data = hsb)
show("R1 margins sector", emmeans(m1, ~ sector, weights = "proportional"))
show("R1 margins, at(ses=(-2 0 2))", emmeans(m1, ~ ses, at = list(ses = c(-2, 0, 2)), weights = "proportional"))
show("R1 margins, dydx(ses) at(sector=(0 1))", emtrends(m1, ~ sector, var = "ses"))
show("R1 margins female, atmeans (not the predictive margin: ses#sector averages differently)", emmeans(m1, ~ female, weights = "proportional"))

# 2. mixed mathach c.ses##i.sector i.female || id:, (ML and REML)
for (reml in c(FALSE, TRUE)) {
  m2 <- lmer(mathach ~ ses * sector + female + (1 | id), data = hsb, REML = reml,
             control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
  tag <- if (reml) "REML" else "ML"
  show(paste("M", tag, "margins sector"), emmeans(m2, ~ sector, weights = "proportional", lmer.df = "asymptotic"))
  show(paste("M", tag, "dydx(ses) at(sector)"), emtrends(m2, ~ sector, var = "ses", lmer.df = "asymptotic"))
  show(paste("M", tag, "at(ses=(-2 0 2))"), emmeans(m2, ~ ses, at = list(ses = c(-2, 0, 2)), weights = "proportional", lmer.df = "asymptotic"))
}

# 3. bodyweight: mixed weight c.time##i.diet || rat:, (ML)
bw <- read.csv("tests/data/resid/bodyweight.csv"); bw$diet <- factor(bw$diet)
m3 <- lmer(weight ~ time * diet + (1 | rat), data = bw, REML = FALSE)
show("B margins diet", emmeans(m3, ~ diet, weights = "proportional", lmer.df = "asymptotic"))
show("B dydx(time) at(diet)", emtrends(m3, ~ diet, var = "time", lmer.df = "asymptotic"))
