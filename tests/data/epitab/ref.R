# R references for tests/test_epitab.py: Mantel-Haenszel odds ratio (Robins-Breslow-Greenland
# interval) and its chi2 without continuity correction; exact binomial interval for iri's
# rate ratio; Fisher's exact test of a 2x2 table.
library(jsonlite)
t <- array(c(10,40,5,60, 20,30,12,70, 3,50,2,45), dim=c(2,2,3))
m <- mantelhaen.test(t, correct=FALSE)
b <- binom.test(63, 78, 41000/85000)
f <- fisher.test(matrix(c(2,1342,59,11717), 2))
cat(toJSON(list(mh_or=unname(m$estimate), mh_ci=as.numeric(m$conf.int), mh_chi2=unname(m$statistic),
  binom_ci=as.numeric(b$conf.int), fisher_p=f$p.value), digits=15, auto_unbox=TRUE))
