# The hybrid model xthybrid fits, built by hand: cluster means (B__) and deviations (W__) of
# union, married and exp; ed and black (time-invariant) as they are; random intercept by id,
# ML (lme4::lmer, REML = FALSE). Also the Mundlak (cre) form: the variables themselves plus
# their means (D__).
suppressMessages(library(lme4)); suppressMessages(library(jsonlite))
d <- read.csv("../wages_xt.csv")
for (v in c("union", "married", "exp")) {
  d[[paste0("B__", v)]] <- ave(d[[v]], d$id)
  d[[paste0("W__", v)]] <- d[[v]] - d[[paste0("B__", v)]]
}
one <- function(f) {
  m <- lmer(f, data = d, REML = FALSE)
  vc <- as.data.frame(VarCorr(m))
  list(b = unname(fixef(m)), se = unname(sqrt(diag(as.matrix(vcov(m))))),
       var_u = vc$vcov[1], var_e = vc$vcov[2], ll = as.numeric(logLik(m)))
}
out <- list(
  hybrid = one(lwage ~ ed + black + W__union + W__married + W__exp + B__union + B__married + B__exp + (1 | id)),
  cre = one(lwage ~ union + married + exp + ed + black + B__union + B__married + B__exp + (1 | id)))
write(toJSON(out, digits = 15, auto_unbox = TRUE, pretty = TRUE), "hybrid.json")
