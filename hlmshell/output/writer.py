"""Where printed output goes, with Stata's quietly/noisily/capture semantics."""
from __future__ import annotations

import io
import sys


class Output:
    def __init__(self, stream=None):
        self.stream = stream  # None -> sys.stdout at write time (so pytest's capsys works)
        self.quiet = 0        # >0 inside quietly/capture
        self.logs: list = []  # open `log using` files receive everything shown

    def write(self, text: str) -> None:
        if self.quiet > 0:
            return
        (self.stream or sys.stdout).write(text)
        for f in self.logs:
            f.write(text)

    def line(self, text: str = "") -> None:
        self.write(text + "\n")

    def flush(self) -> None:
        (self.stream or sys.stdout).flush()


class Capture(Output):
    """An Output that keeps everything in memory (tests, `hlmshell check`)."""

    def __init__(self):
        super().__init__(io.StringIO())

    def getvalue(self) -> str:
        return self.stream.getvalue()
