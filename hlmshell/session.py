"""The whole state of one hlmshell session.

Commands receive the Session and change it; the interpreter takes a snapshot before each
command and puts it back if the command raises a StataError, so a failure leaves the data,
macros, scalars, r()/e() results, stored estimates and the test chain exactly as they were.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from hlmshell.data.dataset import Dataset
from hlmshell.output.writer import Output
from hlmshell.results import EstimationResults, RResults


@dataclass
class TestChain:
    """Constraints accumulated by `test ..., accumulate` for one estimation (by serial)."""

    serial: int
    constraints: list[Any] = field(default_factory=list)


class Runner(Protocol):
    """What a handler may ask of the interpreter: run more code (do, run, include)."""

    def run_dofile(self, path, echo: bool = True, args: str = "") -> int: ...

    def run_include(self, path) -> None: ...


def _copy_results(obj):
    """A copy of r() or the test chain deep enough for a snapshot: the object and its dict /
    list fields are new (commands assign into them), the values (arrays, numbers) shared."""
    if obj is None:
        return None
    new = copy.copy(obj)
    for k, v in vars(new).items():
        if isinstance(v, (dict, list)):
            setattr(new, k, copy.copy(v))
    return new


class Session:
    def __init__(self, out: Output | None = None):
        self.data = Dataset()
        self.frame = "default"                      # the current frame's name (its data: self.data)
        self.frames: dict[str, Dataset] = {}        # the other frames by name (commands/frames.py)
        self.globals: dict[str, str] = {}
        self.locals: list[dict[str, str]] = [{}]   # one scope per running do-file / program
        self.scalars: dict[str, Any] = {}
        self.matrices: dict[str, Any] = {}
        self.r = RResults()
        self.e: EstimationResults | None = None
        self.estimates: dict[str, EstimationResults] = {}
        self.test_chain: TestChain | None = None
        self.constraints: dict[int, str] = {}       # constraint define: number -> its text (commands/constraint.py)
        self.out = out or Output()
        self.rc = 0                                 # _rc
        self.rng = np.random.default_rng(123456789)
        self.preserved: Dataset | None = None
        self.data_snapshots: dict = {}              # snapshot save/restore: # -> (label, time, Dataset) (commands/snapshot.py)
        self.estimation_serial = 0
        self.settings: dict[str, Any] = {"level": 95.0}
        self.by_restrict = None                     # bool mask of the by-group being run (interpreter)
        self.by_codes = None                        # every observation's by-group number then
        # -- what is running (the interpreter keeps these up to date; handlers read them) --
        self.programs: dict[str, Any] = {}          # user programs by name (interpreter.Program)
        self.loop_depth = 0                         # loops running in the current do-file/program
        self.nesting = 0                            # do-files + programs + includes running (max 64)
        self.r_pending: list[RResults | None] = []  # r() being built by running r-class programs
        self.runner: Runner | None = None           # runs code for handlers (do, run, include)
        self.interpreter = None                     # the driving interpreter (tests, debugging only)
        self.graphs = None                          # graphs in memory: hlmshell.graphics GraphStore

    def attach(self, interpreter, runner: "Runner") -> None:
        """Called by the interpreter that drives this session; handlers use `runner` only."""
        self.interpreter = interpreter
        self.runner = runner

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
    def snapshot(self) -> dict:
        """What restore() puts back after a failed command. Cheap, whatever the command:
        stored columns are read-only (copy-on-write, data/dataset.py), so the data is a
        shallow copy (new Variable objects sharing the arrays); matrices, r() and the test
        chain are only ever replaced, never written into, so their containers are copied and
        the arrays shared."""
        return {
            "data": self.data.copy(),
            "frame": self.frame,
            "frames": {k: v.copy() for k, v in self.frames.items()},
            "globals": dict(self.globals),
            "locals": [dict(d) for d in self.locals],
            "scalars": dict(self.scalars),
            "matrices": dict(self.matrices),
            "r": _copy_results(self.r),
            "e": self.e,
            "estimates": dict(self.estimates),
            "test_chain": _copy_results(self.test_chain),
            "constraints": dict(self.constraints),
            "preserved": self.preserved,
            "estimation_serial": self.estimation_serial,
            "settings": dict(self.settings),
            "programs": dict(self.programs),
        }

    def restore(self, snap: dict) -> None:
        """Put a snapshot back: attribute assignments only, no allocation (it must work right
        after a MemoryError)."""
        for k, v in snap.items():
            setattr(self, k, v)

    def print(self, text: str = "") -> None:
        self.out.line(text)
