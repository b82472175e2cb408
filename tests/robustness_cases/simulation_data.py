"""drawnorm and corr2data (hlmshell/commands/drawnorm.py): they take no if/in/weights; with
neither n() nor a new name they refuse (r(110) on existing names, r(4) on replacing data)."""
BASE = {"drawnorm": "drawnorm zz1 zz2",
        "corr2data": "corr2data zz1 zz2"}
TAKES = {"drawnorm": "", "corr2data": ""}
