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

* Three levels: children within mothers within communities. Was a child fully immunized?
* Guatemalan survey (mlmRev's guImmun): 2,159 children of 1,595 mothers in 161 communities.
use guimmun, clear
melogit immun kid2p mom25p rural pcind81 || community: || mom:, nolog

* Two intraclass correlations: children of the same community, and of the same mother
* (who share her community too).
estat icc

* The same model under the name older course notes use (Stata 12's xtmelogit, now
* meqrlogit; the random effects as standard deviations), with the Laplace approximation,
* which is quicker but poor here: most mothers have one or two children, so the variances
* come out far too small (compare var(_cons) above with these sd(_cons) squared).
xtmelogit immun kid2p mom25p rural pcind81 || community: || mom:, laplace nolog
