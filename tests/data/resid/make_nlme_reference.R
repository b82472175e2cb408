## Reference fits for `mixed ..., residuals(...)` from R's nlme.
##
##   cd tests/data/resid && Rscript make_nlme_reference.R
##
## writes bodyweight.csv, ovary.csv, orthodont.csv (from nlme's BodyWeight, Ovary, Orthodont)
## and nlme_reference.json. Every fit is done on the CSV as written and read back, so hlmshell
## sees exactly the numbers nlme saw. hsb is read from ../../../hlmshell/sample_data/hsb.dta
## (haven) -- the same data as /work/shared/data/hsb.csv.
##
## Each model is fitted with nlminb (primary) and optim (check); both logLiks are recorded and
## a note is written when they differ in the 6th significant digit. If nlminb fails, the optim
## fit becomes the primary one (recorded in "optimizer").
##
## Column names are lower case (Stata's import delimited lower-cases names by default); load the
## CSVs with `import delimited tests/data/resid/FILE.csv, clear asdouble` (each model's "load"):
## without asdouble, real columns (ovary's time, sin2, cos2, tday) become float and the data
## are no longer the numbers nlme fitted.
##
## Parametrization (what the JSON records):
##  - sigma2: residual variance of the BASE level (first level in "varident_levels"; the
##    only level when there is no varIdent). With a correlation structure it is the marginal
##    variance Var(e_ij) (nlme's corStructs are correlation matrices).
##  - re_cov: random-effects covariance (variance metric), names as nlme ((Intercept) = _cons).
##  - corr: AR1 rho; CompSymm rho; ARMA phi1.. / theta1.. (nlme's sign: e_t = sum phi_k e_{t-k}
##    + a_t + sum theta_k a_{t-k}); corExp range and rho = exp(-1/range); corSymm matrix.
##  - varident: sd of each level / sd of the base level, levels in the order given.
suppressPackageStartupMessages(library(nlme))

if (!file.exists("make_nlme_reference.R"))
  stop("run from the directory holding make_nlme_reference.R")

## ---- datasets -------------------------------------------------------------------------------
first_seen <- function(f) { s <- as.character(f); match(s, unique(s)) }

bw0 <- as.data.frame(BodyWeight)
bw <- data.frame(weight = bw0$weight, time = bw0$Time, rat = first_seen(bw0$Rat),
                 diet = as.integer(as.character(bw0$Diet)))
bw$wk <- match(bw$time, sort(unique(bw$time)))

ov0 <- as.data.frame(Ovary)
ov <- data.frame(follicles = ov0$follicles, mare = first_seen(ov0$Mare), time = ov0$Time,
                 sin2 = sin(2 * pi * ov0$Time), cos2 = cos(2 * pi * ov0$Time))
stopifnot(all(tapply(ov$time, ov$mare, function(x) all(diff(x) > 0))))   # time-ordered
ov$t <- ave(seq_len(nrow(ov)), ov$mare, FUN = seq_along)
ov$tday <- 22 * ov$time          # real-valued time, ~1 unit between visits (spacing varies by mare)

or0 <- as.data.frame(Orthodont)
orth <- data.frame(distance = or0$distance, age = or0$age, subject = first_seen(or0$Subject),
                   female = as.integer(or0$Sex == "Female"))
orth$occ <- as.integer((orth$age - 8) / 2 + 1)

write_back <- function(d, file) {
  write.csv(d, file, row.names = FALSE, quote = FALSE)
  read.csv(file)
}
bw <- write_back(bw, "bodyweight.csv")
ov <- write_back(ov, "ovary.csv")
orth <- write_back(orth, "orthodont.csv")

HSB_DTA <- file.path("..", "..", "..", "hlmshell", "sample_data", "hsb.dta")
hsb <- if (requireNamespace("haven", quietly = TRUE) && file.exists(HSB_DTA)) {
  as.data.frame(haven::zap_labels(haven::read_dta(HSB_DTA)))
} else read.csv("/work/shared/data/hsb.csv")
hsb <- data.frame(mathach = as.numeric(hsb$mathach), female = as.integer(hsb$female),
                  id = as.integer(hsb$id))

## ---- the models -----------------------------------------------------------------------------
## r: the call, METHOD and CTRL filled in at fit time; stata: the hlmshell/Stata command (ML is
## Stata's default; " reml" is appended for REML); group: the residual-grouping variable;
## levels: varIdent levels, base first.
models <- list(
  a = list(data = "bodyweight.csv", d = "bw", group = "rat",
           stata = "mixed weight time || rat: time, cov(unstructured) residuals(ar 1, t(wk))",
           r = "lme(weight ~ time, data = bw, random = ~ time | rat, correlation = corAR1(form = ~ wk | rat), method = METHOD, control = CTRL)"),
  b = list(data = "bodyweight.csv", d = "bw", group = "rat",
           stata = "mixed weight time || rat: time, residuals(exchangeable)",
           r = "lme(weight ~ time, data = bw, random = list(rat = pdDiag(~ time)), correlation = corCompSymm(form = ~ 1 | rat), method = METHOD, control = CTRL)",
           note = paste("NOT IDENTIFIED: the random-intercept variance and the exchangeable",
                        "covariance both add a constant to every within-rat covariance; only",
                        "logLik, the fixed effects, their SEs, var(time) and the identified",
                        "combinations in 'identified' (J = var(_cons) + cov(e), I = var(e) - cov(e))",
                        "are comparable; var(_cons), sigma2 and rho are one arbitrary point of a",
                        "ridge (they differ between optimizers). See b2 for an identified version.")),
  b2 = list(data = "bodyweight.csv", d = "bw", group = "rat",
            stata = "mixed weight time || rat: time, noconstant residuals(exchangeable)",
            r = "lme(weight ~ time, data = bw, random = list(rat = pdDiag(~ time - 1)), correlation = corCompSymm(form = ~ 1 | rat), method = METHOD, control = CTRL)",
            note = "identified variant of b (extra): random slope only + exchangeable residuals"),
  c = list(data = "orthodont.csv", d = "orth", group = "subject", levels = c("1", "2", "3", "4"),
           stata = "mixed distance age female || subject:, noconstant residuals(unstructured, t(occ))",
           r = "gls(distance ~ age + female, data = orth, correlation = corSymm(form = ~ occ | subject), weights = varIdent(form = ~ 1 | occ), method = METHOD, control = CTRL)"),
  d = list(data = "orthodont.csv", d = "orth", group = "subject",
           stata = "mixed distance age female || subject:, residuals(ar 1, t(occ))",
           r = "lme(distance ~ age + female, data = orth, random = ~ 1 | subject, correlation = corAR1(form = ~ occ | subject), method = METHOD, control = CTRL)"),
  e = list(data = "ovary.csv", d = "ov", group = "mare",
           stata = "mixed follicles sin2 cos2 || mare:, residuals(ar 2, t(t))",
           r = "lme(follicles ~ sin2 + cos2, data = ov, random = ~ 1 | mare, correlation = corARMA(form = ~ t | mare, p = 2), method = METHOD, control = CTRL)"),
  f = list(data = "ovary.csv", d = "ov", group = "mare",
           stata = "mixed follicles sin2 cos2 || mare:, residuals(ma 1, t(t))",
           r = "lme(follicles ~ sin2 + cos2, data = ov, random = ~ 1 | mare, correlation = corARMA(form = ~ t | mare, q = 1), method = METHOD, control = CTRL)"),
  g = list(data = "ovary.csv", d = "ov", group = "mare",
           stata = "mixed follicles sin2 cos2 || mare:, residuals(exponential, t(t))",
           r = "lme(follicles ~ sin2 + cos2, data = ov, random = ~ 1 | mare, correlation = corExp(form = ~ t | mare), method = METHOD, control = CTRL)",
           note = paste("t is consecutive integers within Mare, so this is the AR(1) model with",
                        "rho = exp(-1/range) >= 0 (its logLik is checked against corAR1 in notes)")),
  g2 = list(data = "ovary.csv", d = "ov", group = "mare",
            stata = "mixed follicles sin2 cos2 || mare:, residuals(exponential, t(tday))",
            r = "lme(follicles ~ sin2 + cos2, data = ov, random = ~ 1 | mare, correlation = corExp(form = ~ tday | mare), method = METHOD, control = CTRL)",
            note = "extra: exponential in the real-valued tday = 22*time (unequal, non-integer spacing; rho per 1 unit of tday)"),
  h = list(data = "hlmshell/sample_data/hsb.dta", d = "hsb", group = "id", levels = c("0", "1"),
           stata = "mixed mathach female || id:, residuals(independent, by(female))",
           r = "lme(mathach ~ female, data = hsb, random = ~ 1 | id, weights = varIdent(form = ~ 1 | female), method = METHOD, control = CTRL)")
)

## the model as matrices, for the direct likelihood check (check_direct below): response, fixed
## and random design, time variable of the correlation, varIdent variable
design <- list(
  a  = list(y = "weight", x = ~ time, z = ~ time, t = "wk"),
  b  = list(y = "weight", x = ~ time, z = ~ time, t = "wk"),
  b2 = list(y = "weight", x = ~ time, z = ~ time - 1, t = "wk"),
  c  = list(y = "distance", x = ~ age + female, z = NULL, t = "occ", v = "occ"),
  d  = list(y = "distance", x = ~ age + female, z = ~ 1, t = "occ"),
  e  = list(y = "follicles", x = ~ sin2 + cos2, z = ~ 1, t = "t"),
  f  = list(y = "follicles", x = ~ sin2 + cos2, z = ~ 1, t = "t"),
  g  = list(y = "follicles", x = ~ sin2 + cos2, z = ~ 1, t = "t"),
  g2 = list(y = "follicles", x = ~ sin2 + cos2, z = ~ 1, t = "tday"),
  h  = list(y = "mathach", x = ~ female, z = ~ 1, t = NULL, v = "female"))

## optim's default start fails for AR(2) ("Coefficient matrix not invertible"): the optim
## check of e is then rerun from this start
optim_retry <- list(e = c("corARMA(form = ~ t | mare, p = 2)",
                          "corARMA(c(0.5, 0.1), form = ~ t | mare, p = 2)"))

ctrl_for <- function(r, opt) {
  if (startsWith(r, "gls("))
    glsControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10, msTol = 1e-12, opt = opt)
  else
    lmeControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10, msTol = 1e-12, opt = opt)
}

call_text <- function(r, method, opt) {
  ctl <- if (startsWith(r, "gls(")) "glsControl" else "lmeControl"
  sub("CTRL", sprintf("%s(maxIter = 500, msMaxIter = 500, tolerance = 1e-10, msTol = 1e-12, opt = \"%s\")",
                      ctl, opt),
      sub("METHOD", sprintf("\"%s\"", method), r, fixed = TRUE), fixed = TRUE)
}

fit <- function(r, method, opt) {
  env <- new.env()
  env$METHOD <- method
  env$CTRL <- ctrl_for(r, opt)
  for (nm in c("bw", "ov", "orth", "hsb")) assign(nm, get(nm), envir = env)
  tryCatch(eval(parse(text = r)[[1]], envir = env),
           error = function(e) structure(list(message = conditionMessage(e)), class = "fitError"))
}

## ---- extraction -------------------------------------------------------------------------------
stata_name <- function(x) ifelse(x == "(Intercept)", "_cons", x)

extract <- function(m, spec) {
  is_lme <- inherits(m, "lme")
  ms <- m$modelStruct
  beta <- if (is_lme) fixef(m) else coef(m)
  V <- vcov(m)
  sig2 <- m$sigma^2
  se_nlme <- NULL
  if (!is_lme && m$method == "ML") {
    ## gls scales vcov by sigma^2 estimated with N - p even under ML; Stata's (and lme's) ML
    ## vcov is (X' V^-1 X)^-1 at the ML estimates: rescale by (N - p) / N
    se_nlme <- unname(sqrt(diag(V)))
    V <- V * (m$dims$N - m$dims$p) / m$dims$N
  }
  out <- list(logLik = as.numeric(logLik(m)),
              logLik_str = format(as.numeric(logLik(m)), digits = 17),
              n_obs = if (is_lme) nrow(m$data) else m$dims$N,
              n_groups = length(unique(get(spec$d)[[spec$group]])),
              fixef = list(names = I(names(beta)), stata_names = I(stata_name(names(beta))),
                           values = I(unname(beta)), se = I(unname(sqrt(diag(V))))),
              vcov_fixef = unname(V))
  if (!is.null(se_nlme)) {
    out$fixef$se_nlme_gls <- I(se_nlme)
    out$se_note <- "se = nlme gls ML se * sqrt((N - p) / N), i.e. (X'V^-1X)^-1 at the ML fit, as Stata"
  }
  if (is_lme) {
    G <- as.matrix(ms$reStruct[[1]]) * sig2
    out$re_cov <- list(names = I(stata_name(colnames(G))), matrix = unname(G))
  }
  ## varIdent: per-level sd relative to the base (first) level of spec$levels
  base_sd <- sqrt(sig2)
  if (!is.null(ms$varStruct)) {
    rat <- coef(ms$varStruct, unconstrained = FALSE, allCoef = TRUE)   # sd / sd(nlme's reference)
    sds <- sqrt(sig2) * rat[spec$levels]
    base_sd <- sds[[1]]
    out$varident <- list(levels = I(spec$levels), sd_ratio = I(unname(sds / base_sd)),
                         var_by_level = I(unname(sds^2)),
                         nlme_reference_level = names(rat)[rat == 1][1])
  }
  out$sigma2 <- base_sd^2
  out$sigma2_nlme <- sig2
  cs <- ms$corStruct
  if (!is.null(cs)) {
    cc <- coef(cs, unconstrained = FALSE)
    if (inherits(cs, "corAR1")) {
      out$corr <- list(type = "ar1", rho = unname(cc))
      out$innovation_var <- out$sigma2 * (1 - cc[[1]]^2)
    } else if (inherits(cs, "corCompSymm")) {
      out$corr <- list(type = "exchangeable", rho = unname(cc), cov_e = unname(cc) * out$sigma2)
    } else if (inherits(cs, "corARMA")) {
      p <- attr(cs, "p"); q <- attr(cs, "q")
      out$corr <- list(type = "arma", p = p, q = q,
                       phi = I(unname(cc[seq_len(p)])), theta = I(unname(cc[p + seq_len(q)])))
      ## innovation variance (sigma2 is the marginal variance)
      if (q == 0) {
        acf <- ARMAacf(ar = cc[seq_len(p)], lag.max = p)[-1]
        out$innovation_var <- out$sigma2 * (1 - sum(cc[seq_len(p)] * acf))
      } else if (p == 0) {
        out$innovation_var <- out$sigma2 / (1 + sum(cc[seq_len(q)]^2))
      }
    } else if (inherits(cs, "corExp")) {
      out$corr <- list(type = "exponential", range = unname(cc[["range"]]),
                       rho = exp(-1 / unname(cc[["range"]])))
    } else if (inherits(cs, "corSymm")) {
      ## the full correlation matrix of a group with every occasion (levels in spec$levels order)
      g <- get(spec$d)
      full <- names(which(table(g[[spec$group]]) == length(spec$levels)))[1]
      R <- corMatrix(cs)[[full]]
      rows <- g[g[[spec$group]] == as.numeric(full), ]
      o <- order(rows$occ)
      R <- R[o, o]
      sdv <- out$varident$var_by_level^0.5
      out$corr <- list(type = "unstructured", matrix = unname(R))
      out$resid_cov <- list(levels = I(spec$levels), matrix = unname(outer(sdv, sdv) * R))
      if (!is_lme) {   # cross-check against getVarCov (its rows in the data order of `full`)
        Vg <- getVarCov(m, individual = full)[o, o]
        stopifnot(max(abs(Vg - out$resid_cov$matrix)) < 1e-8 * max(abs(Vg)))
      }
    }
  }
  if (identical(spec$key, "b")) {
    G <- out$re_cov$matrix
    rho <- out$corr$rho
    out$identified <- list(J = G[1, 1] + rho * out$sigma2, I = out$sigma2 * (1 - rho),
                           var_time = G[2, 2])
  }
  out
}

## The likelihood computed directly from the recorded parameters (re_cov, sigma2, corr,
## varident) with textbook formulas -- checks both nlme's number and the parametrization the
## JSON documents: V_i = Z_i G Z_i' + S_i R_i S_i, R_i from corr, S_i = diag(sd by level).
check_direct <- function(res, spec, des, method) {
  d <- get(spec$d)
  y <- d[[des$y]]
  X <- model.matrix(des$x, d)
  Z <- if (is.null(des$z)) NULL else model.matrix(des$z, d)
  sd <- rep(sqrt(res$sigma2), nrow(d))
  if (!is.null(des$v))
    sd <- sqrt(res$varident$var_by_level)[match(as.character(d[[des$v]]), res$varident$levels)]
  cr <- res$corr
  corf <- function(ti) {
    n <- length(ti)
    if (is.null(cr)) return(diag(n))
    lag <- abs(outer(ti, ti, "-"))
    switch(cr$type,
           ar1 = cr$rho^lag,
           exponential = cr$rho^lag,
           exchangeable = { R <- matrix(cr$rho, n, n); diag(R) <- 1; R },
           arma = { acf <- ARMAacf(ar = cr$phi, ma = cr$theta, lag.max = max(lag))
                    matrix(acf[lag + 1], n) },
           unstructured = cr$matrix[ti, ti])
  }
  p <- ncol(X); A <- matrix(0, p, p); b <- numeric(p); ldV <- 0; wx <- list(); wy <- list()
  for (idx in split(seq_len(nrow(d)), d[[spec$group]])) {
    ti <- if (is.null(des$t)) seq_along(idx) else d[[des$t]][idx]
    V <- outer(sd[idx], sd[idx]) * corf(ti)
    if (!is.null(Z)) V <- V + Z[idx, , drop = FALSE] %*% res$re_cov$matrix %*% t(Z[idx, , drop = FALSE])
    U <- chol(V)
    ldV <- ldV + 2 * sum(log(diag(U)))
    xi <- backsolve(U, X[idx, , drop = FALSE], transpose = TRUE)
    yi <- backsolve(U, y[idx], transpose = TRUE)
    A <- A + crossprod(xi); b <- b + drop(crossprod(xi, yi))
    wx[[length(wx) + 1]] <- xi; wy[[length(wy) + 1]] <- yi
  }
  beta <- solve(A, b)
  rss <- sum(mapply(function(xi, yi) sum((yi - xi %*% beta)^2), wx, wy))
  ll <- -0.5 * (nrow(d) * log(2 * pi) + ldV + rss)
  if (method == "REML") ll <- ll - 0.5 * as.numeric(determinant(A)$modulus) + 0.5 * p * log(2 * pi)
  se <- sqrt(diag(solve(A)))
  list(logLik = ll, logLik_diff = ll - res$logLik,
       beta_max_rel_diff = max(abs(beta - res$fixef$values) / pmax(abs(res$fixef$values), 1e-8)),
       se_max_rel_diff = max(abs(se - res$fixef$se) / res$fixef$se))
}

rel_digits_agree <- function(a, b) abs(a - b) <= 5e-6 * abs(b)   # 6th significant digit

ref <- list(generated_by = "make_nlme_reference.R",
            R = paste(R.version$major, R.version$minor, sep = "."),
            nlme = as.character(packageVersion("nlme")),
            control = "maxIter = 500, msMaxIter = 500, tolerance = 1e-10, msTol = 1e-12, default EM",
            conventions = c(
              "logLik: nlme's (REML: the restricted likelihood without a log|X'X| term, as lme4 and Stata)",
              "sigma2: residual variance of the base level (first of varident$levels); with a correlation structure, the marginal Var(e_ij)",
              "innovation_var: AR/MA innovation variance implied by sigma2 (recorded in case Stata reports that instead of the marginal variance)",
              "re_cov: random-effects covariance in the variance metric; names _cons/varnames",
              "corr ar1/exchangeable: rho; arma: phi (AR), theta (MA, e_t = a_t + theta a_{t-1}); exponential: range and rho = exp(-1/range); unstructured: correlation matrix",
              "varident: sd(level)/sd(base), levels base first; var_by_level = sigma2 * ratio^2",
              "stata: ML is Stata's default; the REML entry appends ' reml'; run after load (from the project root)"),
            models = list())

for (key in names(models)) {
  spec <- models[[key]]
  spec$key <- key
  load <- if (endsWith(spec$data, ".csv"))
    sprintf("import delimited tests/data/resid/%s, clear asdouble", spec$data) else "use hsb, clear"
  entry <- list(data = spec$data, load = load, stata = spec$stata, r = spec$r)
  if (!is.null(spec$note)) entry$note <- spec$note
  for (method in c("ML", "REML")) {
    m1 <- fit(spec$r, method, "nlminb")
    m2 <- fit(spec$r, method, "optim")
    notes <- character(0)
    if (inherits(m2, "fitError") && !is.null(optim_retry[[key]])) {
      notes <- c(notes, sprintf("optim from the default start failed (%s); rerun from %s",
                                m2$message, optim_retry[[key]][2]))
      m2 <- fit(sub(optim_retry[[key]][1], optim_retry[[key]][2], spec$r, fixed = TRUE),
                method, "optim")
    }
    primary <- m1; opt <- "nlminb"
    if (inherits(m1, "fitError")) {
      notes <- c(notes, paste("nlminb failed:", m1$message))
      primary <- m2; opt <- "optim"
    }
    if (inherits(primary, "fitError")) {
      entry[[method]] <- list(error = paste(notes, "optim failed:", m2$message))
      next
    }
    res <- extract(primary, spec)
    res <- c(list(stata = if (method == "ML") spec$stata else paste(spec$stata, "reml"),
                  optimizer = opt, r_call = call_text(spec$r, method, opt)), res)
    if (!inherits(m2, "fitError") && !inherits(m1, "fitError")) {
      l1 <- as.numeric(logLik(m1)); l2 <- as.numeric(logLik(m2))
      res$logLik_optim <- l2
      if (!rel_digits_agree(l1, l2))
        notes <- c(notes, sprintf("optimizers disagree: nlminb %.10f, optim %.10f", l1, l2))
      if (opt == "nlminb" && l2 > l1 + 1e-7)
        notes <- c(notes, sprintf("optim found a higher logLik (+%.3g)", l2 - l1))
    } else if (inherits(m2, "fitError")) {
      notes <- c(notes, paste("optim failed:", m2$message))
    }
    if (key == "g") {      # corExp on consecutive integers == corAR1 (rho >= 0)
      a1 <- fit(sub("corExp(form = ~ t | mare)", "corAR1(form = ~ t | mare)", spec$r, fixed = TRUE),
                method, "nlminb")
      if (!inherits(a1, "fitError"))
        notes <- c(notes, sprintf("corAR1(form = ~ t | mare) logLik %.10f (rho %.8f) vs corExp %.10f",
                                  as.numeric(logLik(a1)),
                                  coef(a1$modelStruct$corStruct, unconstrained = FALSE),
                                  res$logLik))
    }
    res$check <- check_direct(res, spec, design[[key]], method)
    if (abs(res$check$logLik_diff) > 1e-6 || res$check$beta_max_rel_diff > 1e-5 ||
        res$check$se_max_rel_diff > 1e-5)
      notes <- c(notes, "DIRECT LIKELIHOOD CHECK FAILED")
    res$notes <- I(notes)
    entry[[method]] <- res
  }
  ref$models[[key]] <- entry
}

## ---- JSON (numbers at full precision: shortest of %.15g/%.16g/%.17g that round-trips) ---------
num <- function(x) {
  if (is.na(x)) return("null")
  if (!is.finite(x)) return("null")
  for (d in 15:17) { s <- sprintf(paste0("%.", d, "g"), x); if (as.numeric(s) == x) return(s) }
  s
}
esc <- function(s) {
  s <- gsub("\\\\", "\\\\\\\\", s); s <- gsub("\"", "\\\\\"", s); s <- gsub("\n", "\\\\n", s)
  paste0("\"", s, "\"")
}
to_json <- function(x, ind = "") {
  nxt <- paste0(ind, "  ")
  if (is.null(x)) return("null")
  if (is.matrix(x))
    return(paste0("[", paste(apply(x, 1, function(r) paste0("[", paste(vapply(r, num, ""), collapse = ", "), "]")),
                             collapse = paste0(",\n", nxt, " ")), "]"))
  if (is.list(x)) {
    if (!is.null(names(x))) {
      items <- vapply(names(x), function(n) paste0(nxt, esc(n), ": ", to_json(x[[n]], nxt)), "")
      return(paste0("{\n", paste(items, collapse = ",\n"), "\n", ind, "}"))
    }
    return(paste0("[", paste(vapply(x, to_json, "", ind = nxt), collapse = ", "), "]"))
  }
  one <- function(v) if (is.character(v)) esc(v) else if (is.logical(v)) tolower(as.character(v)) else num(v)
  vals <- vapply(as.list(unclass(x)), one, "")
  if (length(x) == 1 && !inherits(x, "AsIs")) return(vals)
  paste0("[", paste(vals, collapse = ", "), "]")
}
writeLines(to_json(ref), "nlme_reference.json")

## ---- summary -----------------------------------------------------------------------------------
for (key in names(ref$models)) for (method in c("ML", "REML")) {
  r <- ref$models[[key]][[method]]
  if (!is.null(r$error)) { cat(sprintf("%-3s %-5s ERROR %s\n", key, method, r$error)); next }
  cat(sprintf("%-3s %-5s %-7s logLik %s  optim %s  direct %.1e%s\n", key, method, r$optimizer, r$logLik_str,
              if (is.null(r$logLik_optim)) "-" else format(r$logLik_optim, digits = 12),
              r$check$logLik_diff,
              if (length(r$notes)) paste0("  [", paste(r$notes, collapse = "; "), "]") else ""))
}
