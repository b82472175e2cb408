"""The whole state of one hlmshell session.

Commands receive the Session and change it; the interpreter takes a snapshot before each
command and puts it back if the command raises a StataError, so a failure leaves the data,
macros, scalars, r()/e() results, stored estimates and the test chain exactly as they were.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hlmshell.data.dataset import Dataset
from hlmshell.output.writer import Output
from hlmshell.results import EstimationResults, RResults


@dataclass
class TestChain:
    """Constraints accumulated by `test ..., accumulate` for one estimation (by serial)."""

    serial: int
    constraints: list[Any] = field(default_factory=list)


class Session:
    def __init__(self, out: Output | None = None):
        self.data = Dataset()
        self.globals: dict[str, str] = {}
        self.locals: list[dict[str, str]] = [{}]   # one scope per running do-file / program
        self.scalars: dict[str, Any] = {}
        self.matrices: dict[str, Any] = {}
        self.r = RResults()
        self.e: EstimationResults | None = None
        self.estimates: dict[str, EstimationResults] = {}
        self.test_chain: TestChain | None = None
        self.out = out or Output()
        self.rc = 0                                 # _rc
        self.rng = np.random.default_rng(123456789)
        self.preserved: Dataset | None = None
        self.estimation_serial = 0
        self.settings: dict[str, Any] = {"level": 95.0}
        self.interpreter = None                     # set by the interpreter that drives it
        self.by_restrict = None                     # bool mask of the by-group being run (interpreter)

    # -- macros -----------------------------------------------------------------------
    @property
    def local(self) -> dict[str, str]:
        return self.locals[-1]

    # -- estimation ---------------------------------------------------------------------
    def post_estimation(self, res: EstimationResults) -> None:
        """Make `res` the active results (e()); a new estimation resets the test chain."""
        self.estimation_serial += 1
        res.serial = self.estimation_serial
        self.e = res
        self.test_chain = None

    # -- transactional safety ------------------------------------------------------------
    def snapshot(self, data: bool = True) -> dict:
        """What restore() puts back after a failed command. The dataset is copied (the one
        big allocation) unless data=False: for a command that never changes the dataset in
        place it is kept by reference, so that `display`, `local`, `summarize` ... neither
        double the memory used nor fail for want of it after an r(909)."""
        return {
            "data": self.data.copy() if data else self.data,
            "globals": dict(self.globals),
            "locals": [dict(d) for d in self.locals],
            "scalars": dict(self.scalars),
            "matrices": copy.deepcopy(self.matrices),
            "r": copy.deepcopy(self.r),
            "e": self.e,
            "estimates": dict(self.estimates),
            "test_chain": copy.deepcopy(self.test_chain),
            "preserved": self.preserved,
            "estimation_serial": self.estimation_serial,
            "settings": dict(self.settings),
        }

    def restore(self, snap: dict) -> None:
        """Put a snapshot back: attribute assignments only, no allocation (it must work right
        after a MemoryError)."""
        for k, v in snap.items():
            setattr(self, k, v)

    def print(self, text: str = "") -> None:
        self.out.line(text)
