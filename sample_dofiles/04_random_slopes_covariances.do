* Step 4: random slopes and the structure of their covariance matrix.
* Does the effect of ses vary across schools, and is the slope correlated with the
* intercept?
use hsb, clear

* Random intercept only (the baseline).
mixed mathach ses || id:
estimates store intercept

* Random slope of ses, variances only: cov(independent) is the default with slopes.
mixed mathach ses || id: ses, covariance(independent)
estimates store independent

* Equal variances and one common covariance: exchangeable (meaningful only with two
* or more effects; here it forces the slope and the intercept to have the same
* variance, which fits much worse -- effects on different scales rarely share one).
mixed mathach ses || id: ses, covariance(exchangeable)
estimates store exchangeable

* Variances and the intercept-slope covariance all free: unstructured.
mixed mathach ses || id: ses, covariance(unstructured)
estimates store unstructured

* Each structure is nested in the next one.
lrtest independent intercept
lrtest unstructured independent
lrtest unstructured exchangeable
estimates stats intercept independent exchangeable unstructured
