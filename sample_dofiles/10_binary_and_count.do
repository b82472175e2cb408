* Step 10: binary and count outcomes.
* Bangladesh Fertility Survey (1989): does a woman use contraception, by age and urban
* residence, 1,934 women in 60 districts.
use contraception, clear
describe

* One-level logistic regression: what the multilevel model is compared with.
logit use age urban, nolog
estimates store onelevel

* Random intercept by district (Stata's default: 7-point mean-variance adaptive quadrature).
melogit use age urban || district:
estimates store ri

* The same model as odds ratios.
melogit, or

* Latent-response intraclass correlation: var(_cons) / (var(_cons) + pi^2/3).
estat icc

* Each district's random intercept (posterior means) and the predicted probabilities.
predict re_district, reffects reses(se_district)
predict p_use
egen pickone = tag(district)
list district re_district se_district if pickone & district <= 5, noobs
summarize p_use

* Does the urban effect vary between districts? Random slope, correlated with the intercept.
melogit use age urban || district: urban, covariance(unstructured) nolog
estimates store rs
lrtest ri rs

* Counts with an exposure: male melanoma deaths in 354 European Community counties,
* expected deaths as the exposure, UV-B dose as the predictor, regions as groups.
use melanoma, clear
mepoisson deaths uvb || region:, exposure(expected) nolog
mepoisson, irr
