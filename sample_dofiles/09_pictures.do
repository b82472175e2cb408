* Step 9: pictures of the model, and a table of models for the paper.
use hsb, clear

* Each school's own regression line (random intercept and slope), 20 schools.
mixed mathach ses || id: ses, covariance(unstructured) nolog
estimates store rs
predict yhat, fitted
egen school = group(id)
twoway line yhat ses if school <= 20, connect(L) sort(id ses) ///
    title("School regression lines (BLUPs)") ytitle("Predicted math achievement") ///
    name(lines, replace)
graph export school_lines.png, width(800) replace

* BLUP slopes against per-school OLS slopes: the BLUPs shrink towards the average slope.
predict u_ses u_cons, reffects
generate slope_blup = _b[ses] + u_ses
egen pick = tag(id)
preserve
statsby slope_ols=_b[ses], by(id) clear nodots: regress mathach ses
tempfile ols
save `ols'
restore
merge m:1 id using `ols', nogenerate
twoway (scatter slope_blup slope_ols if pick) (function y = x, range(-2 7)), ///
    title("BLUP against OLS slopes") xtitle("OLS slope of ses") ytitle("BLUP slope of ses") ///
    legend(off) name(shrinkage, replace)
graph export blup_vs_ols.png, width(800) replace

* The cross-level interaction: school sector changes the ses slope.
mixed mathach c.ses##i.sector || id:, nolog
estimates store cross
margins sector, at(ses=(-2(1)2))
marginsplot, title("Predicted math achievement by ses and sector") name(cross, replace)
graph export margins_sector.png, width(800) replace

* Level-2 residuals: are the school intercepts normal?
predict u_cons2, reffects
histogram u_cons2 if pick, normal title("School intercepts (BLUPs)") name(intercepts, replace)
graph export school_intercepts.png, width(800) replace

* Three nested models side by side.
mixed mathach || id:, nolog
estimates store empty
etable, estimates(empty rs cross) mstat(N) mstat(ll) mstat(aic) showstars showstarsnote ///
    title("Three models of math achievement")
etable, estimates(empty rs cross) mstat(N) mstat(ll) export(models.md, replace)
etable, estimates(empty rs cross) mstat(N) mstat(ll) export(models.html, replace)
