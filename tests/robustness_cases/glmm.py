"""melogit and the other one-level GLMM commands (hlmshell/commands/me_glmm.py)."""
BASE = {
    "melogit": "melogit minority ses || id:, intmethod(laplace)",
    "meprobit": "meprobit minority ses || id:, intmethod(laplace)",
    "mecloglog": "mecloglog minority ses || id:, intmethod(laplace)",
    "mepoisson": "mepoisson minority ses || id:, intmethod(laplace)",
    "meologit": "meologit sector ses || id:, intmethod(laplace)",
    "meoprobit": "meoprobit sector ses || id:, intmethod(laplace)",
    "menbreg": "menbreg minority ses || id:, intmethod(laplace)",
    "meglm": "meglm minority ses || id:, family(bernoulli) link(logit) intmethod(laplace)",
}
# meqrlogit/meqrpoisson and their old names (hlmshell/commands/meqr.py): no weights
MEQR = {
    "meqrlogit": "meqrlogit minority ses || id:, laplace",
    "meqrpoisson": "meqrpoisson minority ses || id:, laplace",
    "xtmelogit": "xtmelogit minority ses || id:, laplace",
    "xtmepoisson": "xtmepoisson minority ses || id:, laplace",
}
TAKES = {k: "if in weight" for k in BASE}      # level-1 fweight/pweight/iweight
TAKES.update({k: "if in" for k in MEQR})
BASE.update(MEQR)
