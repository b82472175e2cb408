# Reference sums of squares for tests/test_anova.py: car::Anova type III with sum-to-zero
# (unweighted, and with frequency or normalised analytic weights)
# contrasts (Stata's partial SS when every cell has data) and stats::anova (sequential, type I)
# on the hsb schools with id < 1500 plus a three-level SES factor. Run from the project root:
#   Rscript tests/data/anova/make_anova_reference.R
library(haven)
library(car)
d <- as.data.frame(zap_labels(read_dta("hlmshell/sample_data/hsb.dta")))
d <- d[d$id < 1500, ]
d$sesg <- factor((d$ses > -0.5) + (d$ses > 0.5))
d$sector <- factor(d$sector); d$minority <- factor(d$minority); d$female <- factor(d$female)
options(contrasts = c("contr.sum", "contr.poly"))
out <- list()
fit <- function(f) lm(f, data = d)
m1 <- fit(mathach ~ sector * sesg)
a3 <- Anova(m1, type = "III")
out$twoway <- list(terms = c("sector", "sesg", "sector#sesg"), ss = unname(a3[2:4, "Sum Sq"]),
                   df = unname(a3[2:4, "Df"]), rss = deviance(m1), N = nrow(d))
m2 <- fit(mathach ~ sesg * female + minority + ses)
a3 <- Anova(m2, type = "III")
out$ancova <- list(terms = rownames(a3)[2:6], ss = unname(a3[2:6, "Sum Sq"]), df = unname(a3[2:6, "Df"]),
                   rss = deviance(m2))
m3 <- fit(mathach ~ sector * ses)
a3 <- Anova(m3, type = "III")
out$slopes <- list(ss = unname(a3[2:4, "Sum Sq"]), rss = deviance(m3))
a1 <- anova(fit(mathach ~ sesg + sector + sesg:sector))
out$seq <- list(ss = unname(a1[1:3, "Sum Sq"]), df = unname(a1[1:3, "Df"]))
cf <- coef(lm(mathach ~ sector * sesg, data = d, contrasts = list(sector = "contr.treatment", sesg = "contr.treatment")))
out$coef <- unname(cf)
# a squared covariate interacted with a factor: sector##c.ses##c.ses
ms <- fit(mathach ~ sector * (ses + I(ses^2)))
as3 <- Anova(ms, type = "III")
out$square <- list(terms = rownames(as3)[2:6], ss = unname(as3[2:6, "Sum Sq"]), rss = deviance(ms))
# weighted: frequency weights w = 1 + id %% 3 and the same as analytic weights (normalized)
d$w <- 1 + d$id %% 3
mw <- lm(mathach ~ sector * sesg, data = d, weights = w)
aw <- Anova(mw, type = "III")
out$fweight <- list(ss = unname(aw[2:4, "Sum Sq"]), rss = deviance(mw), sumw = sum(d$w))
d$wa <- d$w * nrow(d) / sum(d$w)
ma <- lm(mathach ~ sector * sesg, data = d, weights = wa)
aa <- Anova(ma, type = "III")
out$aweight <- list(ss = unname(aa[2:4, "Sum Sq"]), rss = deviance(ma))
writeLines(jsonlite::toJSON(out, digits = 15, auto_unbox = TRUE), "tests/data/anova/anova_reference.json")
