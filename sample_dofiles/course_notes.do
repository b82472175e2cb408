* SOCY7708: Hierarchical Linear Modeling -- Instructor: Natasha Sarkisian
* Class notes: HLM Model Building Strategies: Example
* (High School and Beyond: 7,185 students in 160 schools; Stata's mixed, ML)
*
* Replays the notes' 27 commands in order.  Run it with
*     hlmshell sample_dofiles/course_notes.do
* and check a replay against a Stata log with
*     hlmshell check sample_dofiles/course_notes.do sample_dofiles/course_notes_stata.log

use hsb, clear

* The notes use a three-category school size, "sized" (label "RECODE of size"):
* small schools below 500 students, medium up to 1,199, large from 1,200.
recode size (min/499=1) (500/1199=2) (1200/max=3), generate(sized)

* Let's follow the second (combined) model building strategy and evaluate a model
* where we consider two level 1 predictors -- ses and female, and two level 2
* predictors -- sector and a set of dummies for school size.  (Note that we could
* also consider two additional level 2 predictors that are aggregates of level 1
* predictors -- average school-level SES and gender composition of school; but we
* keep it simple for now.)
mixed mathach c.ses##c.sector c.ses##i.sized i.female##i.sector i.female##i.sized || id: ses female, cov(unstr)

* This model has problems with variance components -- let's test each of them.
* First ses:
mixed mathach c.ses##c.sector c.ses##i.sized i.female##i.sector i.female##i.sized || id: ses, cov(unstr)
estat ic
estimates store sesrandom

mixed mathach c.ses##c.sector c.ses##i.sized i.female##i.sector i.female##i.sized || id:
estimates store noslope
lrtest sesrandom noslope
estat ic

* BIC value is 12 points lower in the model without SES variance so it's
* preferred based on both BIC and LR test.  Now let's test the slope variance
* for female:
mixed mathach c.ses##c.sector c.ses##i.sized i.female##i.sector i.female##i.sized || id: female, cov(unstr)
estimates store femalerandom
estat ic
lrtest noslope femalerandom

* BIC value is 13 points lower in the model without FEMALE variance so it's
* preferred based on both BIC and LR test.  We conclude that neither level 1
* predictor needs a random slope.  However, we still want to investigate the
* cross-level interactions, so we estimate:
mixed mathach c.ses##c.sector c.ses##i.sized i.female##i.sector i.female##i.sized || id:

* Female main effect is not significant, but because there are significant
* interactions with it, we'd keep it.  Let's test for joint significance of
* other non-significant terms (doesn't include non-significant dummies in sets
* of dummies, sets should be evaluated as a whole):
test 1.female#1.sector=0
test 2.sized#c.ses=0, accumulate
test 3.sized#c.ses=0, accumulate

* We can jointly omit all those:
mixed mathach c.ses##c.sector i.female##i.sized || id:

* Finally, we should consider whether we want to simplify the coding of size --
* could we combine groups 2 and 3?
test 2.sized=3.sized
test 1.female#2.sized=1.female#3.sized, accumulate

* Indeed, they don't produce anything distinct, so we can combine them and use a
* single dummy for size -- small vs large.
tabulate sized, generate(sized_)
tabulate sized_1

* It is coded 1=small, 0=large.  We could also reverse code it if we'd like.
* So here is our final parsimonious model.  I will also compare it to the
* original one:
mixed mathach c.ses##c.sector i.female##i.sized_1 || id:
estat ic
lrtest . femalerandom
lrtest . sesrandom

* BIC is more than 40 points lower for this model than for the initial models
* with SES or FEMALE random slope, and LR test confirms that this parsimonious
* model fits just as well as those more complex ones, so we stick to this one.
