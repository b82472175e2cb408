"""Small official commands (infile/outfile, mark/markin, _pctile, stack, fvset, labelbook, move,
pcorr, qqplot, dotplot, xtdata): a valid line for each on the sweep's hsb session."""
BASE = {"infile": "infile a b using hsb_s.csv, clear",
        "outfile": "outfile id ses using out.raw, replace"}
TAKES = {"infile": "if in", "outfile": "if in"}
BASE.update({"mark": "mark touse", "markin": "markin in 1/50"})
TAKES.update({"mark": "if in weight", "markin": "if in"})
BASE.update({"xtdata": "xtdata mathach ses, fe clear i(id)"})
TAKES.update({"xtdata": "if in"})
BASE.update({"_pctile": "_pctile ses, p(10 90)"})
TAKES.update({"_pctile": "if in weight"})
BASE.update({"stack": "stack ses mathach, into(x) clear"})
TAKES.update({"stack": "if in"})
BASE.update({"move": "move ses id"})
NO_OPTIONS = {"move"}
BASE.update({"fvset": "fvset base 1 sector"})
BASE.update({"pcorr": "pcorr mathach ses female"})
TAKES.update({"pcorr": "if in weight"})
BASE.update({"qqplot": "qqplot mathach ses in 1/200", "dotplot": "dotplot ses in 1/200, over(sector)"})
TAKES.update({"qqplot": "if in", "dotplot": "if in"})
BASE.update({"labelbook": "labelbook yn"})
