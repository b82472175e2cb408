* Step 7: growth curves for repeated measures.
* Potthoff & Roy (1964): the distance (mm) from the pituitary to the pterygomaxillary
* fissure of 27 children, measured at ages 8, 10, 12 and 14; one row per child.
use orthodont_wide, clear
describe

* One row per child and age: the long layout that mixed needs.
reshape long dist, i(subject) j(age)
generate occasion = (age - 6)/2
generate age11 = age - 11
label variable age11 "age - 11 (years)"

* Each child's own intercept and growth rate around the average curve.
mixed dist age11 female || subject: age11, covariance(unstructured) reml nolog
estimates store slope

* Errors of the same child that are closer in time are more alike: AR(1) within child,
* in units of the measurement occasion (two years apart).
mixed dist age11 female || subject: age11, covariance(unstructured) ///
    residuals(ar 1, t(occasion)) reml nolog
estimates store ar1

* Does the AR(1) correlation improve the model? (REML, same fixed part: comparable.)
lrtest slope ar1

* The correlation of one child's four measurements that the AR(1) model implies.
estat wcorrelation, at(subject=1)

* The same growth model as a marginal model: no random effects, an unstructured
* covariance of the four measurements (what a repeated-measures ANOVA would assume,
* without its sphericity).
mixed dist age11 female || subject:, noconstant residuals(unstructured, t(age)) reml nolog
estat wcorrelation, covariance at(subject=1)
