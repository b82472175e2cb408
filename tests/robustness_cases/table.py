"""Robustness-sweep entries for inspect and Stata 17's table (tests/test_inspect_cmd.py,
tests/test_table_cmd.py)."""

BASE = {
    "inspect": "inspect mathach ses female",
    "table": "table sector female, statistic(mean mathach) statistic(sd mathach) nformat(%9.2f)",
}
TAKES = {"inspect": "if in", "table": "if in weight"}
