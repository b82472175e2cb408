"""gsem (hlmshell/commands/gsem.py): a gaussian random intercept on the sweep's hsb session; its
own bad-input cases (paths, families, latent variables, options) are in tests/test_gsem.py."""
BASE = {"gsem": "gsem (mathach <- ses M1[id]), nolog"}
TAKES = {"gsem": "if in"}
