* Step 8: simulate a two-level dataset, describe it, and compare per-school OLS slopes
* with the model's BLUPs -- the everyday commands around a multilevel analysis.
cls
set seed 20261130

* 50 schools of 10-40 students: a random intercept and a random ses slope per school.
clear
set obs 50
generate school = _n
generate n_students = runiformint(10, 40)
generate u0 = rnormal(0, 2)
generate u1 = rnormal(0, 0.8)
generate public = runiform() < 0.5
expand n_students
bysort school: generate student = _n
generate ses = rnormal(0, 1)
generate math = 12 + 2.5*ses - 1.5*public + u0 + u1*ses + rnormal(0, 6)
label variable math "math achievement (simulated)"
label variable ses "socio-economic status (simulated)"
label define pub 0 "private" 1 "public"
label values public pub

* What is in the data.
codebook math ses public, compact
tabstat math ses, by(public) statistics(n mean sd min max)

* School means and each student's distance from them.
egen mean_math = mean(math), by(school)
egen sd_math = sd(math), by(school)
generate centred = math - mean_math
egen pick = tag(school)
summarize mean_math sd_math if pick

* Keep the student-level data aside while we collect per-school OLS slopes.
snapshot save, label("students")
statsby b_ses=_b[ses] se_ses=_se[ses], by(school) clear nodots: regress math ses
summarize b_ses se_ses
tempfile ols
save `ols'

* Back to the students: random intercept and slope, BLUPs of each school's slope.
snapshot restore 1
mixed math ses public || school: ses, covariance(unstructured) nolog
predict blup_ses blup_cons, reffects
generate slope_blup = _b[ses] + blup_ses
keep if pick
merge 1:1 school using `ols', nogenerate
correlate b_ses slope_blup
summarize b_ses slope_blup

* Shrinkage: the BLUP slopes vary less than the per-school OLS slopes.
generate shrink = slope_blup - _b[ses]
generate raw = b_ses - _b[ses]
summarize raw shrink

* The school-level table for a spreadsheet.
export excel school b_ses se_ses slope_blup using schools_slopes.xlsx, firstrow(variables) replace
