# Reference fits for tests/test_glmm_engine.py: lme4::glmer with a tight PIRLS tolerance
# (glmer's default tolPwrss leaves the conditional modes ~1e-5 short in the log likelihood).
# Run from this directory: Rscript make_glmer_reference.R  (writes the CSVs and glmer_reference.json)
suppressMessages({library(lme4); library(mlmRev); library(jsonlite)})
ctrl <- glmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5), tolPwrss = 1e-13)
d <- Contraception
contra <- data.frame(use = as.integer(d$use == "Y"), age = d$age, urban = as.integer(d$urban == "Y"),
                     district = as.integer(d$district))
write.csv(contra, "contraception.csv", row.names = FALSE)
cb <- data.frame(incidence = cbpp$incidence, size = cbpp$size, period = as.integer(cbpp$period),
                 herd = as.integer(cbpp$herd))
write.csv(cb, "cbpp.csv", row.names = FALSE)
gt <- grouseticks
gr <- data.frame(ticks = gt$TICKS, year96 = as.integer(gt$YEAR == "96"), year97 = as.integer(gt$YEAR == "97"),
                 height = (gt$HEIGHT - 462.24) / 100, brood = as.integer(gt$BROOD))
write.csv(gr, "grouseticks.csv", row.names = FALSE)
out <- list()
rec <- function(m) list(logLik = as.numeric(logLik(m)), logLik_str = format(as.numeric(logLik(m)), digits = 17),
                        fixef = unname(fixef(m)), names = names(fixef(m)), theta = unname(getME(m, "theta")),
                        se = unname(sqrt(diag(as.matrix(vcov(m))))))
out$ri_laplace <- rec(glmer(use ~ age + urban + (1 | district), data = contra, family = binomial, control = ctrl))
out$ri_agq7 <- rec(glmer(use ~ age + urban + (1 | district), data = contra, family = binomial, nAGQ = 7, control = ctrl))
out$rs_laplace <- rec(glmer(use ~ age + urban + (urban | district), data = contra, family = binomial, control = ctrl))
out$probit_agq25 <- rec(glmer(use ~ age + urban + (1 | district), data = contra, family = binomial(link = "probit"), nAGQ = 25, control = ctrl))
out$cbpp_laplace <- rec(glmer(cbind(incidence, size - incidence) ~ factor(period) + (1 | herd), data = cb, family = binomial, control = ctrl))
out$ticks_laplace <- rec(glmer(ticks ~ year96 + year97 + height + (1 | brood), data = gr, family = poisson, control = ctrl))
out$ticks_agq7 <- rec(glmer(ticks ~ year96 + year97 + height + (1 | brood), data = gr, family = poisson, nAGQ = 7, control = ctrl))
out$ticks_agq25 <- rec(glmer(ticks ~ year96 + year97 + height + (1 | brood), data = gr, family = poisson, nAGQ = 25, control = ctrl))
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "glmer_reference.json")
