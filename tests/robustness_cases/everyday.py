"""Everyday commands real do-files use (issue 13, found by bench/dofile_coverage.py): numlabel
is swept; input reads the data lines after it and insheet needs a file, so both are RAW
(tests/test_input_command.py and tests/test_everyday_syntax_from_dofiles.py cover them)."""
BASE = {
    "numlabel": "numlabel _all, add",
}
RAW = {"input", "insheet"}
# ssc/net/findit/which/erase/mkdir/rmdir read their own words (file names, packages, search
# text); tests/test_everyday_syntax_from_dofiles.py covers them
RAW |= {"ssc", "net", "findit", "which", "erase", "mkdir", "rmdir"}
BASE["nlcom"] = "nlcom _b[ses]^2"
RAW |= {"xi"}
BASE.update({
    "xtile": "xtile sesq = ses, nq(4)",
    "pctile": "pctile sesp = ses, nq(4)",
    "mvdecode": "mvdecode ses, mv(-9)",
})
TAKES = {"xtile": "if in", "pctile": "if in", "mvdecode": "if in"}
BASE["ttest"] = "ttest mathach, by(sector)"
TAKES["ttest"] = "if in"
RAW |= {"vif"}          # needs regress results; the sweep's are mixed's
BASE["ci"] = "ci means ses"
TAKES["ci"] = "if in"
BASE["center"] = "center ses, pre(cc_)"
TAKES["center"] = "if in weight"
