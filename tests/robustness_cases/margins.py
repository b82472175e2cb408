"""margins (issue 14): a valid line on the sweep's hsb session (last model: mixed mathach ses
female || id:) and the qualifiers it takes."""
BASE = {"margins": "margins, at(ses=(-1 1))"}
TAKES = {"margins": "if in"}
RAW = set(globals().get("RAW", set())) | {"marginsplot"}   # needs a margins result first
