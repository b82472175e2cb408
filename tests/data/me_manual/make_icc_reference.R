# Independent variance estimates for the estat icc tests of tests/test_me_manual_fixes.py:
# lme4::glmer (cloglog, 25 adaptive quadrature points: the exact integral, whatever the curvature used) on tests/data/glmm/contraception.csv and ordinal::clmm
# (probit, Laplace) on tests/data/glmm/ordinal.csv. Run from the project root.
suppressMessages({library(lme4); library(ordinal); library(jsonlite)})
d <- read.csv("tests/data/glmm/contraception.csv")
m <- glmer(use ~ age + urban + (1|district), data=d, family=binomial(link="cloglog"), nAGQ=25,
           control=glmerControl(optimizer="bobyqa", optCtrl=list(maxfun=1e5)))
o <- read.csv("tests/data/glmm/ordinal.csv")
p <- clmm(factor(y) ~ age + urban + (1|district), data=o, link="probit", nAGQ=1, control=clmm.control(gradTol=1e-8))
out <- list(cloglog_var=VarCorr(m)$district[1], cloglog_ll=as.numeric(logLik(m)),
            oprobit_var=VarCorr(p)$district[1], oprobit_ll=as.numeric(logLik(p)))
write(toJSON(out, digits=12, auto_unbox=TRUE), "tests/data/me_manual/icc_reference.json")
