"""hlmshell: a Stata-like shell and do-file interpreter for hierarchical linear models."""
__version__ = "0.1.0"
