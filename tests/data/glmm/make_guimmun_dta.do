* Writes hlmshell/sample_data/guimmun.dta (shipped for sample_dofiles/10_binary_and_count.do)
* from guimmun.csv (make_multilevel_reference.R): the seven variables the do-file uses.
* Run from the project root: hlmshell tests/data/glmm/make_guimmun_dta.do
import delimited tests/data/glmm/guimmun.csv, clear asdouble
keep immun kid2p mom25p rural pcind81 mom cluster
rename cluster community
order immun kid2p mom25p rural pcind81 community mom
label variable immun "child fully immunized (1 = yes)"
label variable kid2p "child aged 2 years or more at the survey (1 = yes)"
label variable mom25p "mother aged 25 or more at the child's birth (1 = yes)"
label variable rural "rural community (1 = yes)"
label variable pcind81 "proportion indigenous in the community, 1981 census"
label variable community "community (161 in Guatemala)"
label variable mom "mother (1,595)"
compress
label data "mlmRev guImmun: 2,159 children of 1,595 mothers in 161 Guatemalan communities"
sort community mom
save hlmshell/sample_data/guimmun.dta, replace
