* Step 6: empirical Bayes predictions (BLUPs) of each school's random effects.
use hsb, clear

* Random intercept and random ses slope by school.
mixed mathach ses || id: ses, covariance(unstructured)

* The random effects are listed as in the model: the ses slope first, then _cons.
predict u1 u0, reffects reses(se_u1 se_u0)
label variable u0 "BLUP of the school intercept"
label variable u1 "BLUP of the school ses slope"

* One row per school, then a few schools.
egen pickone = tag(id)
list id u0 se_u0 u1 se_u1 if pickone & id < 1400, noobs
summarize u0 u1 if pickone

* Each school's own intercept and slope: fixed part plus its BLUP.
generate b0_school = _b[_cons] + u0
generate b1_school = _b[ses] + u1
summarize b0_school b1_school if pickone
