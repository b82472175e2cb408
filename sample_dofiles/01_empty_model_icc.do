* Step 1 of a typical HLM course: the empty (unconditional, one-way ANOVA) model.
* How much of the variation in math achievement lies between schools?
use hsb, clear

* Students (level 1) nested in schools (level 2, id).  No predictors: a grand mean
* (_cons), a school random intercept with variance tau00 = var(_cons), and the
* student-level variance sigma2 = var(Residual).  REML, as Raudenbush & Bryk do.
mixed mathach || id:, reml

* The intraclass correlation: rho = tau00 / (tau00 + sigma2), the share of the
* total variance that is between schools (Raudenbush & Bryk: 8.614/(8.614+39.148)).
estat icc

* The same model by maximum likelihood (Stata's default), for later comparisons.
mixed mathach || id:
estat icc
