"""saveold: writes a file like save (kept out of the random walk, see SKIP)."""
BASE = {"saveold": "saveold x, replace"}
