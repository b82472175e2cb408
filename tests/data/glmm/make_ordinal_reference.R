# The ordinal outcome of tests/data/glmm/ordinal.csv (simulated from Contraception) and
# ordinal::clmm reference fits for tests/test_me_commands.py. Run from the project root.
suppressMessages({library(ordinal)})
d <- read.csv("/work/main/tests/data/glmm/contraception.csv")
set.seed(1)
u <- rnorm(60, sd=0.8)
d$y <- cut(0.04*d$age + 0.6*d$urban + u[d$district] + rlogis(nrow(d)), breaks=c(-Inf,-0.5,0.8,Inf), labels=FALSE)
write.csv(d, "/work/main/tests/data/glmm/ordinal.csv", row.names=FALSE)
for (lk in c("logit","probit")) {
m <- clmm(factor(y) ~ age + urban + (1|district), data=d, link=lk, nAGQ=1, control=clmm.control(gradTol=1e-8))
print(logLik(m), digits=14); print(coef(m), digits=10); print(VarCorr(m)$district[1], digits=10); print(sqrt(diag(vcov(m))), digits=8)
m7 <- clmm(factor(y) ~ age + urban + (1|district), data=d, link=lk, nAGQ=7, control=clmm.control(gradTol=1e-8))
print(logLik(m7), digits=14); print(coef(m7), digits=10); print(VarCorr(m7)$district[1], digits=10)
m0 <- clm(factor(y) ~ age + urban, data=d, link=lk); print(logLik(m0), digits=14)
}
