"""logit, logistic, probit, poisson (hlmshell/commands/glm_cmds.py)."""
BASE = {"logit": "logit minority ses", "logistic": "logistic minority ses",
        "probit": "probit minority ses", "poisson": "poisson minority ses"}
TAKES = {k: "if in weight" for k in BASE}     # fweight, pweight, iweight
BASE.update({"ologit": "ologit sector ses", "oprobit": "oprobit sector ses",
             "nbreg": "nbreg minority ses"})
TAKES.update({k: "if in" for k in ("ologit", "oprobit", "nbreg")})
BASE.update({"cloglog": "cloglog minority ses",
             "glm": "glm minority ses, family(binomial) link(cloglog)"})
TAKES.update({"cloglog": "if in weight", "glm": "if in"})
