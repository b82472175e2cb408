library(survival); library(jsonlite)
d <- read.csv("cl.csv")
f <- clogit(y ~ x1 + x2 + strata(grp), data=d, method="exact")
# one positive per group: keep the first positive row and all negatives of informative groups
d1 <- do.call(rbind, lapply(split(d, d$grp), function(g) { if (sum(g$y)==0 || all(g$y==1)) return(NULL); i <- which(g$y==1)[1]; g$y[-i][g$y[-i]==1] <- NA; g[!is.na(g$y),] }))
f1 <- clogit(y ~ x1 + x2 + strata(grp) + cluster(grp), data=d1, method="breslow")
f1e <- clogit(y ~ x1 + x2 + strata(grp), data=d1, method="exact")
write.csv(d1, "single.csv", row.names=FALSE)
cat(toJSON(list(exact=list(b=unname(coef(f)), se=unname(sqrt(diag(vcov(f)))), ll=f$loglik),
  single=list(b=unname(coef(f1e)), robust_se=unname(sqrt(diag(vcov(f1)))), n=nrow(d1), G=length(unique(d1$grp)))), digits=15, auto_unbox=TRUE))
