# Reference numbers for tests/test_sem_path_notation.py (lavaan, ML, observed information, fixed.x=FALSE: the joint log likelihood Stata's sem reports).
# Run: Rscript tests/data/sem_path_notation/make_reference.R > tests/data/sem_path_notation/reference.json
# Model 1: the fixed-effects-style growth model of a public do-file (mcapsi wide data), shared _cons@b, cesd@a, var(e.)@c.
suppressMessages(library(lavaan))
d <- read.csv("tests/data/sem_path_notation/mcapsi_wide2.csv")
d <- d[complete.cases(d[,c(paste0("drinkd_",1:4),paste0("cesd_",1:4))]),]
m <- '
U =~ 1*drinkd_1 + 1*drinkd_2 + 1*drinkd_3 + 1*drinkd_4
drinkd_1 ~ a*cesd_1 + b*1
drinkd_2 ~ a*cesd_2 + b*1
drinkd_3 ~ a*cesd_3 + b*1
drinkd_4 ~ a*cesd_4 + b*1
drinkd_1 ~~ c*drinkd_1
drinkd_2 ~~ c*drinkd_2
drinkd_3 ~~ c*drinkd_3
drinkd_4 ~~ c*drinkd_4
U ~~ U
U ~ 0*1
'
f <- sem(m, data=d, fixed.x=FALSE, information="observed")
pe <- parameterEstimates(f)
get <- function(l,o,r) { i <- which(pe$lhs==l & pe$op==o & pe$rhs==r); c(pe$est[i], pe$se[i]) }
fe <- list(n=nrow(d), ll=fitMeasures(f,"logl")[[1]], chi2=fitMeasures(f,"chisq")[[1]], df=fitMeasures(f,"df")[[1]],
  a=get("drinkd_1","~","cesd_1"), b=get("drinkd_1","~1",""), c=get("drinkd_1","~~","drinkd_1"), varU=get("U","~~","U"))

# Model 2: Bou & Satorra's multivariate panel model on data simulated like theirs (make_data below), cov(_LEx*_OEx) cov(z*u@0).

d <- read.csv("tests/data/sem_path_notation/panel_sim.csv")
m <- '
u =~ 1*y1 + 1*y2 + 1*y3 + 1*y4
y1 ~ x1 + z
y2 ~ x2 + z
y3 ~ x3 + z
y4 ~ x4 + z
u ~~ x1 + x2 + x3 + x4
u ~~ 0*z
u ~ 0*1
x1 ~~ x2 + x3 + x4 + z
x2 ~~ x3 + x4 + z
x3 ~~ x4 + z
x4 ~~ z
'
f <- sem(m, data=d, fixed.x=FALSE, information="observed", meanstructure=TRUE)
pe <- parameterEstimates(f)
get <- function(l,o,r) { i <- which(pe$lhs==l & pe$op==o & pe$rhs==r); c(pe$est[i], pe$se[i]) }
panel <- list(n=nrow(d), ll=fitMeasures(f,"logl")[[1]], chi2=fitMeasures(f,"chisq")[[1]], df=fitMeasures(f,"df")[[1]],
  y1_x1=get("y1","~","x1"), y2_z=get("y2","~","z"), y4_cons=get("y4","~1",""), var_e_y3=get("y3","~~","y3"),
  var_u=get("u","~~","u"), cov_x2_u=get("u","~~","x2"), cov_x1_z=get("x1","~~","z"), mean_x4=get("x4","~1",""))
# Model 3: their multivariate fixed-effects model (Table 4): _cons@alpha, x@b, z@g shared across
# equations, var(e._OEn@e) cov(_lex*_oex) cov(z*u@0).
m <- '
u =~ 1*y1 + 1*y2 + 1*y3 + 1*y4
y1 ~ b*x1 + g*z + alpha*1
y2 ~ b*x2 + g*z + alpha*1
y3 ~ b*x3 + g*z + alpha*1
y4 ~ b*x4 + g*z + alpha*1
y1 ~~ e*y1
y2 ~~ e*y2
y3 ~~ e*y3
y4 ~~ e*y4
u ~~ x1 + x2 + x3 + x4
u ~~ 0*z
u ~ 0*1
x1 ~~ x2 + x3 + x4 + z
x2 ~~ x3 + x4 + z
x3 ~~ x4 + z
x4 ~~ z
'
f <- sem(m, data=d, fixed.x=FALSE, information="observed", meanstructure=TRUE)
pe <- parameterEstimates(f)
get <- function(l,o,r) { i <- which(pe$lhs==l & pe$op==o & pe$rhs==r); c(pe$est[i], pe$se[i]) }
fe4 <- list(n=nrow(d), ll=fitMeasures(f,"logl")[[1]], chi2=fitMeasures(f,"chisq")[[1]], df=fitMeasures(f,"df")[[1]],
  b=get("y1","~","x1"), g=get("y1","~","z"), alpha=get("y1","~1",""), e=get("y1","~~","y1"),
  var_u=get("u","~~","u"), cov_x4_u=get("u","~~","x4"))
cat(jsonlite::toJSON(list(fe=fe, panel=panel, panel_fe=fe4), digits=12, auto_unbox=TRUE, pretty=TRUE))
