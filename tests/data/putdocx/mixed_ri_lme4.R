# Reference for tests/test_putdocx.py: mathach ~ ses + (1 | id), ML (Stata mixed's default), hsb.
# Run from the project root: Rscript tests/data/putdocx/mixed_ri_lme4.R
library(lme4); library(haven); library(jsonlite)
d <- read_dta("hlmshell/sample_data/hsb.dta")
m <- lmer(mathach ~ ses + (1 | id), data = d, REML = FALSE)
vc <- as.data.frame(VarCorr(m))
out <- list(b = unname(fixef(m)), se = unname(sqrt(diag(as.matrix(vcov(m))))),
            var_cons = vc$vcov[vc$grp == "id"], var_e = vc$vcov[vc$grp == "Residual"])
write(toJSON(out, digits = 12, auto_unbox = TRUE), "tests/data/putdocx/mixed_ri_lme4.json")
