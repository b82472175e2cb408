"""Results of commands: r() (RResults) and e() (EstimationResults), as Stata posts them.

Each estimation command's typed subclass is in its own module: hlmshell.results.mixed
(MixedResults) and hlmshell.results.regress (RegressResults). They are not imported here, so
that holding results (the session does) does not load the engine and scipy.
"""
from hlmshell.results.base import EstimationResults, RResults

__all__ = ["EstimationResults", "RResults"]
